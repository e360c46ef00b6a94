/**
 * A small seeded random number generator (xoshiro128**) whose whole state is four
 * 32-bit words, so it can be written into a checkpoint and restored exactly.
 *
 * Training derives an independent generator for every (purpose, step, …) key with
 * {@link Rng.derive}: the random choices of step k (data order, crops, flips, dropout
 * masks) then depend only on the seed and k, never on how many numbers earlier steps
 * drew. That is what makes a resumed run, or a run whose batches were prefetched
 * ahead, draw exactly the same numbers as an uninterrupted one.
 */
import { ConfigError } from '../errors.js';

/** The serializable state of an {@link Rng}: four unsigned 32-bit words, not all zero. */
export type RngState = [number, number, number, number];

/** splitmix32: a strong 32-bit mixer used to expand seeds and hash keys. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Fold a key part (number or string) into a running 32-bit hash. */
function mixKey(h: number, part: number | string): number {
  if (typeof part === 'number') {
    if (!Number.isFinite(part)) throw new ConfigError('rng key', `not a finite number: ${part}`);
    // Integers up to 2^53 are folded as two 32-bit halves.
    const lo = part >>> 0;
    const hi = Math.floor(part / 4294967296) >>> 0;
    h = splitmix32(h ^ lo);
    return splitmix32(h ^ hi ^ 0x5bd1e995);
  }
  h = splitmix32(h ^ 0x27d4eb2f ^ part.length);
  for (let i = 0; i < part.length; i++) h = splitmix32(h ^ part.charCodeAt(i));
  return h;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** xoshiro128** pseudo-random generator with serializable state. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator seeded from an integer (any 32-bit value; equal seeds give equal streams). */
  constructor(seed: number) {
    let h = mixKey(0x6a09e667, seed);
    h = splitmix32(h);
    this.s0 = h;
    h = splitmix32(h);
    this.s1 = h;
    h = splitmix32(h);
    this.s2 = h;
    h = splitmix32(h);
    this.s3 = h;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * An independent generator for a key such as `('augment', step)`: the same seed and
   * key always give the same stream, different keys give unrelated streams.
   */
  static derive(seed: number, ...key: Array<number | string>): Rng {
    let h = mixKey(0x3c6ef372, seed);
    for (const part of key) h = mixKey(h, part);
    return new Rng(h);
  }

  /** Restore a generator from {@link Rng.getState}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** The next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** A float uniformly distributed in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An integer uniformly distributed in [0, n) (unbiased). */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0 && n <= 4294967296)) {
      throw new ConfigError('Rng.int n', `must be an integer in 1…2^32, got ${n}`);
    }
    // Rejection sampling removes the modulo bias.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Shuffle `a` in place (Fisher–Yates) and return it. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): typeof a {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** The current state (copy). */
  getState(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Continue from a saved state. */
  setState(state: RngState): void {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)
    ) {
      throw new ConfigError('rng state', 'expected four unsigned 32-bit integers');
    }
    if (state.every((w) => w === 0)) throw new ConfigError('rng state', 'all-zero state is invalid');
    [this.s0, this.s1, this.s2, this.s3] = state;
  }
}
