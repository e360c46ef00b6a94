/**
 * TensorFlow (1.x / 2.x) checkpoint bundles, "V2" format: `PREFIX.index` is an SSTable
 * mapping each variable name to a `BundleEntryProto` (dtype, shape, shard, offset, size,
 * masked CRC-32C), plus a `BundleHeaderProto` under the empty key; the tensor bytes live in
 * `PREFIX.data-0000S-of-0000N`. Reading and writing (one shard). The parse / serialize
 * functions work on bytes (Node and browsers); `readTfCheckpoint` / `writeTfCheckpoint` are Node.
 * Reference: tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc}, tensor_bundle.proto.
 */
import { ShapeError, WeightsFormatError } from '../errors.js';
import { crc32c, crc32cExtend, maskCrc32c, unmaskCrc32c } from './crc32c.js';
import { decodeFields, fieldInt, ProtoWriter, readVarint64, pushVarint, type ProtoField } from './protobuf.js';
import { buildTable, compareBytes, readTable, type BuildTableOptions } from './sstable.js';
import type { NamedArray, NamedArrays } from './types.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** TensorFlow `DataType` enum values this module knows. */
export const TF_DTYPE = {
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_UINT16: 17,
  DT_UINT32: 22,
} as const;

const DTYPE_NAMES: Record<number, string> = {
  0: 'DT_INVALID', 1: 'DT_FLOAT', 2: 'DT_DOUBLE', 3: 'DT_INT32', 4: 'DT_UINT8', 5: 'DT_INT16', 6: 'DT_INT8',
  7: 'DT_STRING', 8: 'DT_COMPLEX64', 9: 'DT_INT64', 10: 'DT_BOOL', 14: 'DT_BFLOAT16', 17: 'DT_UINT16',
  18: 'DT_COMPLEX128', 19: 'DT_HALF', 20: 'DT_RESOURCE', 21: 'DT_VARIANT', 22: 'DT_UINT32', 23: 'DT_UINT64',
};

/** `BundleHeaderProto`. */
export interface BundleHeader {
  numShards: number;
  /** 0 = little-endian, 1 = big-endian. */
  endianness: number;
  /** `VersionDef.producer`. */
  producer: number;
  /** `VersionDef.min_consumer`. */
  minConsumer: number;
}

/** `BundleEntryProto`: where and what one variable is. */
export interface BundleEntry {
  /** TensorFlow `DataType` enum value. */
  dtype: number;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** Masked CRC-32C of the tensor bytes, as stored. */
  crc32c: number;
  /** Number of `TensorSliceProto`s (partitioned variables); 0 for whole tensors. */
  slices: number;
}

/** The decoded `.index` file of a checkpoint. */
export interface CheckpointIndex {
  header: BundleHeader;
  /** Variable name → entry, in key order. */
  entries: Map<string, BundleEntry>;
}

/** Options of {@link parseTfCheckpoint} and {@link readTfCheckpoint}. */
export interface ReadTfCheckpointOptions {
  /** Only load variables whose name passes this test (e.g. skip optimizer slots). Default: all. */
  filter?: (name: string) => boolean;
  /** Check block and tensor CRC-32Cs. Default true. */
  verifyChecksums?: boolean;
  /** Skip variables of dtypes this reader cannot represent instead of throwing. Default false. */
  skipUnsupported?: boolean;
}

const utf8 = new TextDecoder('utf-8');

function decodeShape(bytes: Uint8Array, fail: (r: string) => never): number[] {
  const dims: number[] = [];
  for (const f of decodeFields(bytes, fail)) {
    if (f.field === 2 && f.bytes) {
      let size = 0;
      for (const d of decodeFields(f.bytes, fail)) if (d.field === 1) size = fieldInt(d, fail);
      if (size < 0) fail(`unknown dimension size ${size}`);
      dims.push(size);
    } else if (f.field === 3 && f.varint) {
      fail('shape of unknown rank');
    }
  }
  return dims;
}

