/**
 * Enrolling people from image files and identifying the faces of images (Node only).
 *
 * Inputs name identities in one of the ways the seed project and davidsandberg/facenet
 * use:
 * - a folder of folders: each sub-folder is one person (`people/amy/amy1.png`), like a
 *   training set;
 * - a folder of images: each image is one person, named after the file (`pictures/KrisWu.jpg`
 *   → "KrisWu"), like the seed's `pictures/`;
 * - single image files: one person each, named after the file;
 * - with an explicit name, every image given belongs to that person.
 */
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { ConfigError, FacenetError, FileNotFoundError } from '../errors.js';
import { settledInOrder } from '../util/in-order.js';
import type { Embedder } from '../face/embedding.js';
import type { ImageInput } from '../image/types.js';
import { checkIdentityName, type Gallery } from '../gallery/gallery.js';
import { assertGalleryMatchesEmbedder } from './identify.js';
import { isImageFile } from '../datasets/images.js';
import { isImageEntry, listFolder } from '../datasets/folders.js';

/** One image and the identity it enrolls. */
export interface EnrollSource {
  name: string;
  path: string;
}

/**
 * Turn command-line style inputs into (identity, image) pairs (see the module comment).
 * Hidden files are skipped; other non-image files are reported in `ignored`.
 * @param opts.name put every image under this identity.
 * @throws {FileNotFoundError} for an input that does not exist.
 */
export async function listEnrollmentSources(
  inputs: readonly string[],
  opts: { name?: string } = {},
): Promise<{ sources: EnrollSource[]; ignored: string[] }> {
  const sources: EnrollSource[] = [];
  const ignored: string[] = [];
  for (const input of inputs) {
    let s;
    try {
      s = await fsp.stat(input);
    } catch {
      throw new FileNotFoundError(input, 'image or folder');
    }
    if (!s.isDirectory()) {
      if (isImageFile(input)) sources.push({ name: opts.name ?? nodePath.basename(input, nodePath.extname(input)), path: input });
      else ignored.push(input);
      continue;
    }
    // listFolder follows symbolic links: a linked person folder is enrolled like a real one.
    for (const e of await listFolder(input)) {
      if (e.kind === 'dir') {
        for (const f of await listFolder(e.path)) {
          if (isImageEntry(f)) sources.push({ name: opts.name ?? e.name, path: f.path });
          else ignored.push(f.path);
        }
      } else if (isImageEntry(e)) {
        sources.push({ name: opts.name ?? nodePath.basename(e.name, nodePath.extname(e.name)), path: e.path });
      } else {
        ignored.push(e.path);
      }
    }
  }
  return { sources, ignored };
}

/** An image that failed to enroll, with the typed error's message and code. */
export interface EnrollFailure {
  path: string;
  name: string;
  reason: string;
  code: string;
}

/** What {@link enrollImages} did. */
export interface EnrollReport {
  enrolled: EnrollSource[];
  /** Images that could not be enrolled (no face, unreadable), with the reason. */
  failed: EnrollFailure[];
  /**
   * Images left out because their identity already holds an embedding of the same file
   * (same absolute path): enrolling a folder again does not double it.
   */
  skipped: EnrollSource[];
}

/** An image's embedding, ready to be added to a gallery. */
export interface EnrolledEmbedding {
  source: EnrollSource;
  embedding: Float32Array;
}

/**
 * The source recorded for an enrolled image: its absolute path, so that runs from different
 * working directories recognise the same file.
 */
export function enrollmentSourceKey(path: string): string {
  return nodePath.resolve(path);
}

/** Whether `gallery` already holds an embedding of `source` under its identity. */
export function isEnrolled(gallery: Gallery, source: EnrollSource): boolean {
  const key = enrollmentSourceKey(source.path);
  return gallery.sourcesOf(source.name).some((s) => s !== undefined && enrollmentSourceKey(s) === key);
}

