/** Small file helpers of the Node examples. */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** The shared data folder: env `TFJS_FACENET_SHARED`, else `../shared` (as the library's tests use). */
export function sharedDataDir(): string {
  return resolve(process.env.TFJS_FACENET_SHARED ?? '../shared');
}

/** Write a file through a temporary file + rename, so that readers never see half of it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
