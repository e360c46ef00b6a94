/**
 * Teacher embeddings on disk, computed once per image and augmentation (plain or mirrored)
 * for distillation, in an append-only file that a killed run resumes without recomputing
 * or corrupting anything.
 *
 * File layout: one JSON header line (`{"format":"tfjs-facenet-teacher-cache","version":1,
 * "teacher":…,"dimension":d}`), then records, each
 *
 *     u32 payload length | payload: u8 mirrored, u16 key length, key (UTF-8), d × f32 | u32 CRC-32C of the payload
 *
 * all little-endian. Records are appended and flushed to disk in groups; a record cut short by
 * a crash (or damaged) fails its length or checksum, and it and everything after it are cut
 * off when the cache is next opened — what was complete is kept. A later record for the same
 * key and augmentation replaces an earlier one. One writer at a time: opening takes the
 * project's lock file (`<file>.lock`, see `util/file-lock.ts`; a dead writer's lock is taken over).
 * Node only.
 */
import { ConfigError, DataFormatError, FileNotFoundError } from '../errors.js';
import { crc32c } from '../io/crc32c.js';
import { acquireFileLock, type FileLock } from '../util/file-lock.js';

const FORMAT = 'tfjs-facenet-teacher-cache';

/** What a cache holds: whose embeddings, of what length. */
export interface TeacherCacheHeader {
  /** Identifies the teacher (e.g. its model fingerprint); a cache of another teacher is refused. */
  teacher: string;
  dimension: number;
}

/** One cached embedding. */
export interface TeacherRecord {
  /** The image's key, e.g. its path relative to the dataset root. */
  key: string;
  /** Embedding of the horizontally mirrored image. */
  mirrored: boolean;
  embedding: Float32Array;
}

const recordId = (key: string, mirrored: boolean): string => `${mirrored ? 'm' : 'p'}:${key}`;

/** Parse the records after the header; returns them and the byte length of the intact part. */
export function parseTeacherRecords(bytes: Uint8Array, dimension: number): { records: TeacherRecord[]; intactBytes: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const records: TeacherRecord[] = [];
  let at = 0;
  while (at + 4 <= bytes.length) {
    const length = view.getUint32(at, true);
    const end = at + 4 + length + 4;
    if (length < 3 + 4 * dimension || end > bytes.length) break;
    const payload = bytes.subarray(at + 4, at + 4 + length);
    if (crc32c(payload) !== view.getUint32(at + 4 + length, true)) break;
    const keyLength = view.getUint16(at + 5, true);
    if (3 + keyLength + 4 * dimension !== length) break;
    let key: string;
    try {
      key = decoder.decode(payload.subarray(3, 3 + keyLength));
    } catch {
      break;
    }
    const embedding = new Float32Array(dimension);
    const values = new DataView(payload.buffer, payload.byteOffset + 3 + keyLength, 4 * dimension);
    for (let i = 0; i < dimension; i++) embedding[i] = values.getFloat32(4 * i, true);
    records.push({ key, mirrored: payload[0] === 1, embedding });
    at = end;
  }
  return { records, intactBytes: at };
}

