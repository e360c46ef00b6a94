/** `settledInOrder` (src/util/in-order.ts): the look-ahead loop of the batch jobs. */
import { describe, it, expect } from 'vitest';
import { settledInOrder } from '../src/util/in-order.js';

/** A job whose promise the test settles by hand, recording how many run at once. */
function jobs(n: number) {
  const resolvers: ((v: string) => void)[] = [];
  const rejecters: ((e: Error) => void)[] = [];
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const start = (item: string, k: number) =>
    new Promise<string>((resolve, reject) => {
      started.push(k);
      most = Math.max(most, ++running);
      resolvers[k] = (v) => (running--, resolve(v));
      rejecters[k] = (e) => (running--, reject(e));
    });
  return { items: Array.from({ length: n }, (_, k) => `img${k}`), start, resolvers, rejecters, started, most: () => most };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('settledInOrder', () => {
  it('keeps `window` jobs in the works and yields in input order, failures included', async () => {
    const j = jobs(5);
    const got: string[] = [];
    const loop = (async () => {
      for await (const { item, index, result } of settledInOrder(j.items, 2, j.start)) {
        got.push(`${index}:${item}:${result.status === 'fulfilled' ? result.value : (result.reason as Error).message}`);
      }
    })();
    await tick();
    expect(j.started).toEqual([0, 1]);
    j.resolvers[1]!('b'); // out of order: nothing is yielded before item 0
    await tick();
    expect(got).toEqual([]);
    expect(j.started).toEqual([0, 1]);
    j.rejecters[0]!(new Error('no face'));
    await tick();
    expect(got).toEqual(['0:img0:no face', '1:img1:b']);
    expect(j.started).toEqual([0, 1, 2, 3]);
    j.resolvers[2]!('c');
    j.resolvers[3]!('d');
    await tick();
    j.resolvers[4]!('e');
    await loop;
    expect(got.slice(2)).toEqual(['2:img2:c', '3:img3:d', '4:img4:e']);
    expect(j.most()).toBe(2);
  });

  it('a consumer that stops early waits for the jobs still running', async () => {
    const j = jobs(4);
    let finished = false;
    const loop = (async () => {
      for await (const { index } of settledInOrder(j.items, 3, j.start)) if (index === 0) break;
      finished = true;
    })();
    await tick();
    j.resolvers[0]!('a');
    await tick();
    expect(finished).toBe(false); // items 1 to 3 still run
    j.resolvers[1]!('b');
    j.resolvers[2]!('c');
    j.resolvers[3]!('d');
    await loop;
    expect(finished).toBe(true);
  });

  it('refuses a window that is not an integer ≥ 1; an empty list yields nothing', async () => {
    for (const w of [0, 2.5, NaN]) await expect(settledInOrder(['a'], w, async () => 1).next()).rejects.toThrow(RangeError);
    expect((await settledInOrder([], 2, async () => 1).next()).done).toBe(true);
  });
});
