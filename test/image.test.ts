import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImage, rawToTensor } from '../src/image/load.js';
import { ImageDecodeError, FileNotFoundError, ShapeError } from '../src/errors.js';
import { setupBackend, sharedPath, countLeaks } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'facenet-img-'));

beforeAll(async () => {
  await setupBackend();
});

describe('loadImage', () => {
  it('decodes a real JPEG to [h, w, 3] RGB in 0..255', async () => {
    const file = sharedPath('data/samples/groups/bbt1.jpg');
    const meta = await sharp(file).metadata();
    const t = await loadImage(file);
    expect(t.shape).toEqual([meta.height, meta.width, 3]);
    expect(t.dtype).toBe('float32');
    const [min, max] = [tf.min(t), tf.max(t)];
    expect(min.dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(max.dataSync()[0]).toBeLessThanOrEqual(255);
    expect(max.dataSync()[0]).toBeGreaterThan(200);
    tf.dispose([t, min, max]);
  });

  it('keeps channel order: a pure red PNG is R=255, G=B=0', async () => {
    const png = await sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 255, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    const t = await loadImage(new Uint8Array(png));
    expect(Array.from(t.dataSync().slice(0, 3))).toEqual([255, 0, 0]);
    t.dispose();
  });

  it('turns grayscale, RGBA, 16-bit and CMYK images into 8-bit RGB', async () => {
    const gray = await sharp({ create: { width: 5, height: 5, channels: 3, background: { r: 100, g: 100, b: 100 } } })
      .grayscale()
      .png()
      .toBuffer();
    const rgba = await sharp({ create: { width: 5, height: 5, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 1 } } })
      .png()
      .toBuffer();
    const deep = await sharp({ create: { width: 5, height: 5, channels: 3, background: { r: 0, g: 128, b: 255 } } })
      .toColourspace('rgb16')
      .png()
      .toBuffer();
    const cmyk = await sharp({ create: { width: 5, height: 5, channels: 3, background: { r: 200, g: 150, b: 100 } } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    // The CMYK round trip goes through ICC profiles, so it gets a wider tolerance.
    for (const [buf, expectRgb, tol] of [
      [gray, [100, 100, 100], 2],
      [rgba, [10, 20, 30], 2],
      [deep, [0, 128, 255], 2],
      [cmyk, [200, 150, 100], 12],
    ] as const) {
      const t = await loadImage(new Uint8Array(buf));
      expect(t.shape).toEqual([5, 5, 3]);
      const px = Array.from(t.dataSync().slice(0, 3));
      px.forEach((v, i) => expect(Math.abs(v - expectRgb[i])).toBeLessThanOrEqual(tol));
      t.dispose();
    }
  });

  it('applies EXIF orientation', async () => {
    // 6 = rotate 90° clockwise to display: a 4×2 stored image displays as 2×4.
    const buf = await sharp({ create: { width: 4, height: 2, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const t = await loadImage(new Uint8Array(buf));
    expect(t.shape).toEqual([4, 2, 3]);
    t.dispose();
  });

  it('names the file in a typed error for corrupt, empty, truncated and non-image files', async () => {
    const good = readFileSync(sharedPath('data/samples/groups/bbt1.jpg'));
    const cases: Record<string, Uint8Array | string> = {
      'empty.jpg': new Uint8Array(0),
      'text.jpg': 'this is not an image',
      'truncated.jpg': good.subarray(0, Math.floor(good.length / 3)),
      'garbage.png': new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    };
    for (const [name, content] of Object.entries(cases)) {
      const p = join(tmp, name);
      writeFileSync(p, content);
      const err = await loadImage(p).catch((e) => e);
      expect(err, name).toBeInstanceOf(ImageDecodeError);
      expect(err.message).toContain(p);
    }
    await expect(loadImage(join(tmp, 'missing.jpg'))).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(loadImage(tmp)).rejects.toBeInstanceOf(ImageDecodeError);
  });

  it('accepts raw RGB / RGBA frames and tensors, and rejects wrong shapes', async () => {
    const rgba = new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]);
    const t = rawToTensor({ data: rgba, width: 2, height: 1, channels: 4 });
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const again = await loadImage(t);
    expect(again).not.toBe(t);
    tf.dispose([t, again]);
    expect(() => rawToTensor({ data: new Uint8Array(5), width: 2, height: 1 })).toThrow(ShapeError);
    const bad = tf.zeros([4, 4]);
    await expect(loadImage(bad as unknown as tf.Tensor3D)).rejects.toBeInstanceOf(ShapeError);
    bad.dispose();
  });

  it('leaks no tensors', async () => {
    const file = sharedPath('data/samples/Anthony_Hopkins_0001.jpg');
    const leaked = await countLeaks(async () => {
      for (let i = 0; i < 5; i++) (await loadImage(file)).dispose();
    });
    expect(leaked).toBe(0);
  });
});
