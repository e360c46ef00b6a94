/**
 * NumPy `.npy` reader: plain numeric arrays (any byte order, C or Fortran order) and object
 * arrays, whose payload is a pickle (see {@link unpickle}). The core works on bytes
 * (Node and browsers); {@link readNpyFile} and {@link readMtcnnCaffeNpy} also accept a path in Node.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { WeightsFormatError } from '../errors.js';
import { unpickle, PickleObject, type PickleClassHandler, type PickleValue } from './pickle.js';
import type { NamedArray, NamedArrays } from './types.js';

/** An array of Python objects (NumPy dtype `O`), items in C order. */
export interface NpyObjectArray {
  kind: 'object-array';
  shape: number[];
  items: PickleValue[];
}

/**
 * What {@link parseNpy} returns: a {@link NamedArray} for numeric / bool / string arrays;
 * for object arrays the unpickled value, with every NumPy array inside it turned into a
 * NamedArray (or an {@link NpyObjectArray}). A 0-d object array (what `np.save(dict)`
 * writes) yields its single item, like `np.load(...).item()`.
 */
export type NpyValue = NamedArray | NpyObjectArray | PickleValue;

/** Whether `v` is a {@link NamedArray} (as produced by these readers). */
export function isNamedArray(v: unknown): v is NamedArray {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as NamedArray).shape) &&
    typeof (v as NamedArray).dtype === 'string' &&
    (ArrayBuffer.isView((v as NamedArray).data) || Array.isArray((v as NamedArray).data))
  );
}

// ---------------------------------------------------------------------------------------
// dtypes

/** A parsed NumPy type string such as `<f4`. */
interface NumpyType {
  /** `f`, `i`, `u`, `b`, `U`, `S`, `O`, ... */
  kind: string;
  itemsize: number;
  littleEndian: boolean;
}

/** Parse a descr such as `<f4`, `|b1`, `>i8`, `<U5`, `|O`. `=` (native) is taken as little-endian. */
function parseTypeString(descr: string, fail: (r: string) => never): NumpyType {
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) return fail(`unsupported dtype ${JSON.stringify(descr)}`);
  const [, order, kind, size] = m as unknown as [string, string, string, string];
  let itemsize = size === '' ? 0 : Number(size);
  if (kind === 'O') itemsize = itemsize || 8;
  if (kind === 'U') itemsize *= 4; // the number counts UTF-32 characters
  if (kind === '?') return { kind: 'b', itemsize: 1, littleEndian: true };
  return { kind, itemsize, littleEndian: order !== '>' };
}

type RawView = ArrayLike<number> | ArrayLike<bigint>;

/** Decode `count` elements of a numeric/bool/string type from `raw` into a NamedArray's dtype and data. */
function decodeElements(
  raw: Uint8Array,
  t: NumpyType,
  count: number,
  fail: (r: string) => never,
): Pick<NamedArray, 'dtype' | 'data'> {
  const nbytes = count * t.itemsize;
  if (raw.length < nbytes) fail(`data truncated: ${count} element(s) of ${t.itemsize} byte(s) need ${nbytes} bytes, have ${raw.length}`);
  if (t.kind === 'U' || t.kind === 'S') {
    const out: string[] = new Array(count);
    const dv = new DataView(raw.buffer, raw.byteOffset, nbytes);
    for (let i = 0; i < count; i++) {
      let s = '';
      if (t.kind === 'U') {
        // UTF-32 code points, NUL-padded.
        for (let j = 0; j < t.itemsize; j += 4) {
          const cp = dv.getUint32(i * t.itemsize + j, t.littleEndian);
          if (cp === 0) break;
          s += String.fromCodePoint(cp);
        }
      } else {
        for (let j = 0; j < t.itemsize; j++) {
          const b = raw[i * t.itemsize + j]!;
          if (b === 0) break;
          s += String.fromCharCode(b);
        }
      }
      out[i] = s;
    }
    return { dtype: 'string', data: out };
  }
  // Copy into a fresh, aligned buffer; swap bytes when the file is big-endian.
  const copy = new Uint8Array(raw.subarray(0, nbytes)); // a real copy even for Node Buffers (whose slice() is a view)
  if (!t.littleEndian && t.itemsize > 1) {
    for (let i = 0; i < nbytes; i += t.itemsize) copy.subarray(i, i + t.itemsize).reverse();
  }
  const buf = copy.buffer;
  const key = `${t.kind}${t.itemsize}`;
  let view: RawView;
  switch (key) {
    case 'f4':
      return { dtype: 'float32', data: new Float32Array(buf) };
    case 'f8':
      return { dtype: 'float64', data: new Float64Array(buf) };
    case 'u1':
      return { dtype: 'uint8', data: copy };
    case 'b1':
      return { dtype: 'bool', data: copy.map((b) => (b ? 1 : 0)) };
    case 'i4':
      return { dtype: 'int32', data: new Int32Array(buf) };
    case 'i1':
      view = new Int8Array(buf);
      return { dtype: 'int32', data: Int32Array.from(view) };
    case 'i2':
      view = new Int16Array(buf);
      return { dtype: 'int32', data: Int32Array.from(view) };
    case 'u2':
      view = new Uint16Array(buf);
      return { dtype: 'int32', data: Int32Array.from(view) };
    case 'u4':
      // Exact in float64, so stored like int64.
      return { dtype: 'int64', data: Float64Array.from(new Uint32Array(buf)) };
    case 'i8':
      return { dtype: 'int64', data: Float64Array.from(new BigInt64Array(buf), Number) };
    case 'u8':
      return { dtype: 'int64', data: Float64Array.from(new BigUint64Array(buf), Number) };
    default:
      return fail(`unsupported dtype ${key}`);
  }
}

