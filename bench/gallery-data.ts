/**
 * Synthetic gallery data and CPU timing for the gallery benchmark (`bench/gallery.ts`).
 *
 * Data: identities with a random unit centre each; an embedding is the centre plus 0.6 × a
 * random unit vector, renormalised; queries are new samples of enrolled identities. Every
 * number comes from a seeded xorshift32, so a run is repeatable.
 *
 * Time: process CPU time (`process.cpuUsage`, all threads), not wall time — the machines
 * these benchmarks run on are often shared, and CPU time is what another job does not inflate.
 */
import type { EnrollEntry } from '../src/gallery/store.js';

/** Embeddings per identity. */
export const PER_IDENTITY = 5;
/** Length of the noise added to an identity's centre. */
const NOISE = 0.6;

/** Deterministic uniform numbers in [−1, 1) (xorshift32). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

function normalize(v: Float32Array, off: number, dim: number): void {
  let s = 0;
  for (let d = 0; d < dim; d++) s += v[off + d]! * v[off + d]!;
  const k = 1 / Math.sqrt(s);
  for (let d = 0; d < dim; d++) v[off + d]! *= k;
}

/** Synthetic enrolled embeddings: `size` rows of `dim` floats, identity `i` owns rows 5i … 5i+4. */
export interface SyntheticGallery {
  dim: number;
  size: number;
  /** Row-major embeddings. */
  flat: Float32Array;
  /** Identity name of each row. */
  names: string[];
  /** Unit centre of each identity (for queries). */
  centres: Float32Array[];
}

/** Write a sample of `centre` (centre + NOISE · random unit vector, renormalised) into `out` at `off`. */
function sampleInto(centre: Float32Array, r: () => number, out: Float32Array, off: number): void {
  const dim = centre.length;
  for (let d = 0; d < dim; d++) out[off + d] = r();
  normalize(out, off, dim);
  for (let d = 0; d < dim; d++) out[off + d] = centre[d]! + NOISE * out[off + d]!;
  normalize(out, off, dim);
}

/** `size` embeddings of `dim` floats, 5 per identity (see the module comment). */
export function syntheticGallery(size: number, dim: number, seed = 12345): SyntheticGallery {
  const r = uniform(seed);
  const ids = Math.ceil(size / PER_IDENTITY);
  const centres = Array.from({ length: ids }, () => {
    const c = Float32Array.from({ length: dim }, r);
    normalize(c, 0, dim);
    return c;
  });
  const flat = new Float32Array(size * dim);
  const names: string[] = [];
  for (let row = 0; row < size; row++) {
    const id = Math.floor(row / PER_IDENTITY);
    sampleInto(centres[id]!, r, flat, row * dim);
    names.push(`id${id}`);
  }
  return { dim, size, flat, names, centres };
}

/** `count` new samples of identities spread evenly over the gallery. */
export function syntheticQueries(data: SyntheticGallery, count: number, seed = 4242): Float32Array[] {
  const r = uniform(seed);
  return Array.from({ length: count }, (_, i) => {
    const q = new Float32Array(data.dim);
    sampleInto(data.centres[Math.floor(((i + 0.5) / count) * data.centres.length)]!, r, q, 0);
    return q;
  });
}

/** The gallery as store enrolments, `identitiesPerBatch` identities each (views into `flat`, no copies). */
export function enrollBatches(data: SyntheticGallery, identitiesPerBatch: number): EnrollEntry[][] {
  const entries: EnrollEntry[] = data.centres.map((_, id) => {
    const start = id * PER_IDENTITY;
    const end = Math.min(data.size, start + PER_IDENTITY);
    return {
      name: `id${id}`,
      embeddings: Array.from({ length: end - start }, (_, k) => data.flat.subarray((start + k) * data.dim, (start + k + 1) * data.dim)),
    };
  });
  const batches: EnrollEntry[][] = [];
  for (let i = 0; i < entries.length; i += identitiesPerBatch) batches.push(entries.slice(i, i + identitiesPerBatch));
  return batches;
}

/** Process CPU seconds so far (user + system, all threads). */
export function cpuSeconds(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}

/** A clock in seconds: {@link cpuSeconds}, or {@link wallSeconds} for work another process does. */
export type Clock = () => number;

/**
 * Wall-clock seconds: for a database server, whose work is not this process's CPU time (run
 * it on a quiet machine).
 */
export function wallSeconds(): number {
  return performance.now() / 1000;
}

/** Run `work` and return its value with the seconds it took on `clock` (CPU time by default). */
export async function timed<T>(work: () => Promise<T> | T, clock: Clock = cpuSeconds): Promise<{ value: T; seconds: number }> {
  const c0 = clock();
  const value = await work();
  return { value, seconds: clock() - c0 };
}

/**
 * Mean milliseconds per call of `answer` over `queries` on `clock` (after `warmup` untimed
 * calls), and the answers, in order.
 */
export async function perQuery<T>(
  queries: readonly Float32Array[],
  answer: (q: Float32Array) => Promise<T> | T,
  warmup = 10,
  clock: Clock = cpuSeconds,
): Promise<{ ms: number; answers: T[] }> {
  for (let i = 0; i < Math.min(warmup, queries.length); i++) await answer(queries[i]!);
  const answers: T[] = [];
  const { seconds } = await timed(async () => {
    for (const q of queries) answers.push(await answer(q));
  }, clock);
  return { ms: (seconds * 1000) / queries.length, answers };
}

/** Mean CPU milliseconds per call of `work`, repeated `reps` times after one untimed call. */
export async function perCall(work: () => unknown, reps: number): Promise<number> {
  work();
  const { seconds } = await timed(() => {
    for (let i = 0; i < reps; i++) work();
  });
  return (seconds * 1000) / reps;
}

/** Share of `got` equal to `truth`, position by position. */
export function recallAt1<T>(got: readonly T[], truth: readonly T[]): number {
  return got.filter((x, i) => x === truth[i]).length / truth.length;
}
