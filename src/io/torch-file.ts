/**
 * Reader of PyTorch `torch.save` files, without PyTorch: the ZIP format PyTorch writes
 * since 1.6 (`<archive>/data.pkl` + one `<archive>/data/<key>` record per storage) and the
 * older "legacy" format (a row of pickles followed by the raw storages). The tensors of a
 * saved state dict come back with their dtype, shape, strides and storage offset, and
 * {@link torchTensorToArray} turns one into a plain C-order array.
 *
 * The parsing works on bytes (Node and browsers); {@link readTorchFile} reads a path in Node.
 * Like the pickle reader underneath, nothing in the file is ever executed: only the few
 * PyTorch functions that rebuild tensors and parameters are understood, anything else
 * (a pickled `nn.Module`, quantized or sparse tensors) is reported as unsupported.
 */
import { WeightsFormatError } from '../errors.js';
import { PickleGlobal, PickleObject, unpickleAt, type PickleClassHandler, type PickleValue } from './pickle.js';
import type { NamedArray } from './types.js';
import { looksLikeZip, ZipArchive, type InflateRaw } from './zip.js';

/** Element types of PyTorch storages this reader knows. */
export type TorchDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Storage class name (`torch.FloatStorage` …) → element type and size in bytes. */
const STORAGE_TYPES: Record<string, { dtype: TorchDtype; itemsize: number }> = {
  FloatStorage: { dtype: 'float32', itemsize: 4 },
  DoubleStorage: { dtype: 'float64', itemsize: 8 },
  HalfStorage: { dtype: 'float16', itemsize: 2 },
  BFloat16Storage: { dtype: 'bfloat16', itemsize: 2 },
  LongStorage: { dtype: 'int64', itemsize: 8 },
  IntStorage: { dtype: 'int32', itemsize: 4 },
  ShortStorage: { dtype: 'int16', itemsize: 2 },
  CharStorage: { dtype: 'int8', itemsize: 1 },
  ByteStorage: { dtype: 'uint8', itemsize: 1 },
  BoolStorage: { dtype: 'bool', itemsize: 1 },
  UntypedStorage: { dtype: 'uint8', itemsize: 1 },
};

/** One storage: a flat buffer of elements that tensors view. */
export interface TorchStorage {
  /** The storage's key in the file. */
  key: string;
  dtype: TorchDtype;
  itemsize: number;
  /** Number of elements. */
  numel: number;
  /** The elements' bytes, little-endian. */
  bytes: Uint8Array;
}

/** A tensor as saved: a strided view of a storage. */
export interface TorchTensor {
  kind: 'torch-tensor';
  dtype: TorchDtype;
  shape: number[];
  /** Strides in elements, one per dimension. */
  strides: number[];
  /** Offset of the first element in the storage, in elements. */
  storageOffset: number;
  storage: TorchStorage;
  requiresGrad: boolean;
}

/** What {@link parseTorchFile} read. */
export interface TorchFile {
  format: 'zip' | 'legacy';
  /** The saved object: `Map`s for dicts, {@link TorchTensor}s for tensors and parameters. */
  value: PickleValue;
}

/** Options of {@link parseTorchFile}. */
export interface ParseTorchFileOptions {
  /** Names the file in error messages. Default `'torch file'`. */
  source?: string;
  /** Inflater for deflated ZIP entries (PyTorch stores records uncompressed; re-zipped files may not be). */
  inflateRaw?: InflateRaw;
  /** Check the CRC-32 of every ZIP record read. Default true. */
  verify?: boolean;
}

/** Whether `v` is a {@link TorchTensor}. */
export function isTorchTensor(v: unknown): v is TorchTensor {
  return typeof v === 'object' && v !== null && (v as TorchTensor).kind === 'torch-tensor';
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function asIntList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new Error(`${what} is not a tuple of non-negative integers`);
  }
  return v as number[];
}

/** A storage placeholder until its bytes are known (the legacy format stores them after the pickle). */
interface PendingStorage extends TorchStorage {
  /** For legacy views of another storage: the root storage's key and the element offset. */
  viewOf?: { root: string; offset: number };
}

function makeTensor(storage: unknown, offset: unknown, size: unknown, stride: unknown, requiresGrad: unknown): TorchTensor {
  const s = storage as TorchStorage;
  if (typeof s !== 'object' || s === null || !('itemsize' in s)) throw new Error('the tensor has no storage');
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new Error('bad storage offset');
  const shape = asIntList(size, 'size');
  const strides = asIntList(stride, 'stride');
  if (strides.length !== shape.length) throw new Error(`size ${JSON.stringify(shape)} and stride ${JSON.stringify(strides)} differ in length`);
  return { kind: 'torch-tensor', dtype: s.dtype, shape, strides, storageOffset: offset, storage: s, requiresGrad: requiresGrad === true };
}

