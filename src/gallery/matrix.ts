/**
 * A growable matrix of float32 embeddings (one per row) that can compute the dot product
 * of every row with one or many queries at close to memory-bandwidth speed.
 *
 * Storage is a single contiguous buffer, rows padded with zeros to a multiple of 16
 * floats. When WebAssembly SIMD is available (Node ≥ 16, all current browsers) the buffer
 * IS the WebAssembly memory of {@link instantiateSimdKernels}, so scans run in SIMD
 * without copying; otherwise plain JavaScript loops do the same work (about 3× slower,
 * compute-bound). A wasm memory is limited to 4 GiB: beyond that the matrix moves to a
 * plain `ArrayBuffer` and the JavaScript loops.
 */
import { ConfigError, ShapeError } from '../errors.js';
import { instantiateSimdKernels, WASM_MAX_PAGES, WASM_PAGE, type SimdKernels } from './simd-kernel.js';

/** Which implementation scans the matrix. */
export type ScanBackend = 'wasm-simd' | 'js';

/** Options of {@link EmbeddingMatrix}. */
export interface EmbeddingMatrixOptions {
  /** Rows to reserve up front. Default 1024. */
  initialCapacity?: number;
  /** `'auto'` (default) uses wasm SIMD when available; `'js'` forces the plain loops. */
  backend?: 'auto' | ScanBackend;
}

/**
 * Called for each block of rows scanned: `dots[r * lanes + j]` is the dot product of row
 * `rowStart + r` with query `queryStart + j`, for `r < count` and `j < queries`
 * (`lanes` ≥ `queries` is the layout stride).
 */
export type ScanVisitor = (
  rowStart: number,
  count: number,
  dots: Float32Array,
  lanes: number,
  queryStart: number,
  queries: number,
) => void;

/** Bytes of matrix rows scanned per block: small enough to stay in L2 while several query groups reuse it. */
const BLOCK_BYTES = 256 * 1024;

export class EmbeddingMatrix {
  /** Embedding length. */
  readonly dim: number;
  /** Floats per stored row (`dim` rounded up to a multiple of 16). */
  readonly stride: number;
  private count = 0;
  private capacity: number;
  private kernels: SimdKernels | null;
  private buffer: ArrayBuffer;
  private floats: Float32Array;
  /** Squared L2 norm of each row (float64 accumulation). */
  private norms: Float64Array;

