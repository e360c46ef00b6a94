/**
 * PGM/PPM decoding: hand-written files with hand-worked pixels, and a real photo written
 * as PPM/PGM that must decode to exactly what sharp decodes from the JPEG.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { decodeNetpbm, isNetpbm } from '../src/image/netpbm.js';
import { loadImage } from '../src/image/load.js';
import { isImageFile } from '../src/datasets/images.js';
import { ImageDecodeError } from '../src/errors.js';
import { setupBackend, sharedPath, countLeaks } from './helpers.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

beforeAll(async () => {
  await setupBackend();
});

describe('decodeNetpbm', () => {
  it('reads plain PGM with comments and a 4-bit maximum, scaling samples to 0…255', () => {
    const file = ascii('P2\n# a comment\n3 2 # trailing comment\n15\n0 15 5\n10 1 7\n');
    expect(isNetpbm(file)).toBe(true);
    const img = decodeNetpbm(file, 'plain.pgm');
    expect([img.width, img.height, img.channels]).toEqual([3, 2, 1]);
    // round(v · 255 / 15) = 17 v
    expect(Array.from(img.data)).toEqual([0, 255, 85, 170, 17, 119]);
  });

  it('reads binary PPM, plain PPM and 16-bit binary PGM (big-endian samples)', () => {
    const p6 = decodeNetpbm(concat(ascii('P6 2 1 255\n'), Uint8Array.of(255, 0, 0, 1, 2, 3)), 'a.ppm');
    expect([p6.width, p6.height, p6.channels]).toEqual([2, 1, 3]);
    expect(Array.from(p6.data)).toEqual([255, 0, 0, 1, 2, 3]);
    const p3 = decodeNetpbm(ascii('P3\n1 1\n255\n9 8 7'), 'b.ppm');
    expect(Array.from(p3.data)).toEqual([9, 8, 7]);
    // 0x0100 = 256 → round(256·255/65535) = 1; 0x8000 = 32768 → round(127.50…) = 128; 0xffff → 255
    const p5 = decodeNetpbm(concat(ascii('P5 3 1 65535\n'), Uint8Array.of(0x01, 0x00, 0x80, 0x00, 0xff, 0xff)), 'c.pgm');
    expect(Array.from(p5.data)).toEqual([1, 128, 255]);
  });

  it('names the file and the fault in its errors', () => {
    expect(isNetpbm(ascii('P4\n1 1\n'))).toBe(false); // bitmaps (P1/P4) are not read
    expect(() => decodeNetpbm(ascii('P4\n1 1\n'), 'b.pnm')).toThrow(/b\.pnm.*PBM bitmaps and PAM files/);
    // The header ends with one white-space byte, after an optional comment: `#c` is no sample.
    expect(Array.from(decodeNetpbm(concat(ascii('P5 1 1 255#c\n'), Uint8Array.of(7)), 'c.pgm').data)).toEqual([7]);
    expect(() => decodeNetpbm(concat(ascii('P5 1 1 255x'), Uint8Array.of(7)), 'x.pgm')).toThrow(/x\.pgm.*no white space after the maximum value/);
    expect(() => decodeNetpbm(ascii('P2 2 1 255\n7 q'), 'q.pgm')).toThrow(/q\.pgm.*bad sample 1$/);
    expect(() => decodeNetpbm(ascii('P5 3000 3000 255\n'), 'big.pgm', { maxPixels: 2 ** 23 })).toThrow(/big\.pgm.*3000×3000 is more than the 8388608 pixels allowed/);
    expect(() => decodeNetpbm(ascii('GIF89a'), 'x.gif')).toThrow(ImageDecodeError);
    expect(() => decodeNetpbm(concat(ascii('P5 4 4 255\n'), new Uint8Array(10)), 'short.pgm')).toThrow(/short\.pgm.*16 bytes of samples expected, 10 found/);
    expect(() => decodeNetpbm(ascii('P2 2 x 255\n'), 'bad.pgm')).toThrow(/bad\.pgm.*bad height/);
    expect(() => decodeNetpbm(ascii('P2 2 1 255\n7   '), 'cut.pgm')).toThrow(/cut\.pgm.*truncated: no sample 1/);
    // A header announcing more samples than the file holds is refused before any allocation.
    expect(() => decodeNetpbm(ascii('P5 100000 100000 255\n'), 'huge.pgm')).toThrow(/huge\.pgm.*10000000000 bytes of samples expected, 0 found/);
    expect(() => decodeNetpbm(ascii('P3 1000 1000 255\n1 2 3'), 'plain.ppm')).toThrow(/plain\.ppm.*truncated/);
    expect(() => decodeNetpbm(ascii('P5 0 3 255\n'), 'empty.pgm')).toThrow(/empty image/);
    expect(() => decodeNetpbm(ascii('P5 1 1 70000\n'), 'deep.pgm')).toThrow(/maximum value 70000/);
  });

  it('lists .pgm, .ppm and .pnm files as images', () => {
    expect(['a.pgm', 'B.PPM', 'c.pnm', 'd.pbm'].map(isImageFile)).toEqual([true, true, true, false]);
  });
});

describe('loadImage on netpbm files', () => {
  it('decodes a real photo written as PPM and as PGM exactly as sharp decodes it', async () => {
    const jpeg = readFileSync(sharedPath('data/samples/Anthony_Hopkins_0001.jpg'));
    const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const leaked = await countLeaks(async () => {
      const fromJpeg = await loadImage(new Uint8Array(jpeg));
      const fromPpm = await loadImage(concat(ascii(`P6\n${info.width} ${info.height}\n255\n`), new Uint8Array(data)));
      expect(fromPpm.shape).toEqual([info.height, info.width, 3]);
      expect(Array.from(fromPpm.dataSync())).toEqual(Array.from(fromJpeg.dataSync()));
      // A gray image comes back with the gray value in all three channels.
      const gray = Uint8Array.from({ length: info.width * info.height }, (_, i) => data[3 * i]!);
      const fromPgm = await loadImage(concat(ascii(`P5 ${info.width} ${info.height} 255\n`), gray));
      const px = fromPgm.dataSync();
      for (const i of [0, 1234, info.width * info.height - 1]) expect([px[3 * i], px[3 * i + 1], px[3 * i + 2]]).toEqual([gray[i], gray[i], gray[i]]);
      tf.dispose([fromJpeg, fromPpm, fromPgm]);
    });
    expect(leaked).toBe(0);
  });
});
