/** The batch-job loop of the commands that take a list of images. */
import { FacenetError } from '../../errors.js';
import { batchExitCode } from '../exit-codes.js';
import { settledInOrder, type Settled } from '../../util/in-order.js';

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

/**
 * {@link forEachImage} with the work started ahead: `start(image)` runs for up to `window`
 * images at once (on workers, say), `finish(image, result)` in input order. A failed start
 * is reported when its turn comes, like any other failure.
 */
export async function forEachImageAhead<T>(
  images: readonly string[],
  window: number,
  start: (image: string) => Promise<T>,
  finish: (image: string, result: T) => void | Promise<void>,
): Promise<void> {
  const outcomes = settledInOrder(images, window, start);
  try {
    await forEachImage(images, async (image) => {
      const { result } = (await outcomes.next()).value as Settled<string, T>;
      if (result.status === 'rejected') throw result.reason;
      await finish(image, result.value);
    });
  } finally {
    await outcomes.return(undefined); // a bug stopped the loop: let the started work end
  }
}