  constructor(dim: number, opts: EmbeddingMatrixOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new ConfigError('dimension', `must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.stride = Math.ceil(dim / 16) * 16;
    this.capacity = Math.max(1, opts.initialCapacity ?? 1024);
    const backend = opts.backend ?? 'auto';
    this.kernels = null;
    if (backend !== 'js') {
      const pages = Math.ceil((this.capacity * this.stride * 4) / WASM_PAGE) + 1;
      this.kernels = pages <= WASM_MAX_PAGES ? instantiateSimdKernels(pages) : null;
      if (!this.kernels && backend === 'wasm-simd') {
        throw new ConfigError('backend', 'WebAssembly SIMD is not available in this JavaScript engine');
      }
    }
    this.buffer = this.kernels ? (this.kernels.memory.buffer as ArrayBuffer) : new ArrayBuffer(this.capacity * this.stride * 4);
    this.floats = new Float32Array(this.buffer);
    this.norms = new Float64Array(this.capacity);
  }

  /** Number of rows. */
  get rows(): number {
    return this.count;
  }

  /** The scan implementation in use. */
  get backend(): ScanBackend {
    return this.kernels ? 'wasm-simd' : 'js';
  }

  /** Bytes of row storage in use (rows × stride × 4). */
  get byteLength(): number {
    return this.count * this.stride * 4;
  }

  /** Current views (a wasm memory's buffer is replaced when it grows). */
  private data(): Float32Array {
    if (this.kernels && this.kernels.memory.buffer !== this.buffer) {
      this.buffer = this.kernels.memory.buffer as ArrayBuffer;
      this.floats = new Float32Array(this.buffer);
    }
    return this.floats;
  }

  /** Make room for `rows` rows plus `scratchBytes` of scratch space after them. */
  private reserve(rows: number, scratchBytes = 0): void {
    let cap = this.capacity;
    if (rows > cap) cap = Math.max(rows, Math.ceil(cap * 1.5), 1024);
    const needBytes = cap * this.stride * 4 + scratchBytes;
    if (this.kernels) {
      const havePages = this.kernels.memory.buffer.byteLength / WASM_PAGE;
      let needPages = Math.ceil(needBytes / WASM_PAGE);
      if (needPages > WASM_MAX_PAGES && rows <= cap) {
        // Growing by 1.5× overshoots 4 GiB: take exactly what is needed.
        cap = rows;
        needPages = Math.ceil((cap * this.stride * 4 + scratchBytes) / WASM_PAGE);
      }
      if (needPages > WASM_MAX_PAGES) {
        this.moveToPlainMemory(cap);
      } else if (needPages > havePages) {
        this.kernels.memory.grow(needPages - havePages);
      }
    } else if (cap > this.capacity) {
      const next = new ArrayBuffer(cap * this.stride * 4);
      const view = new Float32Array(next);
      view.set(this.floats.subarray(0, this.count * this.stride));
      this.buffer = next;
      this.floats = view;
    }
    if (cap > this.capacity) {
      const norms = new Float64Array(cap);
      norms.set(this.norms.subarray(0, this.count));
      this.norms = norms;
      this.capacity = cap;
    }
  }

  private moveToPlainMemory(cap: number): void {
    const src = this.data();
    const next = new ArrayBuffer(cap * this.stride * 4);
    const view = new Float32Array(next);
    view.set(src.subarray(0, this.count * this.stride));
    this.kernels = null;
    this.buffer = next;
    this.floats = view;
  }

  /** Append one embedding; returns its row index. @throws {ShapeError} on a wrong length or non-finite value. */
  append(v: ArrayLike<number>): number {
    if (v.length !== this.dim) throw new ShapeError('embedding', `length ${this.dim}`, String(v.length));
    this.reserve(this.count + 1);
    const f = this.data();
    const off = this.count * this.stride;
    let n = 0;
    for (let d = 0; d < this.dim; d++) {
      const x = v[d];
      if (!Number.isFinite(x)) throw new ShapeError('embedding', 'finite values', `${x} at index ${d}`);
      f[off + d] = x;
      n += f[off + d] * f[off + d];
    }
    for (let d = this.dim; d < this.stride; d++) f[off + d] = 0;
    this.norms[this.count] = n;
    return this.count++;
  }

  /**
   * Append `n` embeddings stored back to back in `flat` (`n × dim` floats) — the fast path
   * for bulk loads. Values are not checked for finiteness.
   */
  appendFlat(flat: Float32Array): void {
    if (flat.length % this.dim !== 0) throw new ShapeError('embeddings', `a multiple of ${this.dim} floats`, String(flat.length));
    const n = flat.length / this.dim;
    this.reserve(this.count + n);
    const f = this.data();
    for (let i = 0; i < n; i++) {
      const off = (this.count + i) * this.stride;
      const src = flat.subarray(i * this.dim, (i + 1) * this.dim);
      f.set(src, off);
      if (this.stride > this.dim) f.fill(0, off + this.dim, off + this.stride);
      let s = 0;
      for (let d = 0; d < this.dim; d++) s += src[d] * src[d];
      this.norms[this.count + i] = s;
    }
    this.count += n;
  }

  /** A copy of row `r` (`dim` floats). */
  row(r: number): Float32Array {
    if (!(r >= 0 && r < this.count)) throw new ConfigError('row', `must be in 0…${this.count - 1}, got ${r}`);
    const off = r * this.stride;
    return this.data().slice(off, off + this.dim);
  }

  /** Squared L2 norm of row `r`. */
  squaredNorm(r: number): number {
    return this.norms[r];
  }

  /** Squared L2 norms of all rows (a view, valid until the next append). */
  squaredNorms(): Float64Array {
    return this.norms.subarray(0, this.count);
  }

  /** Keep only the rows whose `keep[r]` is true, in order (compacts in place). */
  compact(keep: ArrayLike<boolean>): void {
    if (keep.length !== this.count) throw new ShapeError('keep', `${this.count} flags`, String(keep.length));
    const f = this.data();
    let w = 0;
    for (let r = 0; r < this.count; r++) {
      if (!keep[r]) continue;
      if (w !== r) {
        f.copyWithin(w * this.stride, r * this.stride, (r + 1) * this.stride);
        this.norms[w] = this.norms[r];
      }
      w++;
    }
    this.count = w;
  }

  /** Remove all rows. */
  clear(): void {
    this.count = 0;
  }

  /**
   * Dot products of every row with every query, block by block (see {@link ScanVisitor}).
   * One query reads the matrix once at memory speed; several queries are processed four
   * at a time against each cache-resident block, so a batch costs far less than one scan
   * per query.
   */
  scan(queries: readonly ArrayLike<number>[], visit: ScanVisitor): void {
    for (const q of queries) if (q.length !== this.dim) throw new ShapeError('query', `length ${this.dim}`, String(q.length));
    if (queries.length === 0 || this.count === 0) return;
    const lanes = queries.length === 1 ? 1 : 4;
    const groups = Math.ceil(queries.length / lanes);
    const blockRows = Math.max(16, Math.floor(BLOCK_BYTES / (this.stride * 4)));
    const qFloats = groups * lanes * this.stride;
    const outFloats = blockRows * lanes;
    // Scratch space for the queries and one block of results lives after the rows (this
    // may move the matrix out of wasm memory when it would exceed 4 GiB).
    if (this.kernels) this.reserve(this.count, (qFloats + outFloats) * 4 + 64);
    if (this.kernels) {
      const f = this.data();
      const qBase = this.capacity * this.stride; // scratch starts after the reserved rows
      const outBase = qBase + qFloats;
      f.fill(0, qBase, qBase + qFloats);
      queries.forEach((q, i) => {
        for (let d = 0; d < this.dim; d++) f[qBase + i * this.stride + d] = q[d];
      });
      const out = f.subarray(outBase, outBase + outFloats);
      const k = this.kernels;
      for (let r0 = 0; r0 < this.count; r0 += blockRows) {
        const n = Math.min(blockRows, this.count - r0);
        for (let g = 0; g < groups; g++) {
          const qPtr = (qBase + g * lanes * this.stride) * 4;
          if (lanes === 1) k.dot1(r0 * this.stride * 4, n, this.stride, qPtr, outBase * 4);
          else k.dot4(r0 * this.stride * 4, n, this.stride, qPtr, outBase * 4);
          visit(r0, n, out, lanes, g * lanes, Math.min(lanes, queries.length - g * lanes));
        }
      }
      return;
    }
    // Plain JavaScript: the same blocking, four accumulators per dot product.
    const f = this.data();
    const qs = new Float32Array(qFloats);
    queries.forEach((q, i) => {
      for (let d = 0; d < this.dim; d++) qs[i * this.stride + d] = q[d];
    });
    const out = new Float32Array(outFloats);
    const S = this.stride;
    for (let r0 = 0; r0 < this.count; r0 += blockRows) {
      const n = Math.min(blockRows, this.count - r0);
      for (let g = 0; g < groups; g++) {
        const nq = Math.min(lanes, queries.length - g * lanes);
        for (let j = 0; j < nq; j++) {
          const qo = (g * lanes + j) * S;
          for (let r = 0; r < n; r++) {
            const mo = (r0 + r) * S;
            let s0 = 0;
            let s1 = 0;
            let s2 = 0;
            let s3 = 0;
            for (let d = 0; d < S; d += 4) {
              s0 += f[mo + d] * qs[qo + d];
              s1 += f[mo + d + 1] * qs[qo + d + 1];
              s2 += f[mo + d + 2] * qs[qo + d + 2];
              s3 += f[mo + d + 3] * qs[qo + d + 3];
            }
            out[r * lanes + j] = s0 + s1 + s2 + s3;
          }
        }
        visit(r0, n, out, lanes, g * lanes, nq);
      }
    }
  }

  /**
   * Sum of every stored float, read once in the same way a one-query scan reads them: the
   * memory-bandwidth floor that scans are compared against. `plainJs` uses a JavaScript
   * loop even when the SIMD kernel is available (for comparison).
   */
  sum(opts: { plainJs?: boolean } = {}): number {
    const n = this.count * this.stride;
    if (this.kernels && !opts.plainJs) return this.kernels.sum(0, n);
    const f = this.data();
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < n; i += 4) {
      s0 += f[i];
      s1 += f[i + 1];
      s2 += f[i + 2];
      s3 += f[i + 3];
    }
    return s0 + s1 + s2 + s3;
  }
}
