import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, countLeaks, sharedPath } from './helpers.js';
import { loadImage } from '../src/image/load.js';
import {
  marginBox,
  selectFaces,
  referenceFaceScore,
  resizeWeights,
  cropFace,
  cropFaces,
} from '../src/face/crop.js';
import {
  ARCFACE_TEMPLATE_112,
  estimateSimilarity,
  applySimilarity,
  invertSimilarity,
  templatePoints,
  alignmentTransform,
  alignFace,
  alignFaces,
} from '../src/face/align.js';
import { ConfigError, ShapeError } from '../src/errors.js';
import type { Box, FaceDetection, Point } from '../src/face/types.js';

interface FixtureImage {
  file: string;
  faces: FaceDetection[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/mtcnn-reference.json', import.meta.url), 'utf8'),
) as { images: FixtureImage[] };
const fixtureFace = (file: string, i = 0) => fixture.images.find((e) => e.file === file)!.faces[i];

beforeAll(async () => {
  await setupBackend();
});

describe('marginBox (hand-worked)', () => {
  it('clips to the image and truncates like np.int32', () => {
    // 10.7-22 = -11.3 → 0; 20.2-22 → 0; 110.9+22 = 132.9 → 132; 140.5+22 = 162.5 > 150 → 150
    expect(marginBox([10.7, 20.2, 110.9, 140.5], 200, 150, 44)).toEqual([0, 0, 132, 150]);
    // 50.6-5 = 45.6 → 45; 40.3-5 = 35.3 → 35; 90.2+5 = 95.2 → 95; 95.9+5 = 100.9 → 100
    expect(marginBox([50.6, 40.3, 90.2, 95.9], 200, 150, 10)).toEqual([45, 35, 95, 100]);
  });
});

describe('selectFaces (hand-worked)', () => {
  // 100×100 image, centre (50, 50).
  const big: FaceDetection = { box: [0, 0, 40, 40], score: 0.9, landmarks: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] };
  const central: FaceDetection = { box: [40, 40, 60, 60], score: 0.99, landmarks: big.landmarks };
  const other: FaceDetection = { box: [60, 10, 90, 40], score: 0.95, landmarks: big.landmarks };
  it('reference: area − 2·offset²', () => {
    // big: 1600 − 2·(30² + 30²) = −2000; central: 400 − 0 = 400; other: 900 − 2·(25² + 25²) = −1600
    expect(referenceFaceScore(big.box, 100, 100)).toBe(-2000);
    expect(referenceFaceScore(central.box, 100, 100)).toBe(400);
    expect(referenceFaceScore(other.box, 100, 100)).toBe(-1600);
    expect(selectFaces([big, other, central], 100, 100, 'reference')).toEqual([central]);
    // without the central face, 'other' (−1600) beats 'big' (−2000)
    expect(selectFaces([big, other], 100, 100, 'reference')).toEqual([other]);
  });
  it('score, all, empty and bad strategy', () => {
    expect(selectFaces([big, other, central], 100, 100, 'score')).toEqual([central]);
    expect(selectFaces([big, other], 100, 100, 'score')).toEqual([other]);
    expect(selectFaces([big, other], 100, 100, 'all')).toEqual([big, other]);
    expect(selectFaces([], 100, 100, 'reference')).toEqual([]);
    expect(() => selectFaces([big], 100, 100, 'largest' as never)).toThrow(ConfigError);
  });
  it('picks the centred face of the reference fixture group photo bbt3', () => {
    const e = fixture.images.find((x) => x.file === 'data/samples/groups/bbt3.jpg')!;
    const [chosen] = selectFaces(e.faces, 594, 383, 'reference');
    // independent brute force over the 5 faces
    const values = e.faces.map((f) => {
      const [x1, y1, x2, y2] = f.box;
      return (x2 - x1) * (y2 - y1) - 2 * (((x1 + x2) / 2 - 297) ** 2 + ((y1 + y2) / 2 - 191.5) ** 2);
    });
    expect(chosen).toBe(e.faces[values.indexOf(Math.max(...values))]);
  });
});

describe('resizeWeights (hand-worked PIL coefficients)', () => {
  const rows = (w: Float32Array, n: number) => Array.from({ length: w.length / n }, (_, i) => Array.from(w.slice(i * n, i * n + n)));
  it('shrinking 4 → 2 with antialias widens the triangle to support 2', () => {
    // centre 1: taps 0,1,2 with triangle((i − 1 + 0.5)/2) = .75,.75,.25 → /1.75
    const w = rows(resizeWeights(4, 2, true), 4);
    expect(w[0]).toEqual([3 / 7, 3 / 7, 1 / 7, 0].map((v) => expect.closeTo(v, 6)));
    expect(w[1]).toEqual([0, 1 / 7, 3 / 7, 3 / 7].map((v) => expect.closeTo(v, 6)));
  });
  it('shrinking 4 → 2 without antialias is 2-tap bilinear at half-pixel centres', () => {
    const w = rows(resizeWeights(4, 2, false), 4);
    expect(w).toEqual([[0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]]);
  });
  it('growing 2 → 4', () => {
    const w = rows(resizeWeights(2, 4, true), 2);
    expect(w).toEqual([[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]]);
  });
});