function asParameter(data: unknown, requiresGrad: unknown): TorchTensor {
  if (!isTorchTensor(data)) throw new Error('a parameter without tensor data');
  return { ...data, requiresGrad: requiresGrad === true };
}

/** The PyTorch functions whose calls rebuild tensors, by `module.name`. */
function rebuildHandlers(): Record<string, PickleClassHandler> {
  const handlers: Record<string, PickleClassHandler> = {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    'torch._utils._rebuild_tensor_v2': { construct: (a) => makeTensor(a[0], a[1], a[2], a[3], a[4]) },
    // (storage, storage_offset, size, stride) — PyTorch < 1.0
    'torch._utils._rebuild_tensor': { construct: (a) => makeTensor(a[0], a[1], a[2], a[3], false) },
    // nn.Parameter: (data, requires_grad, backward_hooks[, state]) — the data is the tensor.
    'torch._utils._rebuild_parameter': { construct: (a) => asParameter(a[0], a[1]) },
    'torch._utils._rebuild_parameter_with_state': { construct: (a) => asParameter(a[0], a[1]) },
    // Tensor subclasses: (func, new_type, args, state) → func(*args).
    'torch._tensor._rebuild_from_type_v2': {
      construct: (a) => {
        const [func, , args] = a as [unknown, unknown, unknown[]];
        if (!(func instanceof PickleGlobal)) throw new Error('no rebuild function');
        const inner = handlers[func.qualifiedName];
        if (!inner) throw new Error(`unsupported tensor rebuild function ${func.qualifiedName}`);
        return inner.construct(args, func);
      },
    },
    // A state dict is an OrderedDict whose pickle also carries its `_metadata` attribute as
    // BUILD state; keep the entries only (the metadata holds per-module format versions).
    'collections.OrderedDict': {
      construct: (a) => new Map(((a[0] as [unknown, unknown][] | undefined) ?? []).map((p) => [p[0], p[1]])),
      setState: () => {},
    },
  };
  return handlers;
}

/** A storage described by a persistent id `('storage', torch.XStorage, key, location, numel[, view_metadata])`. */
function storageFromPid(pid: unknown): PendingStorage {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`unsupported persistent id ${JSON.stringify(Array.isArray(pid) ? pid[0] : typeof pid)}`);
  }
  const [, type, key, , numel, view] = pid as [string, unknown, unknown, unknown, unknown, unknown];
  if (!(type instanceof PickleGlobal) || !STORAGE_TYPES[type.name]) {
    throw new Error(`unsupported storage type ${type instanceof PickleGlobal ? type.qualifiedName : String(type)}`);
  }
  if (typeof key !== 'string' && typeof key !== 'number') throw new Error('storage key is not a string');
  if (typeof numel !== 'number' || !Number.isInteger(numel) || numel < 0) throw new Error('bad storage size');
  const { dtype, itemsize } = STORAGE_TYPES[type.name];
  const storage: PendingStorage = { key: String(key), dtype, itemsize, numel, bytes: new Uint8Array(0) };
  if (view !== undefined && view !== null) {
    const [viewKey, offset, viewSize] = view as [unknown, number, number];
    storage.key = String(viewKey);
    storage.numel = viewSize;
    storage.viewOf = { root: String(key), offset };
  }
  return storage;
}

/** Swap the bytes of every element in place (big-endian files). */
function swapBytes(bytes: Uint8Array, itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes);
  if (itemsize === 1) return out;
  for (let i = 0; i < out.length; i += itemsize) out.subarray(i, i + itemsize).reverse();
  return out;
}

function parseZip(bytes: Uint8Array, source: string, options: ParseTorchFileOptions): TorchFile {
  const zip = new ZipArchive(bytes, source);
  const pkl = zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name) || e.name === 'data.pkl');
  if (!pkl) {
    throw new WeightsFormatError(source, 'a zip archive without data.pkl: not a torch.save file (TorchScript and other archives are not supported)');
  }
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  if (zip.entry(`${prefix}constants.pkl`) || zip.entry(`${prefix}code/`)) {
    throw new WeightsFormatError(source, 'a TorchScript archive (torch.jit.save); save the state dict with torch.save(model.state_dict(), path)');
  }
  const readOptions = { inflateRaw: options.inflateRaw, verify: options.verify };
  const byteOrderEntry = zip.entry(`${prefix}byteorder`);
  const bigEndian = byteOrderEntry ? new TextDecoder().decode(zip.read(byteOrderEntry, readOptions)).trim() === 'big' : false;
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    const s = storageFromPid(pid);
    const known = storages.get(s.key);
    if (known) return known;
    const record = `${prefix}data/${s.key}`;
    if (!zip.entry(record)) throw new WeightsFormatError(source, `storage record ${record} is missing`);
    let data = zip.read(record, readOptions);
    if (data.length < s.numel * s.itemsize) {
      throw new WeightsFormatError(source, `storage ${record} holds ${data.length} bytes, ${s.numel} × ${s.itemsize} needed`);
    }
    if (bigEndian) data = swapBytes(data, s.itemsize);
    s.bytes = data;
    storages.set(s.key, s);
    return s;
  };
  const { value } = unpickleAt(zip.read(pkl, readOptions), 0, { source: `${source}:${pkl.name}`, classes: rebuildHandlers(), persistentLoad });
  return { format: 'zip', value };
}

