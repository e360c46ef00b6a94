/** Small file helpers of the Node examples: the library's own, under the examples' names. */
import { sharedDir } from 'tfjs-facenet';

export { writeFileAtomic } from 'tfjs-facenet';

/** The shared data folder: env `TFJS_FACENET_SHARED`, else `../shared` (as the library's tests use). */
export const sharedDataDir = (): string => sharedDir();