/** Reorder Fortran-order (column-major) values into C order (row-major). */
export function fortranToC<T extends { length: number; [i: number]: unknown }>(data: T, shape: number[]): T {
  const n = data.length;
  const nd = shape.length;
  if (nd < 2 || n === 0) return data;
  const out = (Array.isArray(data) ? new Array(n) : new (data.constructor as new (n: number) => T)(n)) as T;
  const fStrides = new Array<number>(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fStrides[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < n; c++) {
    (out as { [i: number]: unknown })[c] = data[f];
    // Advance the C-order multi-index (last axis fastest) and track the Fortran offset.
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]!++;
      f += fStrides[k]!;
      if (idx[k]! < shape[k]!) break;
      f -= fStrides[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------------------
// Header

/** Parse the Python literal of an .npy header (a dict of str, bool, None, int, tuple, list). */
function parsePyLiteral(text: string, fail: (r: string) => never): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === '{' || c === '(' || c === '[') {
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const items: unknown[] = [];
      const entries: [unknown, unknown][] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        const v = value();
        if (c === '{') {
          ws();
          if (text[i] !== ':') fail(`header: expected ':' at ${i}`);
          i++;
          entries.push([v, value()]);
        } else items.push(v);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`header: expected ',' or '${close}' at ${i}`);
      }
      return c === '{' ? new Map(entries) : items;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('header: unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (!m) return fail(`header: unexpected ${JSON.stringify(text.slice(i, i + 10))}`);
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace('L', ''));
  };
  const v = value();
  ws();
  if (i !== text.length) fail(`header: trailing text ${JSON.stringify(text.slice(i, i + 10))}`);
  return v;
}

/** The fields of an .npy header. */
export interface NpyHeader {
  /** Format version [major, minor]. */
  version: [number, number];
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the array data. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Read the header of an .npy file. @throws {@link WeightsFormatError} */
export function parseNpyHeader(bytes: Uint8Array, source = 'npy'): NpyHeader {
  const fail = (r: string): never => {
    throw new WeightsFormatError(source, `npy: ${r}`);
  };
  if (bytes.length < 10) fail(`file too short (${bytes.length} bytes)`);
  for (let k = 0; k < MAGIC.length; k++) if (bytes[k] !== MAGIC[k]) fail('not an .npy file (bad magic)');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('file too short for a v2/v3 header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    return fail(`unsupported format version ${major}.${minor}`);
  }
  if (start + headerLen > bytes.length) fail(`header truncated: needs ${headerLen} bytes at byte ${start}`);
  const headerBytes = bytes.subarray(start, start + headerLen);
  const text =
    major === 3
      ? new TextDecoder('utf-8').decode(headerBytes)
      : Array.from(headerBytes, (b) => String.fromCharCode(b)).join('');
  const dict = parsePyLiteral(text.trim(), fail);
  if (!(dict instanceof Map)) return fail('header is not a dict');
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') fail('header descr is missing or is a structured dtype (unsupported)');
  if (typeof fortran !== 'boolean') fail('header fortran_order is missing');
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail('header shape is invalid');
  return {
    version: [major, minor],
    descr: descr as string,
    fortranOrder: fortran as boolean,
    shape: shape as number[],
    dataOffset: start + headerLen,
  };
}

// ---------------------------------------------------------------------------------------
// Pickled numpy objects

/** `numpy.dtype(...)` while being unpickled. */
class DtypeStub {
  byteorder = '=';
  elsize = 0;
  structured = false;
  constructor(readonly descr: string) {}
  /** The type string, e.g. `<f4` (descr like `f4` plus the byte order from the state). */
  typeString(): string {
    const m = /^([a-zA-Z?])(\d*)$/.exec(this.descr);
    if (!m) return this.descr;
    const kind = m[1]!;
    // Flexible types carry their size in elsize (bytes; U counts 4 bytes per character).
    if (this.elsize > 0) return `${this.byteorder}${kind}${kind === 'U' ? this.elsize / 4 : this.elsize}`;
    return `${this.byteorder}${kind}${m[2]}`;
  }
}

/** `numpy.ndarray` while being unpickled (made by `_reconstruct`, filled by `BUILD`). */
class ArrayStub {
  shape: number[] = [];
  dtype: DtypeStub | null = null;
  fortran = false;
  raw: unknown = null;
}

function toBytes(raw: unknown): Uint8Array | null {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') {
    // Python 2 str: latin1 code units are the bytes.
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  return null;
}

const reconstruct: PickleClassHandler = {
  construct: () => new ArrayStub(),
  setState(obj, state) {
    const a = obj as ArrayStub;
    if (!Array.isArray(state)) throw new Error('ndarray state is not a tuple');
    // (version, shape, dtype, is_fortran, rawdata), or the older form without version.
    const s = state.length === 5 ? state.slice(1) : state;
    if (s.length !== 4) throw new Error(`ndarray state has ${state.length} items`);
    const [shape, dtype, fortran, raw] = s as [unknown, unknown, unknown, unknown];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
      throw new Error('ndarray shape is invalid');
    }
    if (!(dtype instanceof DtypeStub)) throw new Error('ndarray dtype is not a numpy.dtype');
    a.shape = shape as number[];
    a.dtype = dtype;
    a.fortran = Boolean(fortran);
    a.raw = raw;
  },
};

