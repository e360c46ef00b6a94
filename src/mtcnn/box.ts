/**
 * The box arithmetic of davidsandberg/facenet's `detect_face.py` (itself a port of the
 * MATLAB MTCNN code), reproduced with its quirks: pure functions on plain numbers.
 *
 * Boxes are `[x1, y1, x2, y2]` in image pixels with the MATLAB convention that a box covers
 * `x2 - x1 + 1` pixels (hence the `+1` in areas and widths).
 */
import { argsortNumpy } from './argsort.js';

/** A box with a score, as one row `[x1, y1, x2, y2, score]` of the reference's arrays. */
export interface ScoredBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

/** Bounding-box regression offsets `[dx1, dy1, dx2, dy2]`, in units of the box size. */
export type Regression = [number, number, number, number];

/** A candidate: a scored box and the regression the network predicted for it. */
export interface Candidate extends ScoredBox {
  reg: Regression;
}

/** Overlap measure of {@link nms}: intersection over union, or over the smaller area. */
export type NmsMethod = 'Union' | 'Min';

/**
 * How {@link greedySuppress} measures the overlap of boxes `i` and `j` from their
 * intersection area `inter`: over the union (`areas[i] + areas[j] − inter + epsilon`) or over
 * the smaller area. Data rather than a callback: a closure made per call is a new function
 * to V8 each time, and its call sites were optimized again for every frame.
 */
export interface OverlapMeasure {
  method: NmsMethod;
  /** Each box's area (`+1` pixels, as in the reference). */
  areas: Float64Array;
  /** Added to the union (the seed project's `1e-10`); 0 for the reference. */
  epsilon: number;
}

/** The reference's comparison for one pair: does picked box `i` suppress box `j`? */
function suppresses(boxes: readonly ScoredBox[], m: OverlapMeasure, threshold: number, i: number, j: number): boolean {
  const bi = boxes[i];
  const bj = boxes[j];
  const w = Math.max(0, Math.min(bi.x2, bj.x2) - Math.max(bi.x1, bj.x1) + 1);
  const h = Math.max(0, Math.min(bi.y2, bj.y2) - Math.max(bi.y1, bj.y1) + 1);
  const inter = w * h;
  const overlap =
    m.method === 'Min' ? inter / Math.min(m.areas[i], m.areas[j]) : inter / (m.areas[i] + m.areas[j] - inter + m.epsilon);
  return !(overlap <= threshold);
}

/** The grid cell (0…count − 1) of coordinate `v` for cells of size `cell` from `min`. */
function gridCell(v: number, min: number, cell: number, count: number): number {
  return Math.min(count - 1, Math.max(0, Math.floor((v - min) / cell)));
}

/**
 * Greedy suppression in a given pick order, as the reference's loop does it, but comparing
 * each picked box only with the boxes it can overlap (found through a uniform grid): a box
 * that does not intersect has overlap 0, which never exceeds a threshold ≥ 0, so skipping it
 * changes nothing.
 *
 * @param order indices in pick order (highest score first).
 * @returns the picked indices, in pick order.
 */