describe('cropFace', () => {
  // A 30×20 image whose pixels follow a formula (same formula used in the Python check).
  function formulaImage(): tf.Tensor3D {
    const data = new Float32Array(20 * 30 * 3);
    for (let y = 0; y < 20; y++) {
      for (let x = 0; x < 30; x++) {
        const i = (y * 30 + x) * 3;
        data[i] = (x * 8 + y * 3) % 256;
        data[i + 1] = (x * x + 7 * y) % 256;
        data[i + 2] = (x * y * 5) % 256;
      }
    }
    return tf.tensor3d(data, [20, 30, 3]);
  }

  it('matches PIL BILINEAR (the reference misc.imresize) on a synthetic crop', async () => {
    // Expected values: the reference's crop code (img[bb[1]:bb[3], bb[0]:bb[2]] with bb from
    // the margin formula) on the same formula image, resized with
    // PIL 9.4 Image.resize((4, 4), Image.BILINEAR) on uint8 data. PIL rounds to uint8
    // after each of its two 1-D passes, hence the tolerance of 1.
    const expected4 = [
      [[124, 204, 155], [142, 85, 146], [162, 106, 121], [180, 191, 132]],
      [[128, 198, 104], [146, 81, 116], [166, 117, 157], [184, 202, 128]],
      [[134, 169, 119], [152, 57, 142], [172, 129, 129], [190, 198, 133]],
      [[138, 180, 112], [156, 68, 118], [176, 140, 144], [194, 147, 137]],
    ];
    // First row of the 16×16 resize of the same crop (an enlargement).
    const expected16row0 = [
      [114, 186, 104], [118, 197, 117], [123, 213, 136], [128, 230, 155], [133, 167, 173], [138, 25, 192],
      [143, 28, 211], [148, 48, 230], [153, 69, 248], [158, 90, 155], [163, 112, 30], [168, 135, 49],
      [173, 159, 67], [178, 184, 86], [183, 209, 105], [186, 227, 118],
    ];
    const img = formulaImage();
    const box: Box = [12, 6, 22, 13];
    const leaks = await countLeaks(async () => {
      const c4 = cropFace(img, box, { imageSize: 4, margin: 0 });
      const c16 = cropFace(img, box, { imageSize: 16, margin: 0 });
      expect(c4.shape).toEqual([4, 4, 3]);
      const got4 = (await c4.array()) as number[][][];
      const got16 = (await c16.array()) as number[][][];
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++)
          for (let c = 0; c < 3; c++) expect(Math.abs(got4[y][x][c] - expected4[y][x][c])).toBeLessThanOrEqual(1);
      for (let x = 0; x < 16; x++)
        for (let c = 0; c < 3; c++) expect(Math.abs(got16[0][x][c] - expected16row0[x][c])).toBeLessThanOrEqual(1);
      tf.dispose([c4, c16]);
    });
    expect(leaks).toBe(0);
    img.dispose();
  });

  it('reproduces the reference crop of real photos (margin 44) to within rounding', async () => {
    // Expected numbers: the reference's crop code on the same decoded pixels, with the
    // fixture's boxes, resized by PIL BILINEAR (uint8); means over all output pixels.
    const cases = [
      {
        file: 'data/samples/Anthony_Hopkins_0001.jpg', margin: 44, size: 182,
        mean: [123.307, 95.498, 70.914],
        px: { '0,0': [195, 145, 94], '91,91': [184, 127, 98], '181,60': [3, 3, 3], '45,181': [124, 91, 41] },
      },
      {
        file: 'data/samples/groups/bbt1.jpg', margin: 44, size: 64, // a shrink: antialiasing matters
        mean: [79.567, 57.735, 49.22],
        px: { '0,0': [19, 7, 4], '32,32': [214, 163, 143], '63,21': [24, 13, 10], '16,63': [40, 34, 28] },
      },
    ];
    for (const c of cases) {
      const image = await loadImage(sharedPath(c.file));
      const crop = cropFace(image, fixtureFace(c.file).box, { imageSize: c.size, margin: c.margin });
      const mean = Array.from(await tf.tidy(() => tf.mean(tf.reshape(crop, [-1, 3]), 0)).data());
      mean.forEach((m, i) => expect(Math.abs(m - c.mean[i])).toBeLessThan(0.5));
      const arr = (await crop.array()) as number[][][];
      for (const [key, rgb] of Object.entries(c.px)) {
        const [y, x] = key.split(',').map(Number);
        (rgb as number[]).forEach((v: number, i: number) => expect(Math.abs(arr[y][x][i] - v)).toBeLessThanOrEqual(1.5));
      }
      tf.dispose([image, crop]);
    }
  });

  it('batches, rejects boxes outside the image and bad shapes', async () => {
    const img = formulaImage();
    const leaks = await countLeaks(() => {
      const batch = cropFaces(img, [[0, 0, 10, 10], [5, 5, 30, 20]], { imageSize: 8, margin: 4 });
      expect(batch.shape).toEqual([2, 8, 8, 3]);
      const single = cropFace(img, [5, 5, 30, 20], { imageSize: 8, margin: 4 });
      const second = tf.slice(batch, [1], [1]);
      expect(Array.from(second.dataSync())).toEqual(Array.from(single.dataSync()));
      const empty = cropFaces(img, [], { imageSize: 8 });
      expect(empty.shape).toEqual([0, 8, 8, 3]);
      tf.dispose([batch, single, second, empty]);
    });
    expect(leaks).toBe(0);
    expect(() => cropFace(img, [40, 30, 50, 40], { margin: 0 })).toThrow(ShapeError);
    expect(() => cropFace(img, [0, 0, 5, 5], { imageSize: 0 })).toThrow(ConfigError);
    const gray = tf.zeros([4, 4, 1]) as tf.Tensor3D;
    expect(() => cropFace(gray, [0, 0, 2, 2])).toThrow(ShapeError);
    tf.dispose([img, gray]);
  });
});

