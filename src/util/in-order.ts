/**
 * Work started ahead, results taken in order: the loop of every batch job that hands images
 * to workers (or any asynchronous function) and reports them in input order.
 */

/** One item and how its work ended. */
export interface Settled<I, R> {
  item: I;
  index: number;
  result: PromiseSettledResult<R>;
}

/**
 * Run `start` on `items` with up to `window` of them in the works, and yield each item's
 * outcome in input order (a rejection is yielded, not thrown). The next item starts as soon
 * as one is taken. When the consumer stops early (break, throw), the items still running
 * are awaited before the generator returns, so none outlives the loop.
 * @throws {RangeError} when `window` is not an integer ≥ 1.
 */
export async function* settledInOrder<I, R>(
  items: readonly I[],
  window: number,
  start: (item: I, index: number) => Promise<R>,
): AsyncGenerator<Settled<I, R>> {
  if (!(Number.isInteger(window) && window >= 1)) throw new RangeError(`window must be an integer ≥ 1, got ${window}`);
  const pending: (Promise<PromiseSettledResult<R>> | undefined)[] = [];
  const launch = (k: number) => {
    pending[k] = (async () => start(items[k]!, k))().then(
      (value): PromiseSettledResult<R> => ({ status: 'fulfilled', value }),
      (reason: unknown): PromiseSettledResult<R> => ({ status: 'rejected', reason }),
    );
  };
  let next = 0;
  try {
    for (; next < Math.min(window, items.length); next++) launch(next);
    for (let k = 0; k < items.length; k++) {
      const result = await pending[k]!;
      pending[k] = undefined; // bounded memory: a taken result is the consumer's
      if (next < items.length) launch(next++);
      yield { item: items[k]!, index: k, result };
    }
  } finally {
    await Promise.all(pending.filter((p) => p !== undefined));
  }
}