/** 0x1950a86a20f9469cfc6c, the number legacy `torch.save` files start with. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

function parseLegacy(bytes: Uint8Array, source: string): TorchFile {
  const opts = { source };
  const magic = unpickleAt(bytes, 0, opts);
  if (magic.value !== LEGACY_MAGIC) throw new WeightsFormatError(source, 'not a torch.save file (neither a zip archive nor the legacy magic number)');
  const protocol = unpickleAt(bytes, magic.end, opts);
  if (protocol.value !== 1001) throw new WeightsFormatError(source, `unsupported legacy torch.save protocol ${String(protocol.value)}`);
  const sysInfo = unpickleAt(bytes, protocol.end, opts);
  const info = sysInfo.value instanceof Map ? sysInfo.value : new Map();
  const littleEndian = info.get('little_endian') !== false;
  const pending = new Map<string, PendingStorage[]>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    const s = storageFromPid(pid);
    const root = s.viewOf?.root ?? s.key;
    const list = pending.get(root) ?? [];
    const same = list.find((p) => p.key === s.key);
    if (same) return same;
    list.push(s);
    pending.set(root, list);
    return s;
  };
  const main = unpickleAt(bytes, sysInfo.end, { source, classes: rebuildHandlers(), persistentLoad });
  const keys = unpickleAt(bytes, main.end, opts);
  if (!Array.isArray(keys.value)) throw new WeightsFormatError(source, 'the storage key list is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keys.end;
  for (const key of keys.value as unknown[]) {
    const list = pending.get(String(key));
    if (!list) throw new WeightsFormatError(source, `storage ${String(key)} is stored but never used`);
    if (at + 8 > bytes.length) throw new WeightsFormatError(source, `truncated before storage ${String(key)}`);
    const numel = Number(view.getBigInt64(at, littleEndian));
    const root = list.find((s) => !s.viewOf) ?? list[0];
    const itemsize = root.itemsize;
    const start = at + 8;
    const end = start + numel * itemsize;
    if (numel < 0 || end > bytes.length) throw new WeightsFormatError(source, `storage ${String(key)} is truncated`);
    const data = littleEndian ? bytes.subarray(start, end) : swapBytes(bytes.subarray(start, end), itemsize);
    for (const s of list) {
      const offset = s.viewOf?.offset ?? 0;
      if (offset + s.numel > numel) throw new WeightsFormatError(source, `storage ${s.key} reaches past its root storage`);
      s.bytes = data.subarray(offset * itemsize, (offset + s.numel) * itemsize);
    }
    pending.delete(String(key));
    at = end;
  }
  if (pending.size > 0) throw new WeightsFormatError(source, `storage(s) ${[...pending.keys()].slice(0, 3).join(', ')} are used but not stored`);
  return { format: 'legacy', value: main.value };
}

/**
 * Parse the bytes of a `torch.save` file.
 *
 * @throws {@link WeightsFormatError} naming `options.source` for anything that is not a
 *   `torch.save` file of a supported format, damaged records, or unsupported contents.
 */
export function parseTorchFile(bytes: Uint8Array, options: ParseTorchFileOptions = {}): TorchFile {
  const source = options.source ?? 'torch file';
  if (looksLikeZip(bytes)) return parseZip(bytes, source, options);
  if (bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar') {
    throw new WeightsFormatError(source, 'the tar format of PyTorch < 0.4 is not supported; load and re-save the file with a newer PyTorch');
  }
  if (bytes[0] === 0x80) return parseLegacy(bytes, source);
  throw new WeightsFormatError(source, 'not a torch.save file (neither a zip archive nor a pickle)');
}

/**
 * The tensors of a saved state dict, by name, in file order: the saved dict itself, or the
 * dict under `state_dict` / `model` / `model_state_dict` of a training checkpoint. Entries
 * that are not tensors (e.g. other bookkeeping) are left out.
 *
 * @throws {@link WeightsFormatError} when no dict of tensors is found (e.g. a pickled
 *   `nn.Module`), or an entry is a tensor of a kind this reader cannot rebuild.
 */
