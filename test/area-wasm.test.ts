/**
 * The WebAssembly SIMD area-resampling kernels against the JavaScript they replace: the same
 * float32 / float64 values bit for bit, on a real photo, for every pyramid level and for
 * crop windows reaching outside the image; and the committed kernel bytes are what the
 * `.wat` source assembles to.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { areaKernelAvailable, writeAreaCrops, writeAreaInput } from '../src/image/area-wasm.js';
import { WASM_BASE64 } from '../src/image/kernels/area-wasm.js';
import { areaPath, resizeArea, resizeAreaPadded, type PaddedWindow } from '../src/image/resize-area.js';
import { FACENET_LAYOUT, SEED_LAYOUT, writeNetInput } from '../src/mtcnn/patches.js';
import { pyramidLevels } from '../src/mtcnn/pyramid.js';
import { readPixels } from '../src/mtcnn/stages.js';
import { assembleKernel, kernelModuleSource } from '../scripts/kernels.js';
import { sharedPath } from './helpers.js';

/** Index of the first element where two arrays differ as bit patterns, or -1. */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

describe('area-resampling kernels (WebAssembly SIMD)', () => {
  it('runs here: Node has WebAssembly SIMD, so the comparisons below exercise the kernel', () => {
    expect(areaKernelAvailable()).toBe(true);
  });

  it('pyramid levels equal resizeArea + writeNetInput bit for bit', async () => {
    const img = await readPixels(sharedPath('data/samples/groups/bbt1.jpg'));
    expect(img.data).toBeInstanceOf(Uint8Array);
    let compared = 0;
    for (const layout of [FACENET_LAYOUT, SEED_LAYOUT]) {
      for (const { height, width } of pyramidLevels(img.height, img.width, 40, 0.709)) {
        const want = new Float32Array(height * width * 3);
        writeNetInput(resizeArea(img, height, width), layout, want, 0);
        const got = new Float32Array(want.length + 6).fill(7);
        expect(writeAreaInput(img, height, width, layout, got, 3)).toBe(true);
        expect(firstDifference(got.subarray(3, 3 + want.length), want)).toBe(-1);
        // Nothing written outside its slot.
        expect([...got.subarray(0, 3), ...got.subarray(3 + want.length)]).toEqual([7, 7, 7, 7, 7, 7]);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(10);
  });

  it('declines what it does not do: float images, enlarging, integer factors', () => {
    const u8 = { data: Uint8Array.from({ length: 30 * 40 * 3 }, (_, i) => (i * 7) % 256), height: 30, width: 40, channels: 3 };
    const f64 = { ...u8, data: Float64Array.from(u8.data) };
    const out = new Float32Array(60 * 80 * 3);
    expect(writeAreaInput(f64, 17, 23, FACENET_LAYOUT, out, 0)).toBe(false);
    expect(writeAreaInput(u8, 60, 80, FACENET_LAYOUT, out, 0)).toBe(false);
    expect(writeAreaInput(u8, 15, 20, FACENET_LAYOUT, out, 0)).toBe(false);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(writeAreaInput(u8, 17, 23, FACENET_LAYOUT, out, 0)).toBe(true);
  });

  it("R-Net / O-Net crops, shrinking and growing, equal the reference's float64 patches (resizeAreaPadded) bit for bit", async () => {
    const img = await readPixels(sharedPath('data/samples/groups/bbt3.jpg'));
    // Deterministic windows, many reaching past an edge of the image (zero padding).
    let seed = 7;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (const size of [24, 48]) {
      const windows: PaddedWindow[] = [];
      while (windows.length < 200) {
        // Three in four shrink (general area path), one in four grows on a side (bilinear).
        const height = next(4) === 0 ? 3 + next(size - 3) : size + 1 + next(300);
        const width = next(4) === 0 ? height + next(9) : height;
        const win = {
          height,
          width,
          rowOffset: next(img.height + 200) - 150,
          colOffset: next(img.width + 200) - 150,
          rowStart: next(6),
          rowEnd: height - next(6),
          colStart: next(6),
          colEnd: width - next(6),
        };
        const path = areaPath(height, width, size, size);
        if (path === 'general' || path === 'enlarge') windows.push(win);
      }
      expect(windows.filter((w) => areaPath(w.height, w.width, size, size) === 'enlarge').length).toBeGreaterThan(20);
      for (const layout of [FACENET_LAYOUT, SEED_LAYOUT]) {
        const plane = size * size * 3;
        const got = new Float32Array(windows.length * plane);
        // Crops written in reverse slot order: offsets are honoured as given.
        expect(writeAreaCrops(img, windows, size, layout, got, windows.map((_, i) => (windows.length - 1 - i) * plane))).toBe(true);
        windows.forEach((win, i) => {
          const want = new Float32Array(plane);
          writeNetInput({ data: resizeAreaPadded(img, win, size, size), height: size, width: size, channels: 3 }, layout, want, 0);
          const slot = windows.length - 1 - i;
          expect(firstDifference(got.subarray(slot * plane, (slot + 1) * plane), want)).toBe(-1);
        });
      }
    }
  });

  it('refuses a window it does not resize (integer factors, same size), naming it', async () => {
    const img = await readPixels(sharedPath('data/samples/groups/bbt3.jpg'));
    const win = { height: 48, width: 48, rowOffset: 0, colOffset: 0, rowStart: 0, rowEnd: 48, colStart: 0, colEnd: 48 };
    expect(() => writeAreaCrops(img, [win], 24, FACENET_LAYOUT, new Float32Array(24 * 24 * 3), [0])).toThrow(/48×48 window takes OpenCV's 'fast' path/);
  });

  it('the committed kernel is what area.wat assembles to', async () => {
    const source = await readFile(join(import.meta.dirname, '..', 'src', 'image', 'kernels', 'area.wat'), 'utf8');
    const bytes = await assembleKernel(source, 'area.wat');
    expect(Buffer.from(bytes).toString('base64')).toBe(WASM_BASE64);
    const committed = await readFile(join(import.meta.dirname, '..', 'src', 'image', 'kernels', 'area-wasm.ts'), 'utf8');
    expect(committed).toBe(kernelModuleSource('area', bytes));
  });
});
