/**
 * Inputs that must not crash a batch or take unbounded memory (issue 11): huge images are
 * decoded downscaled and reported in their own pixels, bad files are reported with typed
 * errors while the good ones are processed, the pyramid is bounded, exit codes say what
 * happened, align output names are unique, the align journal survives odd file names.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { runCliMeasured } from './cli-helpers.js';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { sharedPath } from './helpers.js';
import { cappedSize, decodeImageBytes, decodeImageFile, MAX_DECODE_PIXELS } from '../src/image/decode-node.js';
import { pyramidLevels, MAX_PYRAMID_LEVEL_PIXELS } from '../src/mtcnn/pyramid.js';
import { resolveOptions, DEFAULT_OPTIONS } from '../src/mtcnn/pipeline-types.js';
import { formatBoundingBoxLine, parseBoundingBoxes, uniqueOutputStems } from '../src/datasets/align.js';
import { batchExitCode, EXIT } from '../src/cli/exit-codes.js';
import { ConfigError, ImageDecodeError } from '../src/errors.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'robustness-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const portrait = () => sharedPath('data', 'samples', 'Anthony_Hopkins_0001.jpg');

describe('decoding under a pixel cap', () => {
  it('cappedSize keeps the aspect ratio and fits the cap', () => {
    expect(cappedSize(640, 480, MAX_DECODE_PIXELS)).toEqual({ width: 640, height: 480 });
    // 16000 × 16000 → side floor(16000 · sqrt(2^23 / 16000²)) = floor(2896.3) = 2896.
    expect(cappedSize(16000, 16000, MAX_DECODE_PIXELS)).toEqual({ width: 2896, height: 2896 });
    // 8000 × 2000 (4:1) under 1 MP: s = sqrt(1e6 / 16e6) = 0.25 → 2000 × 500.
    expect(cappedSize(8000, 2000, 1_000_000)).toEqual({ width: 2000, height: 500 });
    expect(cappedSize(100000, 1, 1000)).toEqual({ width: 1000, height: 1 });
  });

  it('a 16000 × 16000 SVG renders at the cap, and says by how much it shrank', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><rect width="16000" height="16000" fill="#808080"/></svg>',
    );
    const img = await decodeImageBytes(svg, 'huge.svg');
    expect(img.width * img.height).toBeLessThanOrEqual(MAX_DECODE_PIXELS);
    expect(img.width).toBeGreaterThan(2800);
    expect(img.sourceWidth).toBe(16000);
    expect(img.scale).toBeCloseTo(img.width / 16000, 12);
    expect(img.data[0]).toBe(128);
  });

  it('a small image is decoded as it is (scale 1)', async () => {
    const img = await decodeImageFile(portrait());
    expect([img.width, img.height, img.scale, img.sourceWidth]).toEqual([250, 250, 1, 250]);
  });

  it('a directory or a link loop is an ImageDecodeError naming the path', async () => {
    await expect(decodeImageFile(tmp)).rejects.toBeInstanceOf(ImageDecodeError);
    const { symlink } = await import('node:fs/promises');
    const loop = join(tmp, 'loop.png');
    await symlink(loop, loop);
    const err = await decodeImageFile(loop).catch((e) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect(err.message).toContain('loop.png');
  });
});

describe('bounded pyramid', () => {
  it('refuses a minimum face size under 12 pixels, naming the option', () => {
    expect(() => resolveOptions(DEFAULT_OPTIONS.facenet, { minFaceSize: 0.1 })).toThrow(ConfigError);
    expect(() => resolveOptions(DEFAULT_OPTIONS.facenet, { minFaceSize: 0.1 })).toThrow(/minFaceSize: must be at least 12/);
    expect(() => pyramidLevels(250, 250, 11.9, 0.709)).toThrow(ConfigError);
  });

  it('refuses a first level past the cap and names the least minimum size that fits', () => {
    // 2896 × 2896 at minsize 12 → a 2896²-pixel first level (> 2^22); the least size is
    // ceil(12 · sqrt(2896² / 2^22)) = ceil(16.97) = 17.
    expect(() => pyramidLevels(2896, 2896, 12, 0.709)).toThrow(/at least 17 /);
    const levels = pyramidLevels(2896, 2896, 17, 0.709);
    expect(levels[0].height * levels[0].width).toBeLessThanOrEqual(MAX_PYRAMID_LEVEL_PIXELS);
    // The default minimum size fits any image the decoder makes.
    expect(() => pyramidLevels(2896, 2896, 20, 0.709)).not.toThrow();
  });
});

describe('exit codes of batch commands', () => {
  it('0 all good, 1 some failed, 3 all failed or nothing given', () => {
    expect(batchExitCode(5, 0)).toBe(EXIT.OK);
    expect(batchExitCode(5, 2)).toBe(EXIT.SOME_FAILED);
    expect(batchExitCode(5, 5)).toBe(EXIT.NOTHING_DONE);
    expect(batchExitCode(0, 0)).toBe(EXIT.NOTHING_DONE);
  });
});

describe('align names and journal', () => {
  it('gives same-stem images unique names that do not depend on order', () => {
    const files = ['/d/img.webp', '/d/img.tiff', '/d/img.jpg', '/d/img_tiff.png', '/d/other.png'];
    const stem = (f: string) => f.slice(3, f.lastIndexOf('.'));
    const ext = (f: string) => f.slice(f.lastIndexOf('.'));
    const a = uniqueOutputStems(files, stem, ext);
    const b = uniqueOutputStems([...files].reverse(), stem, ext);
    expect([...a.entries()].sort()).toEqual([...b.entries()].sort());
    expect(a.get('/d/img.jpg')).toBe('img');
    expect(a.get('/d/img_tiff.png')).toBe('img_tiff');
    expect(a.get('/d/img.tiff')).toBe('img_tiff_2'); // img_tiff is a real file's stem
    expect(a.get('/d/img.webp')).toBe('img_webp');
    expect(new Set(a.values()).size).toBe(files.length);
  });

  it('a line break or backslash in a path survives the journal', () => {
    const records = [
      { path: '/out/a\nb/x.png', box: [1, 2, 3, 4] as [number, number, number, number] },
      { path: '/out/c\\n/y.png' },
      { path: '/out/plain/z.png', box: [5, 6, 7, 8] as [number, number, number, number] },
    ];
    const text = records.map((r) => formatBoundingBoxLine(r) + '\n').join('');
    expect(text.split('\n').length).toBe(4);
    expect(parseBoundingBoxes(text)).toEqual(records);
    // Plain paths are written exactly as the reference writes them.
    expect(formatBoundingBoxLine(records[2])).toBe('/out/plain/z.png 5 6 7 8');
  });
});

describe('detect over huge, bad and good images', () => {
  it('processes every good image, reports each bad one, stays under 1.5 GB, exits 1', async () => {
    // A 6000 × 6000 PNG (36 MP, 24× the portrait): past the cap, decoded at 2896 × 2896.
    const big = join(tmp, 'big portrait.png');
    await sharp(portrait()).resize(6000, 6000).png({ compressionLevel: 1 }).toFile(big);
    const empty = join(tmp, 'empty.png');
    await writeFile(empty, new Uint8Array(0));
    const truncated = join(tmp, 'truncated.jpg');
    await writeFile(truncated, (await readFile(portrait())).subarray(0, 2000));
    const r = await runCliMeasured(['detect', '--json', big, empty, portrait(), truncated]);
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([big, portrait()]);
    const stderrLines = r.stderr.trim().split('\n');
    expect(stderrLines.filter((l) => l.includes('empty.png'))).toHaveLength(1);
    expect(stderrLines.filter((l) => l.includes('truncated.jpg'))).toHaveLength(1);
    // Reported in the file's own pixels: the box is 24 times the one on the 250 px original
    // (within 8 % of the face width: MTCNN on two resamplings of one face differs by a few %).
    expect([lines[0].width, lines[0].height]).toEqual([6000, 6000]);
    expect(lines[0].faces.length).toBe(1);
    expect(lines[1].faces.length).toBe(1);
    const small = lines[1].faces[0].box as number[];
    const large = lines[0].faces[0].box as number[];
    // Unscaled, the box would be off by the decode's factor 6000 / 2896 ≈ 2.07: far outside.
    const faceWidth = (small[2] - small[0]) * 24;
    const deviation = Math.max(...large.map((v, k) => Math.abs(v - small[k] * 24))) / faceWidth;
    console.log(`huge-image detect: peak RSS ${r.maxRssMiB.toFixed(0)} MiB, box deviation ${(deviation * 100).toFixed(1)} % of the face width`);
    expect(deviation).toBeLessThan(0.08);
    expect(r.maxRssMiB).toBeLessThan(1536);
  }, 900_000);
});

describe('use after dispose', () => {
  it('a disposed tensor, detector or embedder is a DisposedError naming it', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const { loadImage } = await import('../src/image/load.js');
    const { createTinyEmbedder } = await import('./tiny-embedder.js');
    const { DisposedError } = await import('../src/errors.js');
    const { mtcnn, model, embedder } = await createTinyEmbedder(3);
    const t = tf.zeros([4, 4, 3]) as import('@tensorflow/tfjs-core').Tensor3D;
    t.dispose();
    await expect(loadImage(t)).rejects.toThrow(/image tensor was used after dispose/);
    embedder.dispose();
    await expect(embedder.embed([portrait()])).rejects.toBeInstanceOf(DisposedError);
    await expect(embedder.embed([portrait()])).rejects.toThrow(/FacenetEmbedder was used after dispose/);
    mtcnn.dispose();
    model.dispose();
    await expect(mtcnn.detect(portrait())).rejects.toBeInstanceOf(DisposedError);
  });
});