/** The bytes of records (see the file layout above). */
export function encodeTeacherRecords(records: readonly TeacherRecord[], dimension: number): Uint8Array {
  const encoder = new TextEncoder();
  const keys = records.map((r) => encoder.encode(r.key));
  const total = keys.reduce((n, k) => n + 4 + 3 + k.length + 4 * dimension + 4, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  records.forEach((r, i) => {
    if (r.embedding.length !== dimension) throw new ConfigError('embedding', `must have length ${dimension}, got ${r.embedding.length} (${r.key})`);
    if (keys[i].length > 0xffff) throw new ConfigError('key', `longer than 65535 bytes: ${r.key.slice(0, 80)}…`);
    const length = 3 + keys[i].length + 4 * dimension;
    view.setUint32(at, length, true);
    const p = at + 4;
    out[p] = r.mirrored ? 1 : 0;
    view.setUint16(p + 1, keys[i].length, true);
    out.set(keys[i], p + 3);
    for (let k = 0; k < dimension; k++) view.setFloat32(p + 3 + keys[i].length + 4 * k, r.embedding[k], true);
    view.setUint32(p + length, crc32c(out.subarray(p, p + length)), true);
    at = p + length + 4;
  });
  return out;
}

/** A cache's contents, read without taking the writer's lock (e.g. by a training run). */
export interface TeacherEmbeddings {
  header: TeacherCacheHeader;
  size: number;
  get(key: string, mirrored?: boolean): Float32Array | undefined;
  has(key: string, mirrored?: boolean): boolean;
}

/**
 * Read a teacher cache (complete records only; a torn tail is ignored, not cut off).
 * @throws {FileNotFoundError} for a missing file; {@link DataFormatError} for another kind of file.
 */
export async function readTeacherCache(path: string): Promise<TeacherEmbeddings> {
  const fs = await import('node:fs/promises');
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path, 'teacher cache');
    throw e;
  }
  const newline = bytes.indexOf(10);
  let found: { format?: string; version?: number; teacher?: string; dimension?: number } = {};
  try {
    found = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline < 0 ? bytes.length : newline)));
  } catch {
    // reported below
  }
  if (newline < 0 || found.format !== FORMAT || found.version !== 1 || typeof found.teacher !== 'string' || !Number.isInteger(found.dimension)) {
    throw new DataFormatError(path, 'not a teacher-embedding cache');
  }
  const header = { teacher: found.teacher, dimension: found.dimension! };
  const entries = new Map<string, Float32Array>();
  for (const r of parseTeacherRecords(bytes.subarray(newline + 1), header.dimension).records) entries.set(recordId(r.key, r.mirrored), r.embedding);
  return {
    header,
    size: entries.size,
    get: (key, mirrored = false) => entries.get(recordId(key, mirrored)),
    has: (key, mirrored = false) => entries.has(recordId(key, mirrored)),
  };
}

/**
 * Each vector minus the vectors' mean, scaled to unit length (a vector equal to the mean
 * stays zero). Pure; the inputs are not changed.
 */
export function centerEmbeddings(vectors: readonly Float32Array[]): Float32Array[] {
  if (vectors.length === 0) return [];
  const d = vectors[0].length;
  const mean = new Float64Array(d);
  for (const v of vectors) for (let i = 0; i < d; i++) mean[i] += v[i];
  for (let i = 0; i < d; i++) mean[i] /= vectors.length;
  return vectors.map((v) => {
    const out = new Float32Array(d);
    let norm = 0;
    for (let i = 0; i < d; i++) {
      const x = v[i] - mean[i];
      out[i] = x;
      norm += x * x;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < d; i++) out[i] *= inv;
    }
    return out;
  });
}

/** An open teacher cache (see the module comment). */
export class TeacherCache {
  private constructor(
    readonly path: string,
    readonly header: TeacherCacheHeader,
    private readonly entries: Map<string, Float32Array>,
    private readonly handle: import('node:fs/promises').FileHandle,
    private readonly lock: FileLock,
  ) {}