describe('estimateSimilarity', () => {
  it('recovers a hand-worked transform: scale 2, rotation 90°, shift (2, 3)', () => {
    // z ↦ 2i·z + (2 + 3i): (0,0)→(2,3), (1,0)→(2,5), (0,1)→(0,3)
    const t = estimateSimilarity([[0, 0], [1, 0], [0, 1]], [[2, 3], [2, 5], [0, 3]]);
    expect(t.a).toBeCloseTo(0, 12);
    expect(t.b).toBeCloseTo(2, 12);
    expect(t.tx).toBeCloseTo(2, 12);
    expect(t.ty).toBeCloseTo(3, 12);
  });

  it('recovers a known transform of the template exactly, and inverts it', () => {
    const theta = (-23 * Math.PI) / 180;
    const truth = { a: 1.7 * Math.cos(theta), b: 1.7 * Math.sin(theta), tx: 41.5, ty: -7.25 };
    const moved = ARCFACE_TEMPLATE_112.map((p) => applySimilarity(truth, p));
    const t = estimateSimilarity(ARCFACE_TEMPLATE_112, moved);
    for (const k of ['a', 'b', 'tx', 'ty'] as const) expect(t[k]).toBeCloseTo(truth[k], 10);
    const back = invertSimilarity(t);
    const p = applySimilarity(back, applySimilarity(t, [3, 4]));
    expect(p[0]).toBeCloseTo(3, 10);
    expect(p[1]).toBeCloseTo(4, 10);
  });

  it('matches the SVD form of Umeyama on real, non-similar landmarks', () => {
    // Expected: numpy Umeyama (SVD of the cross-covariance, det correction, c = tr(DS)/σ²)
    // mapping the fixture landmarks of Anthony_Hopkins_0001 onto the 112 template.
    const lm = fixtureFace('data/samples/Anthony_Hopkins_0001.jpg').landmarks;
    const t = alignmentTransform(lm);
    expect(t.a).toBeCloseTo(0.7748057830062216, 9);
    expect(t.b).toBeCloseTo(0.036640230499176994, 9);
    expect(t.tx).toBeCloseTo(-38.08566853961412, 7);
    expect(t.ty).toBeCloseTo(-41.987905458446406, 7);
  });

  it('rejects degenerate input', () => {
    expect(() => estimateSimilarity([[1, 1], [1, 1]], [[0, 0], [2, 2]])).toThrow(ShapeError);
    expect(() => estimateSimilarity([[1, 1], [2, 2]], [[0, 0]])).toThrow(ShapeError);
    expect(() => alignmentTransform([[1, 1], [2, 2]] as Point[])).toThrow(ShapeError);
  });
});

