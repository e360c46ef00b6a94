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
import { FacenetError, FileNotFoundError } from '../errors.js';
import type { Embedder } from '../face/embedding.js';
import type { ImageInput } from '../image/types.js';
import type { Gallery } from '../gallery/gallery.js';
import { assertGalleryMatchesEmbedder } from './identify.js';
import { isImageFile } from '../datasets/images.js';
import { listFolder } from '../datasets/folders.js';

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
          if (f.kind === 'file' && isImageFile(f.name)) sources.push({ name: opts.name ?? e.name, path: f.path });
          else ignored.push(f.path);
        }
      } else if (e.kind === 'file' && isImageFile(e.name)) {
        sources.push({ name: opts.name ?? nodePath.basename(e.name, nodePath.extname(e.name)), path: e.path });
      } else {
        ignored.push(e.path);
      }
    }
  }
  return { sources, ignored };
}

/** What {@link enrollImages} did. */
export interface EnrollReport {
  enrolled: EnrollSource[];
  /** Images that could not be enrolled (no face, unreadable), with the reason. */
  failed: { path: string; name: string; reason: string; code: string }[];
}

/**
 * Embed the main face of every image and add it to its identity. Images without a face
 * or that cannot be read are reported and skipped; the rest go on.
 * @throws {IncompatibleFileError} when the gallery was made with another model or preprocessing.
 */
export async function enrollImages(
  gallery: Gallery,
  embedder: Embedder,
  sources: readonly EnrollSource[],
  opts: { onProgress?: (done: number, total: number, source: EnrollSource) => void } = {},
): Promise<EnrollReport> {
  assertGalleryMatchesEmbedder(gallery, embedder);
  const report: EnrollReport = { enrolled: [], failed: [] };
  let done = 0;
  for (const src of sources) {
    try {
      const [embedding] = await embedder.embed([src.path]);
      gallery.add(src.name, embedding, [src.path]);
      report.enrolled.push(src);
    } catch (e) {
      if (!(e instanceof FacenetError)) throw e;
      report.failed.push({ path: src.path, name: src.name, reason: e.message, code: e.code });
    }
    opts.onProgress?.(++done, sources.length, src);
  }
  return report;
}
