/**
 * The distillation example's augmented views (examples/distill/views.ts): geometry and
 * colour worked out by hand on tiny images, the identity view of a real face chip equal to
 * the chip, and the stage that writes views resumable and deterministic.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readdir, readFile, rm, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend, sharedPath } from './helpers.js';
import { alignDataset } from '../src/datasets/align.js';
import { loadImage } from '../src/image/load.js';
import { VIEW_RANGES, augmentChip, viewKey, viewParameters, viewTransform, writeViews, type ViewParameters } from '../examples/distill/views.js';
import { rescaleChips } from '../examples/distill/data.js';

const IDENTITY: ViewParameters = { scale: 1, angle: 0, dx: 0, dy: 0, brightness: 1, contrast: 1, saturation: 1 };

beforeAll(setupBackend);

/** A 3×3 RGB image whose red channel is 10·(row·3 + col) + 1, green and blue fixed. */
function grid3(): tf.Tensor3D {
  const v: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) v.push(10 * (r * 3 + c) + 1, 50, 100);
  return tf.tensor3d(v, [3, 3, 3]);
}

describe('augmentChip', () => {
  it('leaves a chip unchanged with the identity view', () => {
    expect(viewTransform(IDENTITY, 150, 150).map((v) => v + 0)).toEqual([1, 0, 0, 0, 1, 0, 0, 0]); // + 0: −0 → 0
    const before = tf.memory().numTensors;
    const chip = grid3();
    const out = augmentChip(chip, IDENTITY);
    expect(Array.from(out.dataSync())).toEqual(Array.from(chip.dataSync()));
    tf.dispose([chip, out]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('turns the image clockwise by a quarter turn about its centre', () => {
    const chip = grid3();
    const out = augmentChip(chip, { ...IDENTITY, angle: Math.PI / 2 });
    const red = (out.arraySync() as number[][][]).map((row) => row.map((px) => px[0]));
    // Clockwise: the left column (1, 31, 61 top to bottom) becomes the top row read right to left.
    expect(red).toEqual([
      [61, 31, 1],
      [71, 41, 11],
      [81, 51, 21],
    ]);
    tf.dispose([chip, out]);
  });

  it('shifts, and repeats the border pixels where the source ends', () => {
    const chip = grid3();
    const out = augmentChip(chip, { ...IDENTITY, dx: 1 });
    const red = (out.arraySync() as number[][][]).map((row) => row.map((px) => px[0]));
    expect(red).toEqual([
      [1, 1, 11],
      [31, 31, 41],
      [61, 61, 71],
    ]);
    tf.dispose([chip, out]);
  });

  it('recolours as worked out by hand', () => {
    const chip = tf.tensor3d([200, 100, 50, 20, 40, 60], [1, 2, 3]);
    // Luma of the pixels: 0.299·200 + 0.587·100 + 0.114·50 = 124.2; 0.299·20 + 0.587·40 + 0.114·60 = 36.30.
    const grey = augmentChip(chip, { ...IDENTITY, saturation: 0 });
    expect(Array.from(grey.dataSync())).toEqual([124, 124, 124, 36, 36, 36]);
    // Brightness 1.5 then contrast 2 about the mean brightened luma m = 1.5 · (124.2 + 36.3) / 2 = 120.375:
    // v → m + 2 (1.5 v − m), clipped to 0…255.
    const m = 120.375;
    const f = (v: number) => Math.min(255, Math.max(0, Math.round(m + 2 * (1.5 * v - m))));
    const punchy = augmentChip(chip, { ...IDENTITY, brightness: 1.5, contrast: 2 });
    expect(Array.from(punchy.dataSync())).toEqual([200, 100, 50, 20, 40, 60].map(f));
    tf.dispose([chip, grey, punchy]);
  });
});

describe('viewParameters', () => {
  it('draws each view from its key alone, inside the documented ranges', () => {
    const a = viewParameters(1, '07226/001.png', 1, 150);
    expect(viewParameters(1, '07226/001.png', 1, 150)).toEqual(a);
    expect(viewParameters(1, '07226/001.png', 2, 150)).not.toEqual(a);
    expect(viewParameters(2, '07226/001.png', 1, 150)).not.toEqual(a);
    let grey = 0;
    for (let v = 0; v < 400; v++) {
      const p = viewParameters(7, 'x/y.png', v, 150);
      expect(p.scale).toBeGreaterThanOrEqual(VIEW_RANGES.scale[0]);
      expect(p.scale).toBeLessThanOrEqual(VIEW_RANGES.scale[1]);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual((12 * Math.PI) / 180);
      expect(Math.abs(p.dx)).toBeLessThanOrEqual(7.5);
      expect(Math.abs(p.dy)).toBeLessThanOrEqual(7.5);
      if (p.saturation === 0) grey++;
    }
    // 15 % grey: 60 expected of 400, standard deviation ≈ 7.
    expect(grey).toBeGreaterThan(35);
    expect(grey).toBeLessThan(85);
  });
});

describe('writeViews and rescaleChips', () => {
  it('write views (and smaller copies) of real face chips once, the same pixels on every run', async () => {
    const root = await mkdtemp(join(tmpdir(), 'facenet-views-'));
    try {
      const id = '07226';
      const src = sharedPath('data', 'celeba', id);
      const files = (await readdir(src)).filter((f) => f.endsWith('.jpg')).sort().slice(0, 2);
      await mkdir(join(root, 'raw', id), { recursive: true });
      for (const f of files) await cp(join(src, f), join(root, 'raw', id, f));
      await alignDataset({ input: join(root, 'raw'), output: join(root, 'chips'), imageSize: 150, method: 'chip', workers: 0 });
      const chips = (await readdir(join(root, 'chips', id))).sort();
      expect(chips.length).toBe(2);

      const before = tf.memory().numTensors;
      expect(await writeViews(join(root, 'chips'), join(root, 'views'), 2, 1)).toBe(4);
      expect(tf.memory().numTensors).toBe(before);
      const names = (await readdir(join(root, 'views', id))).sort();
      expect(names).toEqual(chips.flatMap((c) => [viewKey(c, 1, 1), viewKey(c, 1, 2)]).sort());
      // Resumed: nothing left to write. Another seed: other files beside them.
      // Rewritten elsewhere: byte for byte the same files.
      expect(await writeViews(join(root, 'chips'), join(root, 'views'), 2, 1)).toBe(0);
      expect(await writeViews(join(root, 'chips'), join(root, 'views'), 1, 2)).toBe(2);
      expect((await readdir(join(root, 'views', id))).filter((n) => n.includes('~s2v1.')).length).toBe(2);
      expect(await writeViews(join(root, 'chips'), join(root, 'again'), 2, 1)).toBe(4);
      for (const n of names) expect(await readFile(join(root, 'again', id, n))).toEqual(await readFile(join(root, 'views', id, n)));

      // A view is the chip moved and recoloured, not another picture: close to it, not equal.
      const chip = await loadImage(join(root, 'chips', id, chips[0]));
      const view = await loadImage(join(root, 'views', id, viewKey(chips[0], 1, 1)));
      const diff = tf.tidy(() => tf.mean(tf.abs(tf.sub(chip, view))).dataSync()[0]);
      expect(diff).toBeGreaterThan(1);
      expect(diff).toBeLessThan(80);
      tf.dispose([chip, view]);

      // rescaleChips shares the resumable walk: 96-px copies, one per chip, made once.
      expect(await rescaleChips(join(root, 'chips'), join(root, 'small'), 96)).toBe(2);
      expect(await rescaleChips(join(root, 'chips'), join(root, 'small'), 96)).toBe(0);
      await rm(join(root, 'small', id, chips[1]));
      expect(await rescaleChips(join(root, 'chips'), join(root, 'small'), 96)).toBe(1);
      const small = await loadImage(join(root, 'small', id, chips[0]));
      expect(small.shape).toEqual([96, 96, 3]);
      // The same picture, smaller: close to a plain bilinear resize of the chip.
      const big = await loadImage(join(root, 'chips', id, chips[0]));
      const gap = tf.tidy(() => tf.mean(tf.abs(tf.sub(small, tf.image.resizeBilinear(big, [96, 96], true)))).dataSync()[0]);
      expect(gap).toBeLessThan(8);
      tf.dispose([small, big]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
