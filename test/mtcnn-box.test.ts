/**
 * Pure parts of the MTCNN detector, checked on hand-worked cases (each worked out in the
 * comment next to it) and on outputs of NumPy / OpenCV themselves (fixtures, see notes).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { argsortNumpy } from '../src/mtcnn/argsort.js';
import { bbreg, bbregPnet, fixBox, generateBoundingBox, nms, pad, rerec, type ScoredBox } from '../src/mtcnn/box.js';
import { powInt, pyramidLevels, seedPyramidLevels } from '../src/mtcnn/pyramid.js';
import { resizeArea, resizeAreaPadded } from '../src/image/resize-area.js';
import { resizeLinear } from '../src/image/resize-linear.js';
import { seedCalibrate, seedGenerateBbox, seedNms, seedPad, seedSquare } from '../src/mtcnn/pipeline-seed.js';
import { ShapeError, ConfigError } from '../src/errors.js';

const box = (x1: number, y1: number, x2: number, y2: number, score: number): ScoredBox => ({ x1, y1, x2, y2, score });

describe('nms (reference algorithm)', () => {
  // A and B: 10×10 boxes (areas with +1: 100) offset by 1 → intersection 9×9 = 81,
  // IoU = 81 / (100 + 100 - 81) = 0.6807. C is far away.
  const A = box(0, 0, 9, 9, 0.9);
  const B = box(1, 1, 10, 10, 0.8);
  const C = box(20, 20, 29, 29, 0.7);

  it('suppresses by IoU above the threshold, picks in descending score order', () => {
    expect(nms([C, B, A], 0.5, 'Union')).toEqual([2, 0]);
    expect(nms([C, B, A], 0.7, 'Union')).toEqual([2, 1, 0]);
    // Exactly at the threshold the box is kept (o <= threshold survives).
    expect(nms([A, B], 81 / 119, 'Union')).toEqual([0, 1]);
  });

  it("'Min' divides by the smaller area", () => {
    // D (4×4 = 16) lies inside A: IoU = 16/100 = 0.16, but intersection/min = 16/16 = 1.
    const D = box(2, 2, 5, 5, 0.5);
    expect(nms([A, D], 0.7, 'Union')).toEqual([0, 1]);
    expect(nms([A, D], 0.7, 'Min')).toEqual([0]);
  });

  it('resolves equal scores like NumPy (last index of the ascending argsort first)', () => {
    expect(nms([box(0, 0, 9, 9, 0.5), box(0, 0, 9, 9, 0.5)], 0.5, 'Union')).toEqual([1]);
    expect(nms([], 0.5, 'Union')).toEqual([]);
  });
});

describe('nms on many boxes (grid-accelerated) equals the reference loop', () => {
  // The reference's loop, written out literally: I = argsort(s); pick I[-1]; keep o <= t.
  function referenceLoop(boxes: ScoredBox[], t: number, method: 'Union' | 'Min'): number[] {
    const area = boxes.map((b) => (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1));
    let I = Array.from(argsortNumpy(boxes.map((b) => b.score)));
    const pick: number[] = [];
    while (I.length > 0) {
      const i = I[I.length - 1];
      pick.push(i);
      I = I.slice(0, -1).filter((j) => {
        const w = Math.max(0, Math.min(boxes[i].x2, boxes[j].x2) - Math.max(boxes[i].x1, boxes[j].x1) + 1);
        const h = Math.max(0, Math.min(boxes[i].y2, boxes[j].y2) - Math.max(boxes[i].y1, boxes[j].y1) + 1);
        const inter = w * h;
        const o = method === 'Min' ? inter / Math.min(area[i], area[j]) : inter / (area[i] + area[j] - inter);
        return o <= t;
      });
    }
    return pick;
  }

  it('on random boxes with tied scores', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 30; trial++) {
      const boxes: ScoredBox[] = [];
      for (let k = 0; k < 300; k++) {
        const x1 = Math.floor(rnd() * 400);
        const y1 = Math.floor(rnd() * 300);
        const side = 5 + rnd() * (trial % 3 === 0 ? 150 : 30);
        boxes.push(box(x1, y1, x1 + side * (0.7 + rnd() * 0.6), y1 + side, Math.round(rnd() * 20) / 20));
      }
      for (const [t, m] of [[0.5, 'Union'], [0.7, 'Union'], [0.7, 'Min'], [0, 'Union']] as const) {
        expect(nms(boxes, t, m)).toEqual(referenceLoop(boxes, t, m));
      }
    }
  });
});

describe('argsortNumpy', () => {
  it('matches np.argsort on short arrays (insertion sort: stable)', () => {
    expect(Array.from(argsortNumpy([3, 1, 2, 1]))).toEqual([1, 3, 2, 0]);
  });

  it('matches np.argsort where NumPy is not stable', () => {
    // Both expected permutations printed by NumPy 1.24.2: np.argsort(np.array(v, float)).
    const v = [3, 1, 2, 1, 3, 0, 2, 2, 1, 3, 0, 1, 2, 3, 3, 1, 0, 2, 1, 3];
    expect(Array.from(argsortNumpy(v))).toEqual([5, 10, 16, 1, 3, 8, 18, 11, 15, 2, 17, 6, 7, 12, 0, 9, 13, 4, 14, 19]);
    expect(Array.from(argsortNumpy(new Array(20).fill(0.5)))).toEqual([
      0, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 18, 19,
    ]);
  });
});

describe('box arithmetic', () => {
  it('bbreg scales offsets by the +1 size', () => {
    // w = 29-10+1 = 20, h = 59-20+1 = 40: [10+0.1*20, 20-0.05*40, 29+0.2*20, 59+0.5*40].
    const b = bbreg(box(10, 20, 29, 59, 1), [0.1, -0.05, 0.2, 0.5]);
    expect([b.x1, b.y1, b.x2, b.y2]).toEqual([12, 18, 33, 79]);
  });

  it('the P-Net regression uses the size without +1', () => {
    // w = 19, h = 39: [10+1.9, 20-1.95, 29+3.8, 59+19.5].
    const b = bbregPnet(box(10, 20, 29, 59, 1), [0.1, -0.05, 0.2, 0.5]);
    expect(b.x1).toBeCloseTo(11.9, 12);
    expect(b.y1).toBeCloseTo(18.05, 12);
    expect(b.x2).toBeCloseTo(32.8, 12);
    expect(b.y2).toBeCloseTo(78.5, 12);
  });

  it('rerec squares around the centre with side max(w, h)', () => {
    // w = 20, h = 40, l = 40: x1 = 10 + 10 - 20 = 0, y1 = 20 + 20 - 20 = 20, x2 = 40, y2 = 60.
    const b = rerec(box(10, 20, 30, 60, 0.3));
    expect([b.x1, b.y1, b.x2, b.y2, b.score]).toEqual([0, 20, 40, 60, 0.3]);
  });

  it('fixBox truncates toward zero', () => {
    const b = fixBox(box(-1.5, 2.7, -0.2, 9.99, 1));
    expect([b.x1, b.y1, b.x2, b.y2]).toEqual([-1, 2, -0, 9]);
  });

  it('pad: 1-based copy windows of a box leaving the image', () => {
    // Box x -3…20, y 5…50 in an 18×40 image: tmpw = 24, tmph = 46.
    // ex = 20 > 18 → edx = -20 + 18 + 24 = 22, ex = 18; ey = 50 > 40 → edy = 46 - 10 = 36, ey = 40;
    // x = -3 < 1 → dx = 2 - (-3) = 5, x = 1; y = 5 stays, dy = 1.
    const p = pad(box(-3, 5, 20, 50, 1), 18, 40);
    expect(p).toEqual({ dy: 1, edy: 36, dx: 5, edx: 22, y: 5, ey: 40, x: 1, ex: 18, tmpw: 24, tmph: 46 });
    // The copied blocks have equal sizes: 22-5+1 = 18 = 18-1+1 columns, 36 = 40-5+1 rows.
    expect(p.edx - p.dx).toBe(p.ex - p.x);
    expect(p.edy - p.dy).toBe(p.ey - p.y);
  });
});

describe('generateBoundingBox', () => {
  // imap rows run along x, columns along y (the transposed network output).
  // (r,c): (0,0)=.1 (0,1)=.9 (1,0)=.7 (1,1)=.2 (2,0)=.6 (2,1)=.3; regression of cell i = [10i, 10i+1, 10i+2, 10i+3].
  const data = [0.1, 0.9, 0.7, 0.2, 0.6, 0.3];
  const reg = Array.from({ length: 24 }, (_, j) => Math.floor(j / 4) * 10 + (j % 4));

  it('maps cells with p >= t to 12-pixel windows at stride 2, in row-major order', () => {
    const out = generateBoundingBox({ data, rows: 3, cols: 2 }, reg, 0.5, 0.6);
    // (0,1): [fix(1/.5), fix(3/.5), fix(12/.5), fix(14/.5)] = [2, 6, 24, 28];
    // (1,0): [6, 2, 28, 24]; (2,0): [10, 2, 32, 24] (0.6 >= 0.6 passes).
    expect(out.map((b) => [b.x1, b.y1, b.x2, b.y2, b.score])).toEqual([
      [2, 6, 24, 28, 0.9],
      [6, 2, 28, 24, 0.7],
      [10, 2, 32, 24, 0.6],
    ]);
    expect(out.map((b) => b.reg)).toEqual([
      [10, 11, 12, 13],
      [20, 21, 22, 23],
      [40, 41, 42, 43],
    ]);
  });

  it('truncates (np.fix) the scaled coordinates', () => {
    // scale 0.7, cell (1,0): [fix(3/.7)=4, fix(1/.7)=1, fix(14/.7)=20, fix(12/.7)=17].
    const out = generateBoundingBox({ data, rows: 3, cols: 2 }, reg, 0.7, 0.65);
    expect(out.map((b) => [b.x1, b.y1, b.x2, b.y2])).toEqual([
      [1, 4, 17, 20],
      [4, 1, 20, 17],
    ]);
  });

  it('reads the regression upside down when exactly one cell passes (reference quirk)', () => {
    // Only (0,1) passes; flipud → regression of cell (2,1) = index 5.
    const out = generateBoundingBox({ data, rows: 3, cols: 2 }, reg, 0.5, 0.8);
    expect(out).toHaveLength(1);
    expect(out[0].reg).toEqual([50, 51, 52, 53]);
  });
});

describe('pyramid', () => {
  it("reference levels: m·factor^k while min side·m·factor^k >= 12, sizes ceil(side·scale)", () => {
    // h = 250, w = 100, minsize 20: m = 0.6; min side 100 → 60, 42.5, 30.2, 21.4, 15.2, (10.7 stops).
    const levels = pyramidLevels(250, 100, 20, 0.709);
    expect(levels.map((l) => [l.height, l.width])).toEqual([
      [150, 60],
      [107, 43],
      [76, 31],
      [54, 22],
      [38, 16],
    ]);
    // Python: 0.6 * 0.709**2 = 0.30160859999999995.
    expect(levels[2].scale).toBe(0.30160859999999995);
  });

  it('powInt is correctly rounded (Python 0.709**3), unlike Math.pow', () => {
    expect(powInt(0.709, 3)).toBe(0.3564008289999999);
    expect(powInt(0.709, 0)).toBe(1);
    expect(powInt(0.5, 10)).toBe(1 / 1024);
  });

  it("seed levels: int(side·scale) while the smaller side is > 12, scale *= factor", () => {
    // 100×80, minsize 20: scale 0.6 → 60×48; 0.474 → 47×37; 0.37446 → 37×29; 0.2958 → 29×23;
    // 0.2337 → 23×18; 0.18463 → 18×14; 0.14586 → 14×11 stops (11 <= 12).
    expect(seedPyramidLevels(100, 80, 20, 0.79).map((l) => [l.height, l.width])).toEqual([
      [60, 48],
      [47, 37],
      [37, 29],
      [29, 23],
      [23, 18],
      [18, 14],
    ]);
  });

  it('rejects bad settings with ConfigError', () => {
    expect(() => pyramidLevels(100, 100, 0, 0.709)).toThrow(ConfigError);
    expect(() => pyramidLevels(100, 100, 20, 1.2)).toThrow(ConfigError);
  });
});

describe('resizeArea / resizeLinear (OpenCV semantics)', () => {
  it('2×2 block average of uint8 rounds half up (OpenCV fast path)', () => {
    // (1+2+3+4+2) >> 2 = 3, although 10/4 = 2.5 rounds half-even to 2.
    const r = resizeArea({ data: Uint8Array.from([1, 2, 3, 4]), height: 2, width: 2, channels: 1 }, 1, 1);
    expect(Array.from(r.data)).toEqual([3]);
  });

  it('averages fractional footprints (3 → 2 columns)', () => {
    // scale 1.5: out0 = 10·(1/1.5) + 20·(0.5/1.5), out1 = 20·(0.5/1.5) + 40·(1/1.5), weights as floats.
    const f = Math.fround;
    const r = resizeArea({ data: Float64Array.from([10, 20, 40]), height: 1, width: 3, channels: 1 }, 1, 2);
    expect(Array.from(r.data)).toEqual([10 * f(1 / 1.5) + 20 * f(0.5 / 1.5), 20 * f(0.5 / 1.5) + 40 * f(1 / 1.5)]);
    expect(r.data[0]).toBeCloseTo(40 / 3, 6);
  });

  it('enlarging with INTER_AREA repeats pixels (its bilinear fallback with area coefficients)', () => {
    // inv scale 2: dx 0,1 → source 0 with weight (1, 0); dx 2,3 → source 1.
    const r = resizeArea({ data: Uint8Array.from([10, 200]), height: 1, width: 2, channels: 1 }, 1, 4);
    expect(Array.from(r.data)).toEqual([10, 10, 200, 200]);
  });

  it('same size is a copy; bad sizes throw ShapeError', () => {
    const src = { data: Uint8Array.from([1, 2, 3]), height: 1, width: 1, channels: 3 };
    const r = resizeArea(src, 1, 1);
    expect(Array.from(r.data)).toEqual([1, 2, 3]);
    expect(r.data).not.toBe(src.data);
    expect(() => resizeArea(src, 0, 2)).toThrow(ShapeError);
    expect(() => resizeLinear({ ...src, width: 2 }, 2, 2)).toThrow(ShapeError);
  });

  it('reproduces cv2.resize bit for bit (fixture made by OpenCV 4.6)', () => {
    // test/fixtures/opencv-resize.json: outputs of cv2.resize on random images, written by
    // test/fixtures/opencv-resize.py (INTER_AREA and INTER_LINEAR, uint8 and float64, every code path).
    const fx = JSON.parse(readFileSync(new URL('./fixtures/opencv-resize.json', import.meta.url), 'utf8'));
    expect(fx.cases.length).toBeGreaterThanOrEqual(18);
    for (const c of fx.cases) {
      const bytes = Buffer.from(c.input, 'base64');
      const out = Buffer.from(c.output, 'base64');
      const u8 = c.dtype === 'uint8';
      const data = u8 ? new Uint8Array(bytes) : Float64Array.from(bytes);
      // Copy before viewing as float64: a pooled Buffer may not be 8-byte aligned.
      const expected = u8 ? Array.from(new Uint8Array(out)) : Array.from(new Float64Array(Uint8Array.from(out).buffer));
      const src = { data, height: c.height, width: c.width, channels: c.channels };
      const got = c.interpolation === 'area' ? resizeArea(src, c.dstHeight, c.dstWidth) : resizeLinear(src, c.dstHeight, c.dstWidth);
      expect(Array.from(got.data), c.note).toEqual(expected);
    }
  });

  it('resizeAreaPadded equals resizing the materialized zero-padded patch', () => {
    // A deterministic 30×20 image; windows partly outside it in every direction.
    const img = { data: Uint8Array.from({ length: 30 * 20 * 3 }, (_, i) => (i * 37) % 256), height: 30, width: 20, channels: 3 };
    const wins = [
      { height: 40, width: 35, rowOffset: -5, colOffset: -8, rowStart: 5, rowEnd: 35, colStart: 8, colEnd: 28 },
      { height: 25, width: 25, rowOffset: 10, colOffset: 3, rowStart: 0, rowEnd: 20, colStart: 0, colEnd: 17 },
      { height: 13, width: 9, rowOffset: 2, colOffset: 2, rowStart: 0, rowEnd: 13, colStart: 0, colEnd: 9 },
      { height: 48, width: 48, rowOffset: 0, colOffset: 0, rowStart: 0, rowEnd: 30, colStart: 0, colEnd: 20 },
    ];
    for (const w of wins) {
      const tmp = new Float64Array(w.height * w.width * 3);
      for (let r = w.rowStart; r < w.rowEnd; r++)
        for (let c = w.colStart; c < w.colEnd; c++)
          for (let k = 0; k < 3; k++) {
            const ir = r + w.rowOffset;
            const ic = c + w.colOffset;
            if (ir >= 0 && ir < 30 && ic >= 0 && ic < 20) tmp[(r * w.width + c) * 3 + k] = img.data[(ir * 20 + ic) * 3 + k];
          }
      for (const size of [24, 48]) {
        const want = resizeArea({ data: tmp, height: w.height, width: w.width, channels: 3 }, size, size).data;
        expect(Array.from(resizeAreaPadded(img, w, size, size))).toEqual(Array.from(want));
      }
    }
  });
});

describe("the seed's box arithmetic", () => {
  it('py_nms adds 1e-10 to the union and picks highest first', () => {
    // Same geometry as above: IoU(A, B) = 81/119 = 0.68 → B suppressed at 0.6, kept at 0.7.
    const A = box(0, 0, 9, 9, 0.9);
    const B = box(1, 1, 10, 10, 0.8);
    expect(seedNms([B, A], 0.6)).toEqual([1]);
    expect(seedNms([B, A], 0.7)).toEqual([1, 0]);
  });

  it('generate_bbox rounds half to even with cells > t (rows along y)', () => {
    // 2×2 map, scale 0.8: cell (r=1, c=0) → [round(0), round(2/.8)=round(2.5)=2, round(12/.8)=15, round(14/.8)=round(17.5)=18].
    const out = seedGenerateBbox({ data: [0.1, 0.6, 0.9, 0.2], rows: 2, cols: 2 }, [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0], 0.8, 0.6);
    expect(out.map((b) => [b.x1, b.y1, b.x2, b.y2, b.score])).toEqual([[0, 2, 15, 18, 0.9]]);
    expect(out[0].reg).toEqual([1, 2, 3, 4]);
  });

  it('convert_to_square (+1 sizes) then rounds; pad clips the box in place', () => {
    // [10, 20, 29, 59]: w = 20, h = 40, side 40 → x1 = 10 + 10 - 20 = 0, y1 = 20, x2 = 39, y2 = 59.
    const sq = seedSquare(box(10, 20, 29, 59, 1));
    expect([sq.x1, sq.y1, sq.x2, sq.y2]).toEqual([0, 20, 39, 59]);
    // In a 30×50 image: tmpw = tmph = 40; ex 39 > 29 → edx = 40 + 30 - 2 - 39 = 29, ex = 29;
    // ey 59 > 49 → edy = 40 + 50 - 2 - 59 = 29, ey = 49.
    const { pad: p, clipped } = seedPad(sq, 30, 50);
    expect(p).toEqual({ dy: 0, edy: 29, dx: 0, edx: 29, y: 20, ey: 49, x: 0, ex: 29, tmpw: 40, tmph: 40 });
    expect([clipped.x1, clipped.y1, clipped.x2, clipped.y2]).toEqual([0, 20, 29, 49]);
    // calibrate_box: w = 30, h = 30 → [0 + 3, 20 - 3, 29 + 6, 49 + 0].
    const c = seedCalibrate(clipped, [0.1, -0.1, 0.2, 0]);
    expect([c.x1, c.y1, c.x2, c.y2]).toEqual([3, 17, 35, 49]);
  });
});