function decodeHeader(bytes: Uint8Array, fail: (r: string) => never): BundleHeader {
  const h: BundleHeader = { numShards: 0, endianness: 0, producer: 0, minConsumer: 0 };
  for (const f of decodeFields(bytes, fail)) {
    if (f.field === 1) h.numShards = fieldInt(f, fail);
    else if (f.field === 2) h.endianness = fieldInt(f, fail);
    else if (f.field === 3 && f.bytes) {
      for (const v of decodeFields(f.bytes, fail)) {
        if (v.field === 1) h.producer = fieldInt(v, fail);
        else if (v.field === 2) h.minConsumer = fieldInt(v, fail);
      }
    }
  }
  return h;
}

function decodeEntry(bytes: Uint8Array, fail: (r: string) => never): BundleEntry {
  const e: BundleEntry = { dtype: 0, shape: [], shardId: 0, offset: 0, size: 0, crc32c: 0, slices: 0 };
  const fixed = (f: ProtoField): number => (f.fixed === undefined ? fail('crc32c is not fixed32') : Number(f.fixed));
  for (const f of decodeFields(bytes, fail)) {
    switch (f.field) {
      case 1: e.dtype = fieldInt(f, fail); break;
      case 2: if (f.bytes) e.shape = decodeShape(f.bytes, fail); break;
      case 3: e.shardId = fieldInt(f, fail); break;
      case 4: e.offset = fieldInt(f, fail); break;
      case 5: e.size = fieldInt(f, fail); break;
      case 6: e.crc32c = fixed(f); break;
      case 7: e.slices++; break;
      default: break; // unknown fields are ignored, as protobuf readers do
    }
  }
  return e;
}

/**
 * Decode a checkpoint's `.index` file (header and entries, no tensor data).
 * @throws {@link WeightsFormatError}
 */
export function parseTfCheckpointIndex(indexBytes: Uint8Array, source = 'checkpoint', verifyChecksums = true): CheckpointIndex {
  const entries = readTable(indexBytes, { source: `${source}.index`, verifyChecksums });
  const fail = (r: string): never => {
    throw new WeightsFormatError(`${source}.index`, r);
  };
  const first = entries[0];
  if (!first || first.key.length !== 0) fail('no header entry (the empty key)');
  const header = decodeHeader(first!.value, (r) => fail(`header: ${r}`));
  if (header.numShards < 1) fail(`header says ${header.numShards} shards`);
  const out = new Map<string, BundleEntry>();
  for (const e of entries.slice(1)) {
    // Keys starting with a NUL byte name slices of partitioned variables; their parent entry reports them.
    if (e.key[0] === 0) continue;
    const name = utf8.decode(e.key);
    out.set(name, decodeEntry(e.value, (r) => fail(`entry ${name}: ${r}`)));
  }
  return { header, entries: out };
}

const ITEM_SIZE: Record<number, number> = {
  [TF_DTYPE.DT_FLOAT]: 4, [TF_DTYPE.DT_DOUBLE]: 8, [TF_DTYPE.DT_INT32]: 4, [TF_DTYPE.DT_UINT8]: 1,
  [TF_DTYPE.DT_INT16]: 2, [TF_DTYPE.DT_INT8]: 1, [TF_DTYPE.DT_INT64]: 8, [TF_DTYPE.DT_BOOL]: 1,
  [TF_DTYPE.DT_UINT16]: 2, [TF_DTYPE.DT_UINT32]: 4,
};

