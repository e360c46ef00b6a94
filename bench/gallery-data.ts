/**
 * Synthetic gallery data and CPU timing for the gallery benchmark (`bench/gallery.ts`).
 *
 * Data: identities with a random unit centre each; an embedding is the centre plus 0.6 × a
 * random unit vector, renormalised; queries are new samples of enrolled identities. Or
 * face-like: centres and spread drawn from Gaussians fitted to a model's embeddings of real
 * faces ({@link faceLikeGallery}). Every number comes from a seeded xorshift32, so a run is
 * repeatable.
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
  /** Centre of each identity (for queries). */
  centres: Float32Array[];
  /**
   * Face-like data ({@link faceLikeGallery}): the Cholesky factor of one identity's spread.
   * Absent for centres on the sphere, whose samples add noise of a fixed length.
   */
  spread?: Float64Array;
}

/** The identity that query `i` of `count` is a new sample of: identities spread evenly over the gallery. */
export function queryIdentity(i: number, count: number, identities: number): number {
  return Math.floor(((i + 0.5) / count) * identities);
}

/** Rows of a synthetic gallery: identity `id` owns rows 5·id … 5·id + 4, each a `sample` of its centre. */
function rowsOf(centres: readonly Float32Array[], size: number, dim: number, sample: (centre: Float32Array, out: Float32Array, off: number) => void): { flat: Float32Array; names: string[] } {
  const flat = new Float32Array(size * dim);
  const names: string[] = [];
  for (let row = 0; row < size; row++) {
    const id = Math.floor(row / PER_IDENTITY);
    sample(centres[id]!, flat, row * dim);
    names.push(`id${id}`);
  }
  return { flat, names };
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
  return { dim, size, centres, ...rowsOf(centres, size, dim, (c, out, off) => sampleInto(c, r, out, off)) };
}

/** `count` new samples (photos) of identities spread evenly over the gallery, drawn as its rows were. */
export function syntheticQueries(data: SyntheticGallery, count: number, seed = 4242): Float32Array[] {
  const { dim, spread } = data;
  const r = uniform(seed);
  const z = normal(r);
  const zs = new Float64Array(dim);
  return Array.from({ length: count }, (_, i) => {
    const q = new Float32Array(dim);
    const centre = data.centres[queryIdentity(i, count, data.centres.length)]!;
    if (spread) faceSampleInto(centre, spread, z, q, 0, zs);
    else sampleInto(centre, r, q, 0);
    return q;
  });
}

/**
 * Where one model's embeddings of real faces lie, as two Gaussians: the identities' centres
 * (mean and covariance of each identity's mean embedding) and the spread of one identity's
 * photos around its centre (the pooled within-identity covariance). Covariances row-major.
 */
export interface FaceStatistics {
  model: string;
  /** The model's fingerprint (statistics are kept per model version). */
  fingerprint: string;
  dim: number;
  identities: number;
  faces: number;
  mean: number[];
  between: number[];
  within: number[];
  /** Mean squared distance between two of the real embeddings: of one identity, of two. */
  pairDistance: PairDistance;
}

/** Mean squared distance between two embeddings of one identity, and of two identities. */
export interface PairDistance {
  same: number;
  different: number;
}

/** Squared Euclidean distance of `a` and `b[off…off + a.length)`. */
export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>, off = 0): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += (a[d]! - b[off + d]!) ** 2;
  return s;
}

/** {@link FaceStatistics} of real embeddings grouped by identity (each group ≥ 2 embeddings). */
export function faceStatistics(model: string, fingerprint: string, groups: readonly (readonly Float32Array[])[]): FaceStatistics {
  if (groups.length < 2 || groups.some((g) => g.length < 2)) throw new Error('faceStatistics: at least 2 identities of at least 2 embeddings each');
  const dim = groups[0]![0]!.length;
  const means = groups.map((g) => {
    const m = new Float64Array(dim);
    for (const e of g) for (let d = 0; d < dim; d++) m[d]! += e[d]! / g.length;
    return m;
  });
  const mean = new Float64Array(dim);
  for (const m of means) for (let d = 0; d < dim; d++) mean[d]! += m[d]! / means.length;
  const between = new Float64Array(dim * dim);
  const within = new Float64Array(dim * dim);
  const addOuter = (acc: Float64Array, v: Float64Array, w: number) => {
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) acc[i * dim + j]! += w * v[i]! * v[j]!;
  };
  const diff = new Float64Array(dim);
  for (const m of means) {
    for (let d = 0; d < dim; d++) diff[d] = m[d]! - mean[d]!;
    addOuter(between, diff, 1 / (means.length - 1));
  }
  let dof = 0;
  for (const g of groups) dof += g.length - 1;
  groups.forEach((g, k) => {
    for (const e of g) {
      for (let d = 0; d < dim; d++) diff[d] = e[d]! - means[k]![d]!;
      addOuter(within, diff, 1 / dof);
    }
  });
  const faces = groups.reduce((n, g) => n + g.length, 0);
  // Every pair of the real embeddings, by whether they share an identity.
  const sums = { same: 0, different: 0 };
  const counts = { same: 0, different: 0 };
  groups.forEach((g, i) => {
    g.forEach((a, k) => {
      for (let j = i; j < groups.length; j++) {
        for (const b of j === i ? g.slice(k + 1) : groups[j]!) {
          const kind = j === i ? 'same' : 'different';
          sums[kind] += squaredDistance(a, b);
          counts[kind]++;
        }
      }
    });
  });
  const pairDistance = { same: sums.same / counts.same, different: sums.different / counts.different };
  return { model, fingerprint, dim, identities: groups.length, faces, mean: [...mean], between: [...between], within: [...within], pairDistance };
}