const dtypeHandler: PickleClassHandler = {
  construct: (args) => {
    if (typeof args[0] !== 'string') throw new Error('dtype descr is not a string');
    return new DtypeStub(args[0]);
  },
  setState(obj, state) {
    const d = obj as DtypeStub;
    // (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata])
    if (!Array.isArray(state) || state.length < 8) throw new Error('dtype state is not an 8/9-tuple');
    if (typeof state[1] === 'string') d.byteorder = state[1];
    if (state[2] !== null || state[3] !== null) d.structured = true;
    if (typeof state[5] === 'number') d.elsize = state[5];
  },
};

const scalarHandler: PickleClassHandler = {
  // numpy.core.multiarray.scalar(dtype, raw bytes) → a NumPy scalar.
  construct: (args) => {
    const [dtype, raw] = args;
    if (!(dtype instanceof DtypeStub)) throw new Error('scalar dtype is not a numpy.dtype');
    const bytes = toBytes(raw);
    if (!bytes) throw new Error('scalar data is not bytes');
    const t = parseTypeString(dtype.typeString(), (r) => {
      throw new Error(r);
    });
    const { dtype: dt, data } = decodeElements(bytes, t, 1, (r) => {
      throw new Error(r);
    });
    return dt === 'bool' ? data[0] === 1 : data[0];
  },
};

/** Pickle handlers for the NumPy globals `np.save` writes (NumPy 1.x and 2.x module names). */
export const NUMPY_PICKLE_CLASSES: Record<string, PickleClassHandler> = {
  'numpy.core.multiarray._reconstruct': reconstruct,
  'numpy._core.multiarray._reconstruct': reconstruct,
  'numpy.dtype': dtypeHandler,
  'numpy.core.multiarray.scalar': scalarHandler,
  'numpy._core.multiarray.scalar': scalarHandler,
};

/** Replace every ArrayStub inside `root` by a NamedArray / NpyObjectArray (in place; cycles allowed). */
function materialize(root: unknown, fail: (r: string) => never): unknown {
  const done = new Map<ArrayStub, unknown>();
  const seen = new Set<object>();
  const conv = (v: unknown): unknown => {
    if (v instanceof ArrayStub) {
      if (done.has(v)) return done.get(v);
      if (!v.dtype) return fail('ndarray was never given a state (missing BUILD)');
      if (v.dtype.structured) return fail('structured dtypes are not supported');
      const t = parseTypeString(v.dtype.typeString(), fail);
      const count = product(v.shape);
      if (t.kind === 'O') {
        if (!Array.isArray(v.raw) || v.raw.length !== count) return fail('object array data is not a list of the right length');
        const out: NpyObjectArray = { kind: 'object-array', shape: v.shape, items: [] };
        done.set(v, out);
        const items = (v.raw as unknown[]).map(conv);
        out.items = v.fortran ? fortranToC(items, v.shape) : items;
        return out;
      }
      const bytes = toBytes(v.raw);
      if (!bytes) return fail('ndarray data is not bytes');
      const { dtype, data } = decodeElements(bytes, t, count, fail);
      const arr: NamedArray = { shape: v.shape, dtype, data: v.fortran ? fortranToC(data, v.shape) : data };
      done.set(v, arr);
      return arr;
    }
    if (v === null || typeof v !== 'object' || seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = conv(v[i]);
    } else if (v instanceof Map) {
      const entries = [...v.entries()];
      v.clear();
      for (const [k, x] of entries) v.set(conv(k), conv(x));
    } else if (v instanceof Set) {
      const items = [...v];
      v.clear();
      for (const x of items) v.add(conv(x));
    } else if (v instanceof PickleObject) {
      for (let i = 0; i < v.args.length; i++) v.args[i] = conv(v.args[i]);
      v.state = conv(v.state);
    }
    return v;
  };
  return conv(root);
}

