/** The batch-job loop of the commands that take a list of images. */
import { FacenetError } from '../../errors.js';
import { batchExitCode } from '../exit-codes.js';

/**
 * Run `fn` on each image in turn. A {@link FacenetError} (unreadable image, no face, …) is
 * reported on stderr naming the image, and the loop goes on; other errors are bugs and
 * propagate. The exit code says whether some (1) or all (3) images failed.
 */
export async function forEachImage(images: readonly string[], fn: (image: string) => Promise<void>): Promise<void> {
  let failures = 0;
  for (const image of images) {
    try {
      await fn(image);
    } catch (e) {
      if (!(e instanceof FacenetError)) throw e;
      failures++;
      process.stderr.write(`tfjs-facenet: ${image}: ${e.message}\n`);
    }
  }
  process.exitCode = batchExitCode(images.length, failures);
}