/** Embeds one image's main face: e.g. `(path) => pool.embed(path)` on a `FacePool`'s workers. */
export type MainFaceEmbedding = (path: string) => Promise<Float32Array>;

/**
 * Embed the main face of every image (nothing is added to a gallery). Images without a face
 * or that cannot be read are reported in `failed`, and the rest go on.
 * @param embedder a model, or a function embedding one image (workers, say).
 * @param opts.window images embedded at once (default 1); with workers, a few per worker
 *   keeps them busy. Results and progress stay in input order.
 * @throws {ConfigError} for a `window` that is not an integer ≥ 1.
 */
export async function embedEnrollment(
  embedder: Embedder | MainFaceEmbedding,
  sources: readonly EnrollSource[],
  opts: { window?: number; onProgress?: (done: number, total: number, source: EnrollSource) => void } = {},
): Promise<{ embedded: EnrolledEmbedding[]; failed: EnrollFailure[] }> {
  const embedOne: MainFaceEmbedding = typeof embedder === 'function' ? embedder : async (path) => (await embedder.embed([path]))[0]!;
  const window = opts.window ?? 1;
  if (!(Number.isInteger(window) && window >= 1)) throw new ConfigError('window', `must be an integer ≥ 1, got ${window}`);
  const embedded: EnrolledEmbedding[] = [];
  const failed: EnrollFailure[] = [];
  const outcomes = settledInOrder(sources, window, async (source) => {
    // A name no gallery can hold (a file name with a line feed…) fails this image alone,
    // before the work of embedding it, not the whole batch when it is added.
    checkIdentityName(source.name);
    return embedOne(source.path);
  });
  for await (const { item: source, index, result } of outcomes) {
    if (result.status === 'fulfilled') {
      embedded.push({ source, embedding: result.value });
    } else {
      const e = result.reason;
      if (!(e instanceof FacenetError)) throw e;
      failed.push({ path: source.path, name: source.name, reason: e.message, code: e.code });
    }
    opts.onProgress?.(index + 1, sources.length, source);
  }
  return { embedded, failed };
}

/**
 * Add embeddings to `gallery`, each under its identity with its absolute path as source,
 * leaving out those whose file that identity already holds. Safe to repeat: this is how a
 * run's embeddings are merged into a gallery another process has changed meanwhile.
 */
export function addEnrolled(
  gallery: Gallery,
  embedded: readonly EnrolledEmbedding[],
): { added: EnrollSource[]; skipped: EnrollSource[] } {
  const added: EnrollSource[] = [];
  const skipped: EnrollSource[] = [];
  for (const { source, embedding } of embedded) {
    if (isEnrolled(gallery, source)) {
      skipped.push(source);
      continue;
    }
    gallery.add(source.name, embedding, [enrollmentSourceKey(source.path)]);
    added.push(source);
  }
  return { added, skipped };
}

/**
 * Embed the main face of every image and add it to its identity. Images without a face
 * or that cannot be read are reported and skipped; the rest go on. Images the gallery
 * already holds for the same identity are not embedded again (`skipped`).
 * For a gallery file that other processes may write too, embed with {@link embedEnrollment}
 * and add with {@link addEnrolled} inside `updateGallery`.
 * @throws {IncompatibleFileError} when the gallery was made with another model or preprocessing.
 */
export async function enrollImages(
  gallery: Gallery,
  embedder: Embedder,
  sources: readonly EnrollSource[],
  opts: { onProgress?: (done: number, total: number, source: EnrollSource) => void } = {},
): Promise<EnrollReport> {
  assertGalleryMatchesEmbedder(gallery, embedder);
  const fresh = sources.filter((s) => !isEnrolled(gallery, s));
  const already = sources.filter((s) => isEnrolled(gallery, s));
  const { embedded, failed } = await embedEnrollment(embedder, fresh, opts);
  const { added, skipped } = addEnrolled(gallery, embedded);
  return { enrolled: added, failed, skipped: [...already, ...skipped] };
}