export function greedySuppress(boxes: readonly ScoredBox[], order: ArrayLike<number>, threshold: number, measure: OverlapMeasure): number[] {
  const n = boxes.length;
  const rank = new Int32Array(n);
  for (let k = 0; k < order.length; k++) rank[order[k]] = k;
  const suppressed = new Uint8Array(n);
  const pick: number[] = [];
  // Non-intersecting pairs have overlap 0 only for finite boxes of positive (+1) size.
  let wellFormed = true;
  for (const b of boxes) {
    if (!(Number.isFinite(b.x1 + b.y1 + b.x2 + b.y2) && b.x2 - b.x1 + 1 > 0 && b.y2 - b.y1 + 1 > 0)) wellFormed = false;
  }
  if (!(threshold >= 0) || !wellFormed || n < 64) {
    // Plain quadratic loop (small inputs, or inputs where non-intersecting boxes could count).
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (suppressed[i]) continue;
      pick.push(i);
      for (let m = k + 1; m < order.length; m++) {
        const j = order[m];
        if (!suppressed[j] && suppresses(boxes, measure, threshold, i, j)) suppressed[j] = 1;
      }
    }
    return pick;
  }
  // Grid over the boxes' extents; a box occupies the cells of [x1, x2 + 1] × [y1, y2 + 1].
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const sizes = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const b = boxes[j];
    minX = Math.min(minX, b.x1);
    minY = Math.min(minY, b.y1);
    maxX = Math.max(maxX, b.x2 + 1);
    maxY = Math.max(maxY, b.y2 + 1);
    sizes[j] = Math.max(b.x2 - b.x1, b.y2 - b.y1);
  }
  sizes.sort();
  const cell = Math.max(8, sizes[n >> 1]);
  const cols = Math.min(1024, Math.max(1, Math.ceil((maxX - minX) / cell) + 1));
  const rows = Math.min(1024, Math.max(1, Math.ceil((maxY - minY) / cell) + 1));
  const grid: number[][] = [];
  for (let c = 0; c < cols * rows; c++) grid.push([]);
  for (let j = 0; j < n; j++) {
    const b = boxes[j];
    for (let gy = gridCell(b.y1, minY, cell, rows); gy <= gridCell(b.y2 + 1, minY, cell, rows); gy++) {
      for (let gx = gridCell(b.x1, minX, cell, cols); gx <= gridCell(b.x2 + 1, minX, cell, cols); gx++) grid[gy * cols + gx].push(j);
    }
  }
  const seen = new Int32Array(n).fill(-1);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (suppressed[i]) continue;
    pick.push(i);
    const b = boxes[i];
    for (let gy = gridCell(b.y1, minY, cell, rows); gy <= gridCell(b.y2 + 1, minY, cell, rows); gy++) {
      for (let gx = gridCell(b.x1, minX, cell, cols); gx <= gridCell(b.x2 + 1, minX, cell, cols); gx++) {
        for (const j of grid[gy * cols + gx]) {
          if (seen[j] === k) continue;
          seen[j] = k;
          if (rank[j] > k && !suppressed[j] && suppresses(boxes, measure, threshold, i, j)) suppressed[j] = 1;
        }
      }
    }
  }
  return pick;
}

/**
 * The reference `nms(boxes, threshold, method)`: repeatedly take the highest-scoring
 * remaining box (the last of NumPy's ascending `argsort`, so ties resolve as in the
 * reference) and drop every remaining box whose overlap with it exceeds `threshold`.
 * Areas and intersections count `+1` pixels.
 *
 * @returns indices of the kept boxes, in the order they were picked (descending score).
 */
export function nms(boxes: readonly ScoredBox[], threshold: number, method: NmsMethod): number[] {
  const n = boxes.length;
  if (n === 0) return [];
  const areas = new Float64Array(n);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const b = boxes[i];
    areas[i] = (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1);
    scores[i] = b.score;
  }
  return greedySuppress(boxes, argsortNumpy(scores).reverse(), threshold, { method, areas, epsilon: 0 });
}

/**
 * The reference `bbreg`: move each edge by its regression offset times the box size,
 * the size counted MATLAB-style (`x2 - x1 + 1`).
 */
export function bbreg<T extends ScoredBox>(box: T, reg: Regression): T {
  const w = box.x2 - box.x1 + 1;
  const h = box.y2 - box.y1 + 1;
  return { ...box, x1: box.x1 + reg[0] * w, y1: box.y1 + reg[1] * h, x2: box.x2 + reg[2] * w, y2: box.y2 + reg[3] * h };
}

/**
 * The regression applied after the P-Net stage, which the reference writes out inline with
 * `regw = x2 - x1` and `regh = y2 - y1` — without the `+1` of {@link bbreg}.
 */
export function bbregPnet<T extends ScoredBox>(box: T, reg: Regression): T {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  return { ...box, x1: box.x1 + reg[0] * w, y1: box.y1 + reg[1] * h, x2: box.x2 + reg[2] * w, y2: box.y2 + reg[3] * h };
}

/**
 * The reference `rerec`: the square of side `max(w, h)` (w, h without `+1`) centred on the
 * box.
 */
export function rerec<T extends ScoredBox>(box: T): T {
  const h = box.y2 - box.y1;
  const w = box.x2 - box.x1;
  const l = Math.max(w, h);
  const x1 = box.x1 + w * 0.5 - l * 0.5;
  const y1 = box.y1 + h * 0.5 - l * 0.5;
  return { ...box, x1, y1, x2: x1 + l, y2: y1 + l };
}

