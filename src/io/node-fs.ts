/** Thin Node-only file helpers for the weight readers (imported lazily so the readers stay browser-safe). */
import { FileNotFoundError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/**
 * Read a whole file as bytes.
 * @throws {@link FileNotFoundError} when `path` does not exist (other I/O errors pass through).
 */
export async function readFileBytes(path: string, what = 'file'): Promise<Uint8Array> {
  const { readFile } = nodeBuiltins('reading files').fsp;
  try {
    const b = await readFile(path);
    // A plain Uint8Array view: Buffer's slice() shares memory, which callers would not expect.
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, what);
    throw e;
  }
}

/** Whether `path` is an existing directory. */
export async function isDirectory(path: string): Promise<boolean> {
  const { stat } = nodeBuiltins('reading files').fsp;
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
