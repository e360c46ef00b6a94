/**
 * Deterministic synthetic embedding pairs for the verification-metric tests. The same
 * generator is written in Python (see test/fixtures/README.md) to produce the expected
 * numbers with the reference implementation; every step is exact integer arithmetic or a
 * correctly rounded IEEE operation (sqrt, division, rounding to float32), so both
 * languages produce bit-identical float32 embeddings. A SHA-256 of the embeddings is
 * stored in the fixture to prove it.
 */
import { createHash } from 'node:crypto';

/** xorshift32 (13, 17, 5) over uint32. */
export class XorShift32 {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.s = x;
    return x;
  }
  /** Top 8 bits: 0…255. */
  byte(): number {
    return this.next() >>> 24;
  }
  /** Irwin–Hall of 4 bytes, centred: an integer in −510…510, roughly normal. */
  gauss(): number {
    return this.byte() + this.byte() + this.byte() + this.byte() - 510;
  }
  vec(dim: number): number[] {
    const v = new Array<number>(dim);
    for (let d = 0; d < dim; d++) v[d] = this.gauss();
    return v;
  }
}

function unitFloat32(e: number[]): Float32Array {
  let s = 0;
  for (const x of e) s += x * x; // integers: exact in double
  const n = Math.sqrt(s);
  const out = new Float32Array(e.length);
  for (let d = 0; d < e.length; d++) out[d] = e[d] / n; // rounded to float32 on store
  return out;
}

/**
 * Embedding pairs: a matched pair is `4g + b1·n1`, `4g + b2·n2` with `b ∈ 1…6`, a
 * mismatched pair `2g1 + c·h`, `2g2 + c·h` with `c ∈ 0…2` (a shared component makes some
 * strangers look alike), all L2-normalised to float32. Draw order per pair, matched:
 * g, b1, n1, b2, n2; mismatched: c, h, g1, g2.
 */
export function syntheticPairs(
  seed: number,
  issame: boolean[],
  dim: number,
): { emb1: Float32Array[]; emb2: Float32Array[] } {
  const r = new XorShift32(seed);
  const emb1: Float32Array[] = [];
  const emb2: Float32Array[] = [];
  for (const same of issame) {
    if (same) {
      const g = r.vec(dim);
      const b1 = 1 + (r.next() % 6);
      const n1 = r.vec(dim);
      const b2 = 1 + (r.next() % 6);
      const n2 = r.vec(dim);
      emb1.push(unitFloat32(g.map((x, d) => 4 * x + b1 * n1[d])));
      emb2.push(unitFloat32(g.map((x, d) => 4 * x + b2 * n2[d])));
    } else {
      const c = r.next() % 3;
      const h = r.vec(dim);
      const g1 = r.vec(dim);
      const g2 = r.vec(dim);
      emb1.push(unitFloat32(g1.map((x, d) => 2 * x + c * h[d])));
      emb2.push(unitFloat32(g2.map((x, d) => 2 * x + c * h[d])));
    }
  }
  return { emb1, emb2 };
}

/** LFW layout: per fold `perFold` matched then `perFold` mismatched pairs. */
export function lfwLayout(folds: number, perFold: number): boolean[] {
  const out: boolean[] = [];
  for (let f = 0; f < folds; f++) {
    for (let i = 0; i < perFold; i++) out.push(true);
    for (let i = 0; i < perFold; i++) out.push(false);
  }
  return out;
}

/** An irregular layout: pair `i` is matched when `(7 i) mod 5 < 2`. */
export function irregularLayout(n: number): boolean[] {
  return Array.from({ length: n }, (_, i) => (7 * i) % 5 < 2);
}

/** SHA-256 (hex) of the float32 bytes of emb1 then emb2, row by row (little-endian). */
export function embeddingsSha256(emb1: Float32Array[], emb2: Float32Array[]): string {
  const h = createHash('sha256');
  for (const e of emb1) h.update(new Uint8Array(e.buffer, e.byteOffset, e.byteLength));
  for (const e of emb2) h.update(new Uint8Array(e.buffer, e.byteOffset, e.byteLength));
  return h.digest('hex');
}