/** {@link PairDistance} of a synthetic gallery, over `pairs` random pairs of each kind. */
export function galleryPairDistance(data: SyntheticGallery, pairs = 2000, seed = 99): PairDistance {
  const r = uniform(seed);
  const row = () => Math.min(data.size - 1, Math.floor(((r() + 1) / 2) * data.size));
  const ids = Math.floor(data.size / PER_IDENTITY); // identities with all their rows
  let same = 0;
  let different = 0;
  for (let p = 0; p < pairs; p++) {
    // Two rows of one identity (its first two), two rows of (almost surely) two identities.
    const id = Math.min(ids - 1, Math.floor(((r() + 1) / 2) * ids));
    const a = id * PER_IDENTITY;
    same += squaredDistance(data.flat.subarray(a * data.dim, (a + 1) * data.dim), data.flat, (a + 1) * data.dim);
    const [x, y] = [row(), row()];
    different += squaredDistance(data.flat.subarray(x * data.dim, (x + 1) * data.dim), data.flat, y * data.dim);
  }
  return { same: same / pairs, different: different / pairs };
}

/** Lower-triangular L with L·Lᵀ = `cov` + a little on the diagonal (estimated covariances can be singular). */
export function cholesky(cov: readonly number[], dim: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += cov[i * dim + i]!;
  const jitter = (1e-6 * trace) / dim;
  const L = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let s = cov[i * dim + j]! + (i === j ? jitter : 0);
      for (let k = 0; k < j; k++) s -= L[i * dim + k]! * L[j * dim + k]!;
      L[i * dim + j] = i === j ? Math.sqrt(Math.max(s, jitter)) : s / L[j * dim + j]!;
    }
  }
  return L;
}

/** Standard normal numbers from {@link uniform}'s stream (Box–Muller). */
export function normal(r: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = (r() + 1) / 2; // > 0: xorshift32 never yields 0
    const v = (r() + 1) / 2;
    const k = Math.sqrt(-2 * Math.log(u));
    spare = k * Math.sin(2 * Math.PI * v);
    return k * Math.cos(2 * Math.PI * v);
  };
}

/** out[off…] = base + L·z for standard normal z. */
function gaussianInto(base: ArrayLike<number>, L: Float64Array, z: () => number, out: Float32Array, off: number, dim: number, zs: Float64Array): void {
  for (let d = 0; d < dim; d++) zs[d] = z();
  for (let i = 0; i < dim; i++) {
    let s = base[i]!;
    const row = i * dim;
    for (let k = 0; k <= i; k++) s += L[row + k]! * zs[k]!;
    out[off + i] = s;
  }
}

/** out[off…] = a face-like photo of `centre`: centre + spread·z for standard normal z, renormalised. */
function faceSampleInto(centre: Float32Array, spread: Float64Array, z: () => number, out: Float32Array, off: number, zs: Float64Array): void {
  gaussianInto(centre, spread, z, out, off, centre.length, zs);
  normalize(out, off, centre.length);
}

/**
 * Face-like synthetic embeddings: identity centres drawn from the Gaussian of real identities'
 * centres, each embedding its centre plus within-identity Gaussian spread, renormalised (the
 * models' embeddings are unit length). Unlike {@link syntheticGallery}'s centres, uniform on
 * the sphere, these crowd where real faces do and spread along the directions real faces vary
 * in. The real identities' mean embeddings scatter by their centres' covariance plus the
 * within-identity covariance over the photos averaged, so the centres' covariance is taken as
 * `between − within / photos per identity`.
 */
export function faceLikeGallery(size: number, stats: FaceStatistics, seed = 12345): SyntheticGallery {
  const { dim } = stats;
  const z = normal(uniform(seed));
  const perIdentity = stats.faces / stats.identities;
  const Lb = cholesky(stats.between.map((v, k) => v - stats.within[k]! / perIdentity), dim);
  const spread = cholesky(stats.within, dim);
  const zs = new Float64Array(dim);
  const centres = Array.from({ length: Math.ceil(size / PER_IDENTITY) }, () => {
    const c = new Float32Array(dim);
    gaussianInto(stats.mean, Lb, z, c, 0, dim, zs);
    return c;
  });
  return { dim, size, centres, spread, ...rowsOf(centres, size, dim, (c, out, off) => faceSampleInto(c, spread, z, out, off, zs)) };
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
