/**
 * The distillation example's morphs of two chips (examples/distill/mixes.ts): the blend worked
 * out by hand, the pairs always of two people and drawn from (seed, index) alone, and the stage
 * that writes them resumable, deterministic and bound to its list of chips, on real face chips.
 */
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from './helpers.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import { MIX_WEIGHT_RANGE, blendPictures, mixKey, mixParameters, writeMixes } from '../examples/distill/mixes.js';

describe('blendPictures', () => {
  it('averages with the weight, mirroring the second picture when asked', () => {
    // Two 2×1 pictures: a = [(0, 100, 200), (10, 20, 30)], b = [(200, 0, 50), (100, 100, 100)].
    const a = Uint8Array.from([0, 100, 200, 10, 20, 30]);
    const b = Uint8Array.from([200, 0, 50, 100, 100, 100]);
    // 0.25·a + 0.75·b, rounded: (150, 25, 87.5 → 88), (77.5 → 78, 80, 82.5 → 83).
    expect(Array.from(blendPictures(a, b, 2, 1, 0.25, false))).toEqual([150, 25, 88, 78, 80, 83]);
    // b mirrored is [(100, 100, 100), (200, 0, 50)]: (75, 100, 125), (152.5 → 153, 5, 45).
    expect(Array.from(blendPictures(a, b, 2, 1, 0.25, true))).toEqual([75, 100, 125, 153, 5, 45]);
  });

  it('names the sizes when the pictures do not match', () => {
    expect(() => blendPictures(new Uint8Array(12), new Uint8Array(9), 2, 2, 0.5, false)).toThrow(/2×2×3 values expected, got 12 and 9/);
  });
});

describe('mixParameters', () => {
  const keys = ['a/1.png', 'a/2.png', 'a/3.png', 'b/1.png', 'c/1.png'];

  it('always pairs two identities, with a weight inside the documented range', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const m = mixParameters(7, keys, i);
      expect(m.a.split('/')[0]).not.toBe(m.b.split('/')[0]);
      expect(m.weight).toBeGreaterThanOrEqual(MIX_WEIGHT_RANGE[0]);
      expect(m.weight).toBeLessThanOrEqual(MIX_WEIGHT_RANGE[1]);
      seen.add(`${m.a}+${m.b}`);
    }
    // 3·2 + 3·2 + 2 = 14 ordered pairs of different people exist; 300 draws meet nearly all.
    expect(seen.size).toBeGreaterThanOrEqual(12);
  });

  it('depends on seed and index alone', () => {
    expect(mixParameters(7, keys, 5)).toEqual(mixParameters(7, keys, 5));
    const others = [mixParameters(8, keys, 5), mixParameters(7, keys, 6)];
    expect(others.some((m) => JSON.stringify(m) !== JSON.stringify(mixParameters(7, keys, 5)))).toBe(true);
  });

  it('refuses a tree of one person', () => {
    expect(() => mixParameters(1, ['a/1.png', 'a/2.png'], 0)).toThrow(/two identities/);
  });

  it('names files by seed and index, 200 to a folder', () => {
    expect(mixKey(3, 0)).toBe('mix-s3-0000/000000.png');
    expect(mixKey(3, 401)).toBe('mix-s3-0002/000401.png');
  });
});

describe('writeMixes', () => {
  it('writes each mix once, resumes, and gives the blend of the two chips it names', async () => {
    // Real face crops of two people from ../shared (any equal-sized RGB pictures would do).
    const root = sharedPath('data', 'celeba-faces');
    const ids = (await readdir(root)).sort().slice(0, 2);
    const keys = (await Promise.all(ids.map(async (id) => (await readdir(join(root, id))).sort().slice(0, 2).map((f) => `${id}/${f}`)))).flat();
    const out = await mkdtemp(join(tmpdir(), 'mixes-'));
    try {
      // Two processes side by side: shards 0/2 and 1/2 together make mixes 0…4.
      const [even, odd] = await Promise.all([writeMixes(root, keys, out, { count: 5, seed: 2, shard: [0, 2] }), writeMixes(root, keys, out, { count: 5, seed: 2, shard: [1, 2] })]);
      expect([even, odd]).toEqual([3, 2]);
      const first = await stat(join(out, mixKey(2, 0)));
      expect(await writeMixes(root, keys, out, { count: 6, seed: 2 })).toBe(1); // only mix 5 was missing
      expect((await stat(join(out, mixKey(2, 0)))).mtimeMs).toBe(first.mtimeMs);

      const m = mixParameters(2, keys, 3);
      const [a, b, mix] = await Promise.all([join(root, m.a), join(root, m.b), join(out, mixKey(2, 3))].map((p) => decodeImageFile(p)));
      expect([mix.width, mix.height]).toEqual([a.width, a.height]);
      expect(Array.from(mix.data)).toEqual(Array.from(blendPictures(a.data, b.data, a.width, a.height, m.weight, m.mirrorB)));
      // Written as PNG, losslessly: the same bytes again from a second run into a fresh folder.
      const again = await mkdtemp(join(tmpdir(), 'mixes-'));
      await writeMixes(root, keys, again, { count: 4, seed: 2 });
      expect(await readFile(join(again, mixKey(2, 3)))).toEqual(await readFile(join(out, mixKey(2, 3))));
      await rm(again, { recursive: true });
      // Mixes of another list of chips are refused, not mixed with these.
      await expect(writeMixes(root, keys.slice(1), out, { count: 6, seed: 2 })).rejects.toThrow(/holds mixes of another list of chips/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