describe('templatePoints', () => {
  it('is the ArcFace template at 112 and scales about the pixel grid', () => {
    expect(templatePoints()).toEqual(ARCFACE_TEMPLATE_112.map((p) => [expect.closeTo(p[0], 10), expect.closeTo(p[1], 10)]));
    // 224 px: (x + 0.5)·2 − 0.5; with margin 0.25 at 224: inner 112, offset 56 → x + 56
    const t224 = templatePoints({ imageSize: 224 });
    expect(t224[0][0]).toBeCloseTo(38.2946 * 2 + 0.5, 10);
    const m = templatePoints({ imageSize: 224, margin: 0.25 });
    expect(m[2][1]).toBeCloseTo(71.7366 + 56, 10);
    expect(() => templatePoints({ margin: 0.5 })).toThrow(ConfigError);
  });
});

describe('alignFace', () => {
  it('warps a linear ramp exactly: output pixel values equal the source coordinates', async () => {
    // Source image: R = x, G = 2y, B = 100 (200 wide, 120 high). Bilinear interpolation of a
    // linear function is exact, so at output pixel (u, v) R must equal the x of the source
    // point the known output→image transform sends (u, v) to.
    const W = 200, H = 120;
    const data = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        data[(y * W + x) * 3] = x;
        data[(y * W + x) * 3 + 1] = 2 * y;
        data[(y * W + x) * 3 + 2] = 100;
      }
    const image = tf.tensor3d(data, [H, W, 3]);
    const theta = (12 * Math.PI) / 180;
    const outToImage = { a: 0.8 * Math.cos(theta), b: 0.8 * Math.sin(theta), tx: 60, ty: 10 };
    const landmarks = ARCFACE_TEMPLATE_112.map((p) => applySimilarity(outToImage, p)) as FaceDetection['landmarks'];
    let checked = 0;
    const leaks = await countLeaks(async () => {
      const out = alignFace(image, landmarks);
      expect(out.shape).toEqual([112, 112, 3]);
      const arr = (await out.array()) as number[][][];
      for (let v = 0; v < 112; v += 3)
        for (let u = 0; u < 112; u += 3) {
          const [x, y] = applySimilarity(outToImage, [u, v]);
          if (x < 1 || y < 1 || x > W - 2 || y > H - 2) continue;
          expect(arr[v][u][0]).toBeCloseTo(x, 2);
          expect(arr[v][u][1]).toBeCloseTo(2 * y, 2);
          expect(arr[v][u][2]).toBeCloseTo(100, 3);
          checked++;
        }
      out.dispose();
    });
    expect(checked).toBeGreaterThan(1000);
    expect(leaks).toBe(0);
    image.dispose();
  });

  it('matches OpenCV warpAffine on a real face', async () => {
    // Expected: cv2.warpAffine(float32 image, the numpy-Umeyama matrix above, (112, 112),
    // INTER_LINEAR, BORDER_CONSTANT 0). OpenCV quantizes interpolation weights to 1/32,
    // hence the small tolerances.
    const file = 'data/samples/Anthony_Hopkins_0001.jpg';
    const image = await loadImage(sharedPath(file));
    const out = alignFace(image, fixtureFace(file).landmarks);
    const mean = Array.from(await tf.tidy(() => tf.mean(tf.reshape(out, [-1, 3]), 0)).data());
    [138.156, 106.842, 79.549].forEach((m, i) => expect(Math.abs(mean[i] - m)).toBeLessThan(0.5));
    const arr = (await out.array()) as number[][][];
    const px: Record<string, number[]> = {
      '51,38': [62.45, 60.53, 47.66], '56,56': [177.32, 123.91, 90.05], '92,70': [102.29, 74.29, 50.35],
      '10,100': [111.28, 98.34, 71.88], '100,10': [9.13, 2.85, 2.95],
    };
    for (const [key, rgb] of Object.entries(px)) {
      const [y, x] = key.split(',').map(Number);
      rgb.forEach((v, i) => expect(Math.abs(arr[y][x][i] - v)).toBeLessThan(3));
    }
    tf.dispose([image, out]);
  });

  it('batches faces and validates input', async () => {
    const file = 'data/samples/groups/bbt3.jpg';
    const image = await loadImage(sharedPath(file));
    const faces = fixture.images.find((e) => e.file === file)!.faces;
    const leaks = await countLeaks(() => {
      const batch = alignFaces(image, faces.map((f) => f.landmarks), { imageSize: 160, margin: 0.1 });
      expect(batch.shape).toEqual([faces.length, 160, 160, 3]);
      const second = alignFace(image, faces[1].landmarks, { imageSize: 160, margin: 0.1 });
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.squeeze(tf.slice(batch, [1], [1]), [0]), second))).dataSync()[0]);
      expect(diff).toBe(0);
      tf.dispose([batch, second]);
    });
    expect(leaks).toBe(0);
    expect(() => alignFace(image, [[1, 2]] as Point[])).toThrow(ShapeError);
    image.dispose();
  });
});