/** Decode fixed-size little-endian tensor bytes (already byte-swapped if needed). */
function decodeTensor(raw: Uint8Array, dtype: number): Pick<NamedArray, 'dtype' | 'data'> {
  const buf = new Uint8Array(raw).buffer; // aligned copy (Buffer.slice would be a view)
  switch (dtype) {
    case TF_DTYPE.DT_FLOAT: return { dtype: 'float32', data: new Float32Array(buf) };
    case TF_DTYPE.DT_DOUBLE: return { dtype: 'float64', data: new Float64Array(buf) };
    case TF_DTYPE.DT_INT32: return { dtype: 'int32', data: new Int32Array(buf) };
    case TF_DTYPE.DT_UINT8: return { dtype: 'uint8', data: new Uint8Array(buf) };
    case TF_DTYPE.DT_BOOL: return { dtype: 'bool', data: new Uint8Array(buf).map((b) => (b ? 1 : 0)) };
    case TF_DTYPE.DT_INT16: return { dtype: 'int32', data: Int32Array.from(new Int16Array(buf)) };
    case TF_DTYPE.DT_INT8: return { dtype: 'int32', data: Int32Array.from(new Int8Array(buf)) };
    case TF_DTYPE.DT_UINT16: return { dtype: 'int32', data: Int32Array.from(new Uint16Array(buf)) };
    case TF_DTYPE.DT_UINT32: return { dtype: 'int64', data: Float64Array.from(new Uint32Array(buf)) };
    case TF_DTYPE.DT_INT64: return { dtype: 'int64', data: Float64Array.from(new BigInt64Array(buf), Number) };
    default: throw new Error(`unsupported dtype ${dtype}`);
  }
}

/**
 * Decode a DT_STRING tensor: varint64 lengths, a masked CRC-32C of the lengths (each as
 * uint32, or uint64 when ≥ 2^32), then the string bytes. Returns the strings and the CRC of
 * everything, computed the way TensorFlow's writer does.
 */
function decodeStringTensor(raw: Uint8Array, count: number, fail: (r: string) => never): { strings: string[]; crc: number } {
  const lengths: number[] = [];
  let pos = 0;
  let crc = 0;
  for (let i = 0; i < count; i++) {
    let len: bigint;
    [len, pos] = readVarint64(raw, pos, fail);
    if (len > BigInt(raw.length)) fail('string length exceeds the tensor');
    const n = Number(len);
    lengths.push(n);
    const le = new Uint8Array(n <= 0xffffffff ? 4 : 8);
    if (le.length === 4) new DataView(le.buffer).setUint32(0, n, true);
    else new DataView(le.buffer).setBigUint64(0, BigInt(n), true);
    crc = crc32cExtend(crc, le);
  }
  if (pos + 4 > raw.length) fail('truncated string tensor (length checksum)');
  const lengthsCrc = raw.subarray(pos, pos + 4);
  const storedLengthsCrc = new DataView(raw.buffer, raw.byteOffset + pos, 4).getUint32(0, true);
  if (unmaskCrc32c(storedLengthsCrc) !== crc) fail('string lengths checksum mismatch');
  crc = crc32cExtend(crc, lengthsCrc);
  pos += 4;
  const strings: string[] = [];
  for (const n of lengths) {
    if (pos + n > raw.length) fail('truncated string tensor');
    const b = raw.subarray(pos, pos + n);
    crc = crc32cExtend(crc, b);
    strings.push(utf8.decode(b));
    pos += n;
  }
  if (pos !== raw.length) fail(`string tensor has ${raw.length - pos} trailing bytes`);
  return { strings, crc };
}

/**
 * Read all variables of a checkpoint from its `.index` bytes and data shard bytes.
 *
 * @param indexBytes The `PREFIX.index` file.
 * @param shards The `PREFIX.data-0000S-of-0000N` files, in shard order.
 * @param source Names the checkpoint (its prefix) in error messages.
 * @returns Variable name → array (C order; int64 as float64 numbers), in key order.
 * @throws {@link WeightsFormatError} on a malformed index, missing shard, out-of-range entry,
 *   checksum mismatch (naming the variable), or unsupported dtype / partitioned variable.
 */
