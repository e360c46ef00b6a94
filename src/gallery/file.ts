/** Gallery files on disk (Node only): atomic save, checked load. */
import { FileNotFoundError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Embedder } from '../face/embedding.js';
import type { Gallery, GalleryOptions } from './gallery.js';
import { decodeGallery, encodeGallery, type GalleryExpectation } from './format.js';

/** Write `gallery` to `path` atomically (temporary file + rename): never a half-written file. */
export async function saveGallery(gallery: Gallery, path: string): Promise<void> {
  await writeFileAtomic(path, await encodeGallery(gallery));
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

/**
 * Read a gallery file.
 * @throws {FileNotFoundError} when it does not exist.
 * @throws {IncompatibleFileError} when it is damaged, truncated, not a gallery, or was made
 *   with another model or preprocessing than `expect`.
 */
export async function loadGallery(path: string, opts: LoadGalleryOptions = {}): Promise<Gallery> {
  // Imported here so that browser bundles of the library never see node:fs.
  const { readFile } = await import('node:fs/promises');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, 'gallery file');
    throw e;
  }
  const expect = opts.expect
    ? {
        fingerprint: opts.expect.fingerprint,
        preprocessing: opts.expect.preprocessing ? { ...opts.expect.preprocessing } : undefined,
        dimension: opts.expect.dimension,
      }
    : undefined;
  return decodeGallery(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, {
    expect,
    storage: opts.storage,
  });
}
