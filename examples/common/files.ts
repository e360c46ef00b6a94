/** Small file helpers of the Node examples. */
import { resolve } from 'node:path';

export { writeFileAtomic } from 'tfjs-facenet/node';

/** The shared data folder: env `TFJS_FACENET_SHARED`, else `../shared` (the setting the library's tests use). */
export const sharedDataDir = (): string => resolve(process.env.TFJS_FACENET_SHARED ?? '../shared');