export function parseTfCheckpoint(
  indexBytes: Uint8Array,
  shards: Uint8Array[],
  source = 'checkpoint',
  options: ReadTfCheckpointOptions = {},
): NamedArrays {
  const verify = options.verifyChecksums ?? true;
  const { header, entries } = parseTfCheckpointIndex(indexBytes, source, verify);
  if (shards.length < header.numShards) {
    throw new WeightsFormatError(source, `index names ${header.numShards} data shard(s), ${shards.length} given`);
  }
  if (header.endianness !== 0 && header.endianness !== 1) {
    throw new WeightsFormatError(source, `unknown endianness ${header.endianness}`);
  }
  const out: NamedArrays = new Map();
  for (const [name, e] of entries) {
    if (options.filter && !options.filter(name)) continue;
    const fail = (r: string): never => {
      throw new WeightsFormatError(source, `variable ${name}: ${r}`);
    };
    if (e.slices > 0) fail('partitioned (sliced) variables are not supported');
    const count = e.shape.reduce((a, b) => a * b, 1);
    const isString = e.dtype === TF_DTYPE.DT_STRING;
    const itemSize = ITEM_SIZE[e.dtype];
    if (!isString && itemSize === undefined) {
      if (options.skipUnsupported) continue;
      fail(`unsupported dtype ${DTYPE_NAMES[e.dtype] ?? e.dtype}`);
    }
    const shard = shards[e.shardId];
    if (!shard) return fail(`shard ${e.shardId} is missing`);
    if (e.offset + e.size > shard.length) {
      fail(`bytes ${e.offset}..${e.offset + e.size} lie beyond the end of shard ${e.shardId} (${shard.length} bytes)`);
    }
    const raw = shard.subarray(e.offset, e.offset + e.size);
    if (isString) {
      const { strings, crc } = decodeStringTensor(raw, count, fail);
      if (verify && crc !== unmaskCrc32c(e.crc32c)) fail('checksum mismatch (data corrupted)');
      out.set(name, { shape: e.shape, dtype: 'string', data: strings });
      continue;
    }
    if (e.size !== count * itemSize!) fail(`holds ${e.size} bytes, shape ${JSON.stringify(e.shape)} needs ${count * itemSize!}`);
    if (verify && crc32c(raw) !== unmaskCrc32c(e.crc32c)) fail('checksum mismatch (data corrupted)');
    let bytes = raw;
    if (header.endianness === 1 && itemSize! > 1) {
      bytes = new Uint8Array(raw);
      for (let i = 0; i < bytes.length; i += itemSize!) bytes.subarray(i, i + itemSize!).reverse();
    }
    out.set(name, { shape: e.shape, ...decodeTensor(bytes, e.dtype) });
  }
  return out;
}

