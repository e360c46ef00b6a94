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

/**
 * {@link forEachImage} with the work started ahead: `start(image)` runs for up to `window`
 * images beyond the one being finished (on workers, say), `finish(image, result)` in input
 * order. A failed start is reported when its turn comes, like any other failure.
 */
export async function forEachImageAhead<T>(
  images: readonly string[],
  window: number,
  start: (image: string) => Promise<T>,
  finish: (image: string, result: T) => void | Promise<void>,
): Promise<void> {
  const pending: Promise<T>[] = [];
  const submit = (k: number) => {
    const p = start(images[k]);
    p.catch(() => undefined); // handled when its turn comes
    pending.push(p);
  };
  for (let k = 0; k < Math.min(window, images.length); k++) submit(k);
  let next = 0;
  await forEachImage(images, async (image) => {
    const k = next++;
    if (k + window < images.length) submit(k + window);
    await finish(image, await pending[k]);
  });
}
