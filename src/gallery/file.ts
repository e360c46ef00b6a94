/**
 * Gallery files on disk (Node only): atomic save, checked load, and read-modify-write under a
 * lock file so that processes sharing a gallery never lose each other's changes.
 */
import { FileNotFoundError, IncompatibleFileError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { withFileLock, type FileLockOptions } from '../util/file-lock.js';
import { nodeBuiltins } from '../runtime/node-platform.js';
import type { Embedder } from '../face/embedding.js';
import type { Gallery, GalleryOptions } from './gallery.js';
import { decodeGallery, encodeGallery, type GalleryExpectation } from './format.js';

/**
 * Write `gallery` to `path` atomically (temporary file + rename): never a half-written file.
 * The write is made under the gallery's lock file, but it replaces whatever is there: to add
 * to a gallery that other processes may also be writing, use {@link updateGallery}.
 */
export async function saveGallery(gallery: Gallery, path: string, lock: FileLockOptions = {}): Promise<void> {
  const bytes = await encodeGallery(gallery);
  await withFileLock(path, () => writeFileAtomic(path, bytes), lock);
}

/** Options of {@link loadGallery}. */
export interface LoadGalleryOptions {
  /**
   * The model / preprocessing the gallery must have been made with: an {@link Embedder}
   * (its fingerprint, preprocessing and dimension are checked) or an explicit expectation.
   * Default: nothing checked.
   */
  expect?: GalleryExpectation | Pick<Embedder, 'fingerprint' | 'preprocessing' | 'dimension'>;
  /** Matrix storage options (scan backend). */
  storage?: GalleryOptions['storage'];
}

/** Read the bytes of a gallery file, turning file-system failures into typed errors. */
async function readGalleryBytes(path: string): Promise<Uint8Array> {
  const { readFile } = nodeBuiltins('reading gallery files').fsp;
  try {
    const bytes = await readFile(path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileNotFoundError(path, 'gallery file');
    if (code === 'EISDIR') throw new IncompatibleFileError(path, 'is a directory, not a gallery file');
    if (code === 'ENOTDIR') throw new FileNotFoundError(path, 'gallery file (a parent of the path is not a directory)');
    if (code === 'ELOOP') throw new IncompatibleFileError(path, 'symbolic link loop');
    if (code === 'EACCES' || code === 'EPERM') throw new IncompatibleFileError(path, 'permission denied');
    throw e;
  }
}

function expectation(opts: LoadGalleryOptions): GalleryExpectation | undefined {
  return opts.expect
    ? {
        fingerprint: opts.expect.fingerprint,
        preprocessing: opts.expect.preprocessing ? { ...opts.expect.preprocessing } : undefined,
        dimension: opts.expect.dimension,
      }
    : undefined;
}

/**
 * Read a gallery file.
 * @throws {FileNotFoundError} when it does not exist (or a parent of the path is a file).
 * @throws {IncompatibleFileError} when it is a directory, unreadable, damaged, truncated,
 *   not a gallery, or was made with another model or preprocessing than `expect`.
 */
export async function loadGallery(path: string, opts: LoadGalleryOptions = {}): Promise<Gallery> {
  if (typeof path !== 'string' || path === '') throw new FileNotFoundError(String(path), 'gallery file (no path given)');
  const bytes = await readGalleryBytes(path);
  return decodeGallery(bytes, path, { expect: expectation(opts), storage: opts.storage });
}

/** Options of {@link updateGallery}. */
export interface UpdateGalleryOptions extends LoadGalleryOptions {
  /** Lock file timing. */
  lock?: FileLockOptions;
}

/**
 * Read-modify-write a gallery file that other processes may be writing too: under the
 * gallery's lock file, read the file as it is now (`null` when it does not exist yet), let
 * `update` change it (or return a new gallery for a missing file), and write the result
 * atomically. Changes made by other processes before the lock was taken are kept.
 * @returns the gallery as written.
 * @throws {LockTimeoutError} when another process holds the lock too long.
 */
export async function updateGallery(
  path: string,
  update: (current: Gallery | null) => Gallery | Promise<Gallery>,
  opts: UpdateGalleryOptions = {},
): Promise<Gallery> {
  const { fs } = nodeBuiltins('writing gallery files');
  return withFileLock(
    path,
    async () => {
      const current = fs.existsSync(path) ? await loadGallery(path, opts) : null;
      const next = await update(current);
      await writeFileAtomic(path, await encodeGallery(next));
      return next;
    },
    opts.lock,
  );
}