/**
 * Parse an `.npy` file.
 *
 * @param bytes The whole file.
 * @param source Names the file in error messages.
 * @returns A {@link NamedArray} (C order) for numeric / bool / string arrays, else the
 *   unpickled object array (see {@link NpyValue}).
 * @throws {@link WeightsFormatError} naming `source` (and a byte offset for pickle errors).
 */
export function parseNpy(bytes: Uint8Array, source = 'npy'): NpyValue {
  const header = parseNpyHeader(bytes, source);
  const fail = (r: string): never => {
    throw new WeightsFormatError(source, `npy: ${r}`);
  };
  const t = parseTypeString(header.descr, fail);
  const body = bytes.subarray(header.dataOffset);
  if (t.kind === 'O') {
    const value = unpickle(body, { source, baseOffset: header.dataOffset, classes: NUMPY_PICKLE_CLASSES });
    const out = materialize(value, fail);
    if (typeof out === 'object' && out !== null && (out as NpyObjectArray).kind === 'object-array') {
      const oa = out as NpyObjectArray;
      if (oa.shape.length === 0) return oa.items[0];
    }
    return out;
  }
  const count = product(header.shape);
  const { dtype, data } = decodeElements(body, t, count, fail);
  return { shape: header.shape, dtype, data: header.fortranOrder ? fortranToC(data, header.shape) : data };
}

/** Read and parse an `.npy` file (Node). @throws {@link FileNotFoundError}, {@link WeightsFormatError} */
export async function readNpyFile(path: string): Promise<NpyValue> {
  const { readFileBytes } = await import('./node-fs.js');
  return parseNpy(await readFileBytes(path, '.npy file'), path);
}

/**
 * Read one of the original MTCNN weight files (`det1.npy`, `det2.npy`, `det3.npy`, as used by
 * davidsandberg/facenet): a pickled dict layer name → {`weights`, `biases`} or {`alpha`}.
 * Returns `layer/param` → array, e.g. `conv1/weights` (HWIO), `conv1/biases`, `PReLU1/alpha`,
 * layer names exactly as stored in the file, in the file's order.
 *
 * @param input A file path (Node) or the file's bytes.
 * @param source Names the data in error messages (default: the path, or `'mtcnn npy'`).
 * @throws {@link WeightsFormatError} when the file does not hold such a dict.
 */
export async function readMtcnnCaffeNpy(input: string | Uint8Array, source?: string): Promise<NamedArrays> {
  let bytes: Uint8Array;
  let name: string;
  if (typeof input === 'string') {
    const { readFileBytes } = await import('./node-fs.js');
    bytes = await readFileBytes(input, 'MTCNN weights file');
    name = source ?? input;
  } else {
    bytes = input;
    name = source ?? 'mtcnn npy';
  }
  return mtcnnDictToArrays(parseNpy(bytes, name), name);
}

/** Flatten a parsed MTCNN dict (layer → param → array) into `layer/param` keys. */
export function mtcnnDictToArrays(value: NpyValue, source = 'mtcnn npy'): NamedArrays {
  const fail = (r: string): never => {
    throw new WeightsFormatError(source, r);
  };
  if (!(value instanceof Map)) fail('expected a pickled dict of layers');
  const out: NamedArrays = new Map();
  for (const [layer, params] of value as Map<unknown, unknown>) {
    if (typeof layer !== 'string') fail(`layer name ${String(layer)} is not a string`);
    if (!(params instanceof Map)) fail(`layer ${layer as string} is not a dict of arrays`);
    for (const [param, arr] of params as Map<unknown, unknown>) {
      if (typeof param !== 'string') fail(`layer ${layer as string}: parameter name is not a string`);
      if (!isNamedArray(arr)) fail(`${layer as string}/${param as string} is not a numeric array`);
      out.set(`${layer as string}/${param as string}`, arr as NamedArray);
    }
  }
  if (out.size === 0) fail('no layers');
  return out;
}