export function torchStateDict(file: TorchFile, source = 'torch file'): Map<string, TorchTensor> {
  const describe = (v: unknown): string =>
    v instanceof PickleObject ? `a ${v.global.qualifiedName} object` : v instanceof Map ? 'a dict' : typeof v;
  let dict: unknown = file.value;
  if (dict instanceof Map && ![...dict.values()].some(isTorchTensor)) {
    for (const k of ['state_dict', 'model_state_dict', 'model']) {
      if (dict.get(k) instanceof Map) {
        dict = dict.get(k);
        break;
      }
    }
  }
  if (!(dict instanceof Map)) {
    throw new WeightsFormatError(
      source,
      `holds ${describe(dict)}, not a state dict; save the weights with torch.save(model.state_dict(), path)`,
    );
  }
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of dict) {
    if (isTorchTensor(v)) out.set(String(k), v);
    else if (v instanceof PickleObject && v.global.module.startsWith('torch')) {
      throw new WeightsFormatError(source, `${String(k)} is ${describe(v)}, which this reader cannot rebuild (quantized or sparse?)`);
    }
  }
  if (out.size === 0) throw new WeightsFormatError(source, 'the saved dict holds no tensors');
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The storage's elements as numbers in a typed array of the NamedArray dtype. */
function storageElements(s: TorchStorage): { dtype: NamedArray['dtype']; data: Float32Array | Float64Array | Int32Array | Uint8Array } {
  const bytes = s.bytes.byteOffset % s.itemsize === 0 ? s.bytes : s.bytes.slice();
  const n = s.numel;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (s.dtype) {
    case 'float32':
      return { dtype: 'float32', data: new Float32Array(bytes.buffer, bytes.byteOffset, n) };
    case 'float64':
      return { dtype: 'float64', data: new Float64Array(bytes.buffer, bytes.byteOffset, n) };
    case 'int32':
      return { dtype: 'int32', data: new Int32Array(bytes.buffer, bytes.byteOffset, n) };
    case 'float16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return { dtype: 'float32', data: out };
    }
    case 'bfloat16': {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return { dtype: 'float32', data: out };
    }
    case 'int64': {
      // As NamedArray keeps int64: float64 numbers (exact up to 2^53).
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      return { dtype: 'int64', data: out };
    }
    case 'int16':
      return { dtype: 'int32', data: Int32Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, n)) };
    case 'int8':
      return { dtype: 'int32', data: Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n)) };
    case 'uint8':
      return { dtype: 'uint8', data: bytes.subarray(0, n) };
    case 'bool':
      return { dtype: 'bool', data: bytes.subarray(0, n) };
  }
}

/**
 * A tensor's values as a fresh C-order (row-major) array: the strided view gathered,
 * half and bfloat16 widened to float32, int8/int16 to int32, int64 kept as float64 numbers.
 *
 * @throws {@link WeightsFormatError} naming `name` when the view reaches past its storage.
 */
export function torchTensorToArray(t: TorchTensor, name = 'tensor', source = 'torch file'): NamedArray {
  const { dtype, data } = storageElements(t.storage);
  const n = product(t.shape);
  let last = t.storageOffset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d] - 1) * t.strides[d];
  if (n > 0 && last >= t.storage.numel) {
    throw new WeightsFormatError(source, `${name} (shape [${t.shape}], strides [${t.strides}], offset ${t.storageOffset}) reaches past its storage of ${t.storage.numel} elements`);
  }
  const out = new (data.constructor as new (n: number) => typeof data)(n);
  // Walk the output in C order with an odometer over the indices.
  const rank = t.shape.length;
  const index = new Array<number>(rank).fill(0);
  let src = t.storageOffset;
  for (let i = 0; i < n; i++) {
    out[i] = data[src];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      src += t.strides[d];
      if (index[d] < t.shape[d]) break;
      src -= t.strides[d] * t.shape[d];
      index[d] = 0;
    }
  }
  return { shape: [...t.shape], dtype, data: out };
}

/**
 * Read a `torch.save` file from disk (Node): the file's bytes through {@link parseTorchFile},
 * deflated ZIP records inflated with `node:zlib`.
 * @throws {@link FileNotFoundError} when `path` does not exist; {@link WeightsFormatError} as {@link parseTorchFile}.
 */
export async function readTorchFile(path: string, options: Omit<ParseTorchFileOptions, 'source' | 'inflateRaw'> = {}): Promise<TorchFile> {
  const { readFileBytes } = await import('./node-fs.js');
  const { inflateRawSync } = await import('node:zlib');
  const bytes = await readFileBytes(path, 'PyTorch file');
  return parseTorchFile(bytes, { ...options, source: path, inflateRaw: (d) => new Uint8Array(inflateRawSync(d)) });
}