/** File name of data shard `shard` of `numShards`: `PREFIX.data-00000-of-00001`. */
export function checkpointShardPath(prefix: string, shard: number, numShards: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}.data-${pad(shard)}-of-${pad(numShards)}`;
}

/** Parse the `model_checkpoint_path` of a TensorFlow `checkpoint` text file. */
export function parseCheckpointStateFile(text: string): string | null {
  const m = /^\s*model_checkpoint_path\s*:\s*"((?:[^"\\]|\\.)*)"/m.exec(text);
  return m ? m[1]!.replace(/\\(.)/g, '$1') : null;
}

/**
 * Resolve a checkpoint location to its prefix: a prefix (`/dir/PNet-30`), the `.index` file,
 * or a directory holding a `checkpoint` file (its `model_checkpoint_path`, taken relative to
 * the directory; an absolute path from another machine falls back to its base name there).
 * Node only.
 * @throws {@link FileNotFoundError} when nothing is found.
 */
export async function resolveCheckpointPrefix(location: string): Promise<string> {
  const { isDirectory, readFileBytes } = await import('./node-fs.js');
  const path = nodeBuiltins('reading and writing TensorFlow checkpoint files').path;
  const { existsSync } = nodeBuiltins('reading and writing TensorFlow checkpoint files').fs;
  if (await isDirectory(location)) {
    const stateFile = path.join(location, 'checkpoint');
    const text = utf8.decode(await readFileBytes(stateFile, 'checkpoint state file'));
    const p = parseCheckpointStateFile(text);
    if (!p) throw new WeightsFormatError(stateFile, 'no model_checkpoint_path');
    const candidate = path.isAbsolute(p) ? p : path.join(location, p);
    if (existsSync(`${candidate}.index`)) return candidate;
    return path.join(location, path.basename(p));
  }
  return location.endsWith('.index') ? location.slice(0, -'.index'.length) : location;
}

/**
 * Read a checkpoint from disk (Node).
 * @param location A prefix like `/path/PNet/PNet-30`, its `.index` file, or a directory with a `checkpoint` file.
 * @throws {@link FileNotFoundError} for missing files, {@link WeightsFormatError} for bad content.
 */
export async function readTfCheckpoint(location: string, options: ReadTfCheckpointOptions = {}): Promise<NamedArrays> {
  const { readFileBytes } = await import('./node-fs.js');
  const prefix = await resolveCheckpointPrefix(location);
  const index = await readFileBytes(`${prefix}.index`, 'checkpoint index');
  const { header } = parseTfCheckpointIndex(index, prefix, options.verifyChecksums ?? true);
  const shards: Uint8Array[] = [];
  for (let s = 0; s < header.numShards; s++) {
    shards.push(await readFileBytes(checkpointShardPath(prefix, s, header.numShards), 'checkpoint data shard'));
  }
  return parseTfCheckpoint(index, shards, prefix, options);
}

// ---------------------------------------------------------------------------------------
// Writing

const WRITE_DTYPE: Record<NamedArray['dtype'], number> = {
  float32: TF_DTYPE.DT_FLOAT,
  float64: TF_DTYPE.DT_DOUBLE,
  int32: TF_DTYPE.DT_INT32,
  int64: TF_DTYPE.DT_INT64,
  uint8: TF_DTYPE.DT_UINT8,
  bool: TF_DTYPE.DT_BOOL,
  string: TF_DTYPE.DT_STRING,
};

const DATA_CLASS: Record<NamedArray['dtype'], string> = {
  float32: 'Float32Array', float64: 'Float64Array', int32: 'Int32Array', int64: 'Float64Array',
  uint8: 'Uint8Array', bool: 'Uint8Array', string: 'Array',
};

/** The on-disk bytes of one array (little-endian; strings in TensorFlow's string-tensor layout). */
function tensorBytes(name: string, a: NamedArray): { bytes: Uint8Array; crc: number } {
  const dataClass = Array.isArray(a.data) ? 'Array' : a.data.constructor.name;
  if (DATA_CLASS[a.dtype] === undefined) throw new ShapeError(`vars[${name}].dtype`, 'a NamedArray dtype', String(a.dtype));
  if (dataClass !== DATA_CLASS[a.dtype]) {
    throw new ShapeError(`vars[${name}].data`, `${DATA_CLASS[a.dtype]} for dtype ${a.dtype}`, dataClass);
  }
  if (!a.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`vars[${name}].shape`, 'non-negative integers', JSON.stringify(a.shape));
  }
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.data.length !== count) {
    throw new ShapeError(`vars[${name}].data`, `${count} values for shape ${JSON.stringify(a.shape)}`, `${a.data.length}`);
  }
  if (a.dtype === 'string') {
    const enc = new TextEncoder();
    const parts = (a.data as string[]).map((s) => enc.encode(s));
    const head: number[] = [];
    let crc = 0;
    for (const p of parts) {
      pushVarint(head, p.length);
      const le = new Uint8Array(4);
      new DataView(le.buffer).setUint32(0, p.length, true);
      crc = crc32cExtend(crc, le);
    }
    const lengthsCrc = new Uint8Array(4);
    new DataView(lengthsCrc.buffer).setUint32(0, maskCrc32c(crc), true);
    crc = crc32cExtend(crc, lengthsCrc);
    const total = head.length + 4 + parts.reduce((s, p) => s + p.length, 0);
    const bytes = new Uint8Array(total);
    bytes.set(head, 0);
    bytes.set(lengthsCrc, head.length);
    let pos = head.length + 4;
    for (const p of parts) {
      bytes.set(p, pos);
      crc = crc32cExtend(crc, p);
      pos += p.length;
    }
    return { bytes, crc };
  }
  let bytes: Uint8Array;
  if (a.dtype === 'int64') {
    const src = a.data as Float64Array;
    const big = new BigInt64Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (!Number.isSafeInteger(v)) {
        throw new WeightsFormatError(name, `int64 value ${v} at index ${i} is not a safe integer`);
      }
      big[i] = BigInt(v);
    }
    bytes = new Uint8Array(big.buffer);
  } else if (a.dtype === 'bool') {
    bytes = (a.data as Uint8Array).map((b) => (b ? 1 : 0));
  } else {
    const d = a.data as Float32Array | Float64Array | Int32Array | Uint8Array;
    bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  return { bytes, crc: crc32c(bytes) };
}

/** Options of {@link serializeTfCheckpoint}. */
export interface WriteTfCheckpointOptions {
  /** SSTable data block size of the `.index` file, in bytes. Default 262144, as TensorFlow writes. */
  blockSize?: BuildTableOptions['blockSize'];
}

/**
 * Serialize variables as a one-shard TensorFlow checkpoint bundle (the files TensorFlow's
 * `tf.train.Saver` / `tf.train.Checkpoint` write, readable by `tf.train.load_checkpoint`).
 * Variables are stored in bytewise key order; int64 values must be safe integers.
 *
 * @returns The `.index` file and the `.data-00000-of-00001` file.
 * @throws {@link ShapeError} when an array's data does not match its shape or dtype;
 *   {@link WeightsFormatError} for an empty name or an int64 value that is not an integer.
 */
export function serializeTfCheckpoint(
  vars: NamedArrays,
  options: WriteTfCheckpointOptions = {},
): { index: Uint8Array; data: Uint8Array } {
  const enc = new TextEncoder();
  const keyed = [...vars.entries()].map(([name, a]) => ({ name, key: enc.encode(name), a }));
  for (const k of keyed) {
    if (k.key.length === 0) throw new WeightsFormatError('checkpoint', 'a variable name is empty (the empty key holds the header)');
  }
  keyed.sort((x, y) => compareBytes(x.key, y.key));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const tableEntries = [
    {
      key: new Uint8Array(0),
      value: new ProtoWriter()
        .varint(1, 1) // num_shards
        .varint(2, 0) // endianness: LITTLE
        .bytes(3, new ProtoWriter().varint(1, 1).finish()) // version { producer: 1 }
        .finish(),
    },
  ];
  for (const { name, key, a } of keyed) {
    const { bytes, crc } = tensorBytes(name, a);
    const shape = new ProtoWriter();
    for (const d of a.shape) shape.bytes(2, new ProtoWriter().varint(1, d).finish());
    const entry = new ProtoWriter()
      .varint(1, WRITE_DTYPE[a.dtype])
      .bytes(2, shape.finish())
      .varint(3, 0) // shard_id
      .varint(4, offset)
      .varint(5, bytes.length)
      .fixed32(6, maskCrc32c(crc))
      .finish();
    tableEntries.push({ key, value: entry });
    chunks.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let pos = 0;
  for (const c of chunks) {
    data.set(c, pos);
    pos += c.length;
  }
  return { index: buildTable(tableEntries, { blockSize: options.blockSize }), data };
}

/**
 * Write variables as a one-shard checkpoint at `prefix` (Node): `PREFIX.data-00000-of-00001`,
 * then `PREFIX.index`, then a `checkpoint` state file in the same directory naming it —
 * each file written atomically.
 */
export async function writeTfCheckpoint(
  prefix: string,
  vars: NamedArrays,
  options: WriteTfCheckpointOptions = {},
): Promise<void> {
  const { writeFileAtomic } = await import('../util/atomic.js');
  const path = nodeBuiltins('reading and writing TensorFlow checkpoint files').path;
  const { index, data } = serializeTfCheckpoint(vars, options);
  await writeFileAtomic(checkpointShardPath(prefix, 0, 1), data);
  await writeFileAtomic(`${prefix}.index`, index);
  const base = JSON.stringify(path.basename(prefix));
  await writeFileAtomic(
    path.join(path.dirname(prefix), 'checkpoint'),
    `model_checkpoint_path: ${base}\nall_model_checkpoint_paths: ${base}\n`,
  );
}