/** `np.fix` of the four coordinates: truncation toward zero. */
export function fixBox<T extends ScoredBox>(box: T): T {
  return { ...box, x1: Math.trunc(box.x1), y1: Math.trunc(box.y1), x2: Math.trunc(box.x2), y2: Math.trunc(box.y2) };
}

/**
 * The reference `pad(total_boxes, w, h)` for one (integer) box: where to copy the part of the
 * box that lies inside the image into a zero-filled `tmph × tmpw` patch. All indices are
 * 1-based and inclusive, as in the MATLAB original: the reference copies
 * `img[y-1:ey, x-1:ex]` into `tmp[dy-1:edy, dx-1:edx]`, so patch column `j` (0-based) shows
 * image column `x1 - 1 + j`.
 */
export interface PadResult {
  dy: number;
  edy: number;
  dx: number;
  edx: number;
  y: number;
  ey: number;
  x: number;
  ex: number;
  tmpw: number;
  tmph: number;
}

/** {@link PadResult} of one integer box in a `w × h` image. */
export function pad(box: ScoredBox, w: number, h: number): PadResult {
  const tmpw = Math.trunc(box.x2 - box.x1 + 1);
  const tmph = Math.trunc(box.y2 - box.y1 + 1);
  let dx = 1;
  let dy = 1;
  let edx = tmpw;
  let edy = tmph;
  let x = Math.trunc(box.x1);
  let y = Math.trunc(box.y1);
  let ex = Math.trunc(box.x2);
  let ey = Math.trunc(box.y2);
  if (ex > w) {
    edx = -ex + w + tmpw;
    ex = w;
  }
  if (ey > h) {
    edy = -ey + h + tmph;
    ey = h;
  }
  if (x < 1) {
    dx = 2 - x;
    x = 1;
  }
  if (y < 1) {
    dy = 2 - y;
    y = 1;
  }
  return { dy, edy, dx, edx, y, ey, x, ex, tmpw, tmph };
}

/**
 * A map laid out like the reference's `imap` inside `generateBoundingBox` — which, after the
 * reference's transposes, is the network output of the transposed image: `rows` runs along
 * the image's x axis, `cols` along its y axis; value `(r, c)` at `data[r * cols + c]`.
 */
export interface HeatMap {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

/**
 * The reference `generateBoundingBox(imap, reg, scale, t)` for P-Net (stride 2, 12-pixel
 * cells): every cell with face probability `>= t` becomes the box
 * `[fix((2r+1)/scale), fix((2c+1)/scale), fix((2r+12)/scale), fix((2c+12)/scale)]` with its
 * regression, in row-major order of `imap`.
 *
 * Quirk kept from the reference: when exactly one cell passes, the regression maps are read
 * upside down (`np.flipud`), i.e. from row `rows - 1 - r`.
 *
 * @param reg the four regression maps interleaved, `reg[(r * cols + c) * 4 + k]`.
 */
export function generateBoundingBox(
  imap: HeatMap,
  reg: ArrayLike<number>,
  scale: number,
  t: number,
): Candidate[] {
  const stride = 2;
  const cellsize = 12;
  const { data, rows, cols } = imap;
  const hits: number[] = [];
  for (let i = 0; i < rows * cols; i++) if (data[i] >= t) hits.push(i);
  const flip = hits.length === 1;
  const out: Candidate[] = [];
  for (const i of hits) {
    const r = Math.floor(i / cols);
    const c = i - r * cols;
    const regIndex = flip ? ((rows - 1 - r) * cols + c) * 4 : i * 4;
    out.push({
      x1: Math.trunc((stride * r + 1) / scale),
      y1: Math.trunc((stride * c + 1) / scale),
      x2: Math.trunc((stride * r + cellsize - 1 + 1) / scale),
      y2: Math.trunc((stride * c + cellsize - 1 + 1) / scale),
      score: data[i],
      reg: [reg[regIndex], reg[regIndex + 1], reg[regIndex + 2], reg[regIndex + 3]],
    });
  }
  return out;
}

/** Select `items[indices[k]]` in the order of `indices`. */
export function pickAll<T>(items: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => items[i]);
}