  /**
   * Open (or create) the cache at `path` for this teacher. A torn or damaged tail is cut off.
   * @throws {DataFormatError} for a file that is not a teacher cache or belongs to another
   *   teacher or dimension; {@link LockTimeoutError} when another live process has it open.
   */
  static async open(path: string, header: TeacherCacheHeader): Promise<TeacherCache> {
    if (!header.teacher || !Number.isInteger(header.dimension) || header.dimension < 1) {
      throw new ConfigError('header', 'a teacher id and a positive integer dimension are required');
    }
    const fs = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await fs.mkdir(dirname(path), { recursive: true });
    // Held while open (hours for a long teacher run): only a dead writer's lock is broken.
    const lock = await acquireFileLock(path, { timeoutMs: 0, staleMs: Infinity });
    try {
      const headerLine = JSON.stringify({ format: FORMAT, version: 1, teacher: header.teacher, dimension: header.dimension }) + '\n';
      let existing: Uint8Array | undefined;
      try {
        existing = await fs.readFile(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      const entries = new Map<string, Float32Array>();
      if (!existing || existing.length === 0) {
        await fs.writeFile(path, headerLine);
      } else {
        const newline = existing.indexOf(10);
        let found: { format?: string; version?: number; teacher?: string; dimension?: number } = {};
        try {
          found = JSON.parse(new TextDecoder().decode(existing.subarray(0, newline < 0 ? existing.length : newline)));
        } catch {
          // reported below
        }
        if (newline < 0 || found.format !== FORMAT || found.version !== 1) throw new DataFormatError(path, 'not a teacher-embedding cache');
        if (found.teacher !== header.teacher || found.dimension !== header.dimension) {
          throw new DataFormatError(path, `holds ${found.dimension}-d embeddings of teacher ${found.teacher}, not ${header.dimension}-d of ${header.teacher}`);
        }
        const body = existing.subarray(newline + 1);
        const { records, intactBytes } = parseTeacherRecords(body, header.dimension);
        for (const r of records) entries.set(recordId(r.key, r.mirrored), r.embedding);
        if (intactBytes < body.length) await fs.truncate(path, newline + 1 + intactBytes);
      }
      const handle = await fs.open(path, 'a');
      return new TeacherCache(path, { ...header }, entries, handle, lock);
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /** Cached embeddings (plain and mirrored counted apart). */
  get size(): number {
    return this.entries.size;
  }

  get(key: string, mirrored = false): Float32Array | undefined {
    return this.entries.get(recordId(key, mirrored));
  }

  has(key: string, mirrored = false): boolean {
    return this.entries.has(recordId(key, mirrored));
  }

  /** Append records and flush them to disk; they count once this resolves. */
  async append(records: readonly TeacherRecord[]): Promise<void> {
    if (records.length === 0) return;
    const bytes = encodeTeacherRecords(records, this.header.dimension);
    await this.handle.write(bytes);
    await this.handle.datasync();
    for (const r of records) this.entries.set(recordId(r.key, r.mirrored), Float32Array.from(r.embedding));
  }

  /** Close the file and release the lock. */
  async close(): Promise<void> {
    await this.handle.close();
    await this.lock.release();
  }
}

/** An image of a dataset: its cache key and where to read it. */
export interface TeacherImage {
  key: string;
  path: string;
}

/** Options of {@link fillTeacherCache}. */
export interface FillTeacherCacheOptions {
  /** Already aligned face crops, as the teacher takes them. */
  images: readonly TeacherImage[];
  /**
   * The teacher: a batch of aligned faces (`[n, s, s, 3]`, RGB 0…255) → their L2-normalised
   * embeddings (mirrored first when `mirror` is true), e.g. `FacenetEmbedder.embedCropsRaw`.
   */
  embed: (faces: import('@tensorflow/tfjs-core').Tensor4D, opts: { mirror: boolean }) => Promise<Float32Array[]>;
  /** Side the teacher takes. */
  imageSize: number;
  /** Also cache the embedding of every mirrored image. Default true. */
  mirror?: boolean;
  /** Images per teacher call (and per flush to disk). Default 16. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** An image that cannot be read: reported here, then skipped. */
  onError?: (image: TeacherImage, error: Error) => void;
  signal?: AbortSignal;
}

/**
 * Compute and append the embeddings the cache lacks (plain, and mirrored when asked).
 * @returns how many embeddings were computed.
 */
export async function fillTeacherCache(cache: TeacherCache, opts: FillTeacherCacheOptions): Promise<number> {
  const { loadAlignedFaces } = await import('../recognition/embedder.js');
  const augmentations = opts.mirror === false ? [false] : [false, true];
  const batchSize = opts.batchSize ?? 16;
  const todo = opts.images.filter((im) => augmentations.some((m) => !cache.has(im.key, m)));
  let computed = 0;
  for (let start = 0; start < todo.length; start += batchSize) {
    if (opts.signal?.aborted) break;
    const chunk: TeacherImage[] = [];
    const faces: import('@tensorflow/tfjs-core').Tensor4D[] = [];
    for (const im of todo.slice(start, start + batchSize)) {
      try {
        faces.push(await loadAlignedFaces([im.path], opts.imageSize));
        chunk.push(im);
      } catch (e) {
        opts.onError?.(im, e as Error);
      }
    }
    if (chunk.length === 0) continue;
    const tf = await import('@tensorflow/tfjs-core');
    const batch = faces.length === 1 ? faces[0] : (tf.concat(faces, 0) as import('@tensorflow/tfjs-core').Tensor4D);
    try {
      const records: TeacherRecord[] = [];
      for (const mirrored of augmentations) {
        const wanted = chunk.map((im) => !cache.has(im.key, mirrored));
        if (!wanted.some(Boolean)) continue;
        const embeddings = await opts.embed(batch, { mirror: mirrored });
        chunk.forEach((im, i) => wanted[i] && records.push({ key: im.key, mirrored, embedding: embeddings[i] }));
      }
      await cache.append(records);
      computed += records.length;
    } finally {
      tf.dispose(faces);
      if (batch !== faces[0]) batch.dispose();
    }
    opts.onProgress?.(Math.min(start + batchSize, todo.length), todo.length);
  }
  return computed;
}
