/** Atomic file writes: nothing written is ever half-written. Node only. */
import { nodeBuiltins } from '../runtime/node-platform.js';

/**
 * Write `data` to a temporary file beside `path`, then rename it over `path`. A crash
 * leaves either the old file or the new one, never a partial file. Rename within one
 * directory is atomic on POSIX filesystems.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const { writeFile, rename, mkdir, rm } = nodeBuiltins('writing files').fsp;
  const { dirname, basename, join } = nodeBuiltins('writing files').path;
  const { randomBytes } = nodeBuiltins('writing files').crypto;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
