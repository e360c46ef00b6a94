/**
 * .npy and pickle reading: the real MTCNN Caffe weights (checked value-for-value against
 * face-api.js's independent conversion of the same weights), and hand-built files whose
 * bytes are assembled here from the documented formats. (While writing these tests, the
 * hand-built .npy files and pickles were also loaded with numpy / CPython's pickle, which
 * gave the values asserted below; the tests themselves need no Python.)
 */
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sharedPath } from './helpers.js';
import { parseNpy, readMtcnnCaffeNpy, readNpyFile, isNamedArray, fortranToC, type NpyObjectArray } from '../src/io/npy.js';
import { unpickle, PickleObject, PickleGlobal } from '../src/io/pickle.js';
import { WeightsFormatError, FileNotFoundError } from '../src/errors.js';
import type { NamedArray } from '../src/io/types.js';

// ---------------------------------------------------------------------------------------
// Byte assembly helpers

/** Concatenate opcode bytes, latin1 strings and byte arrays. */
type Part = number | string | Uint8Array | Part[];
function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (p: Part): void => {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else if (p instanceof Uint8Array) out.push(...p);
    else p.forEach(add);
  };
  parts.forEach(add);
  return Uint8Array.from(out);
}
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const f32bytes = (vals: number[]) => new Uint8Array(Float32Array.from(vals).buffer);

/** An .npy file as the format document describes it: magic, version, header length, padded dict literal, data. */
function npyFile(descr: string, fortran: boolean, shape: number[], data: Uint8Array, major = 1): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeStr}, }`;
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64; // pad so the data is 64-byte aligned
  const header = dict + ' '.repeat(total - pre - dict.length - 1) + '\n';
  const len = header.length;
  const lenBytes = major === 1 ? [len & 0xff, len >> 8] : u32(len);
  return bytes(0x93, 'NUMPY', major, 0, lenBytes, header, data);
}

// ---------------------------------------------------------------------------------------
// Real weights

/** Layer → parameter shapes of the MTCNN Caffe files (as listed by numpy's np.load on these files). */
const DET_SHAPES: Record<string, Record<string, number[]>> = {
  det1: {
    'conv1/weights': [3, 3, 3, 10], 'conv1/biases': [10], 'PReLU1/alpha': [10],
    'conv2/weights': [3, 3, 10, 16], 'conv2/biases': [16], 'PReLU2/alpha': [16],
    'conv3/weights': [3, 3, 16, 32], 'conv3/biases': [32], 'PReLU3/alpha': [32],
    'conv4-1/weights': [1, 1, 32, 2], 'conv4-1/biases': [2],
    'conv4-2/weights': [1, 1, 32, 4], 'conv4-2/biases': [4],
  },
  det2: {
    'conv1/weights': [3, 3, 3, 28], 'conv1/biases': [28], 'prelu1/alpha': [28],
    'conv2/weights': [3, 3, 28, 48], 'conv2/biases': [48], 'prelu2/alpha': [48],
    'conv3/weights': [2, 2, 48, 64], 'conv3/biases': [64], 'prelu3/alpha': [64],
    'conv4/weights': [576, 128], 'conv4/biases': [128], 'prelu4/alpha': [128],
    'conv5-1/weights': [128, 2], 'conv5-1/biases': [2],
    'conv5-2/weights': [128, 4], 'conv5-2/biases': [4],
  },
  det3: {
    'conv1/weights': [3, 3, 3, 32], 'conv1/biases': [32], 'prelu1/alpha': [32],
    'conv2/weights': [3, 3, 32, 64], 'conv2/biases': [64], 'prelu2/alpha': [64],
    'conv3/weights': [3, 3, 64, 64], 'conv3/biases': [64], 'prelu3/alpha': [64],
    'conv4/weights': [2, 2, 64, 128], 'conv4/biases': [128], 'prelu4/alpha': [128],
    'conv5/weights': [1152, 256], 'conv5/biases': [256], 'prelu5/alpha': [256],
    'conv6-1/weights': [256, 2], 'conv6-1/biases': [2],
    'conv6-2/weights': [256, 4], 'conv6-2/biases': [4],
    'conv6-3/weights': [256, 10], 'conv6-3/biases': [10],
  },
};

/** face-api.js layer names → Caffe layer names, per network (face-api's own naming of the same nets). */
const FACEAPI_LAYERS: Record<string, { file: string; layers: Record<string, string> }> = {
  pnet: {
    file: 'det1',
    layers: { conv1: 'conv1', conv2: 'conv2', conv3: 'conv3', conv4_1: 'conv4-1', conv4_2: 'conv4-2', prelu1: 'PReLU1', prelu2: 'PReLU2', prelu3: 'PReLU3' },
  },
  rnet: {
    file: 'det2',
    layers: { conv1: 'conv1', conv2: 'conv2', conv3: 'conv3', fc1: 'conv4', fc2_1: 'conv5-1', fc2_2: 'conv5-2', prelu1: 'prelu1', prelu2: 'prelu2', prelu3: 'prelu3', prelu4: 'prelu4' },
  },
  onet: {
    file: 'det3',
    layers: {
      conv1: 'conv1', conv2: 'conv2', conv3: 'conv3', conv4: 'conv4', fc1: 'conv5', fc2_1: 'conv6-1', fc2_2: 'conv6-2', fc2_3: 'conv6-3',
      prelu1: 'prelu1', prelu2: 'prelu2', prelu3: 'prelu3', prelu4: 'prelu4', prelu5: 'prelu5',
    },
  },
};

/** Decode face-api's tfjs weights manifest + shard by hand: float32 tensors laid end to end in manifest order. */
async function readFaceApiWeights(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const dir = sharedPath('weights', 'mtcnn-faceapi');
  const manifest = JSON.parse(await readFile(join(dir, 'mtcnn_model-weights_manifest.json'), 'utf8')) as {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: string }[];
  }[];
  expect(manifest).toHaveLength(1);
  const shard = await readFile(join(dir, manifest[0]!.paths[0]!));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  let offset = 0;
  for (const w of manifest[0]!.weights) {
    expect(w.dtype).toBe('float32');
    const n = w.shape.reduce((a, b) => a * b, 1);
    out.set(w.name, { shape: w.shape, data: new Float32Array(new Uint8Array(shard.subarray(offset, offset + 4 * n)).buffer) });
    offset += 4 * n;
  }
  expect(offset).toBe(shard.length);
  return out;
}

describe('MTCNN Caffe weights (det1/det2/det3.npy)', () => {
  it('lists every layer parameter with its HWIO / [in,out] shape', async () => {
    for (const [file, expected] of Object.entries(DET_SHAPES)) {
      const arrays = await readMtcnnCaffeNpy(sharedPath('weights', 'mtcnn-caffe', `${file}.npy`));
      expect(new Set(arrays.keys())).toEqual(new Set(Object.keys(expected)));
      for (const [name, shape] of Object.entries(expected)) {
        const a = arrays.get(name)!;
        expect(a.shape, `${file} ${name}`).toEqual(shape);
        expect(a.dtype).toBe('float32');
        expect(a.data.length).toBe(shape.reduce((x, y) => x * y, 1));
        expect((a.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('equals, value for value, face-api.js\'s conversion of the same weights', async () => {
    const faceApi = await readFaceApiWeights();
    expect(faceApi.size).toBe(50);
    const dets = new Map<string, Map<string, NamedArray>>();
    for (const f of ['det1', 'det2', 'det3']) dets.set(f, await readMtcnnCaffeNpy(sharedPath('weights', 'mtcnn-caffe', `${f}.npy`)));
    let compared = 0;
    for (const [name, fa] of faceApi) {
      // pnet/conv1/weights, pnet/conv1/bias, pnet/prelu1_alpha
      const [net, layer, param] = name.split('/') as [string, string, string | undefined];
      const spec = FACEAPI_LAYERS[net]!;
      const caffeName = param === undefined
        ? `${spec.layers[layer.replace(/_alpha$/, '')]}/alpha`
        : `${spec.layers[layer]}/${param === 'bias' ? 'biases' : param}`;
      const ours = dets.get(spec.file)!.get(caffeName);
      expect(ours, `${name} → ${spec.file} ${caffeName}`).toBeDefined();
      // Same shape, same layout: no reshape or transpose is needed between the two.
      expect(ours!.shape).toEqual(fa.shape);
      expect(Array.from(ours!.data as Float32Array)).toEqual(Array.from(fa.data));
      compared++;
    }
    // Every Caffe parameter has a face-api twin.
    expect(compared).toBe([...dets.values()].reduce((s, m) => s + m.size, 0));
  });

  it('reads from bytes as well as from a path; truncation is a WeightsFormatError naming the source', async () => {
    const path = sharedPath('weights', 'mtcnn-caffe', 'det1.npy');
    const bytesIn = new Uint8Array(await readFile(path));
    const fromBytes = await readMtcnnCaffeNpy(bytesIn, 'det1 bytes');
    const fromPath = await readMtcnnCaffeNpy(path);
    expect([...fromBytes.keys()]).toEqual([...fromPath.keys()]);
    const cut = bytesIn.subarray(0, 5000);
    await expect(readMtcnnCaffeNpy(cut, 'det1-cut')).rejects.toThrow(WeightsFormatError);
    await expect(readMtcnnCaffeNpy(cut, 'det1-cut')).rejects.toThrow(/det1-cut.*truncated.*at byte/);
    await expect(readMtcnnCaffeNpy('/nonexistent/det9.npy')).rejects.toThrow(FileNotFoundError);
  });
});

// ---------------------------------------------------------------------------------------
// Hand-built .npy files

describe('parseNpy on hand-built files', () => {
  it('reads <f4 in C order', () => {
    const a = parseNpy(npyFile('<f4', false, [2, 3], f32bytes([1, 2, 3, 4, 5, 6]))) as NamedArray;
    expect(a).toEqual({ shape: [2, 3], dtype: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  });

  it('reorders Fortran-order data into C order (2-D and 3-D)', () => {
    // C value at (i, j) is 10*i + j; Fortran memory runs down columns: (0,0),(1,0),(0,1),(1,1),(0,2),(1,2).
    const a = parseNpy(npyFile('<f4', true, [2, 3], f32bytes([0, 10, 1, 11, 2, 12]))) as NamedArray;
    expect(Array.from(a.data as Float32Array)).toEqual([0, 1, 2, 10, 11, 12]);
    // 3-D: C value at (i,j,k) = 100i + 10j + k; Fortran position = i + 2j + 6k for shape [2,3,4].
    const f = new Float32Array(24);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) f[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
    const b = parseNpy(npyFile('<f4', true, [2, 3, 4], new Uint8Array(f.buffer))) as NamedArray;
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(100 * i + 10 * j + k);
    expect(b.shape).toEqual([2, 3, 4]);
    expect(Array.from(b.data as Float32Array)).toEqual(expected);
  });

  it('reads <i8 (as float64 numbers), <f8, <i4, |u1, |b1, >f4, and v2 / v3 headers', () => {
    const i8 = new BigInt64Array([-3n, 0n, 2n ** 40n + 1n, -(2n ** 50n)]);
    const a = parseNpy(npyFile('<i8', false, [4], new Uint8Array(i8.buffer))) as NamedArray;
    expect(a.dtype).toBe('int64');
    expect(Array.from(a.data as Float64Array)).toEqual([-3, 0, 2 ** 40 + 1, -(2 ** 50)]);

    const f8 = parseNpy(npyFile('<f8', false, [2], new Uint8Array(Float64Array.from([Math.PI, -1e300]).buffer))) as NamedArray;
    expect(f8).toEqual({ shape: [2], dtype: 'float64', data: Float64Array.from([Math.PI, -1e300]) });

    const i4 = parseNpy(npyFile('<i4', false, [1, 2], new Uint8Array(Int32Array.from([-7, 2147483647]).buffer))) as NamedArray;
    expect(i4).toEqual({ shape: [1, 2], dtype: 'int32', data: Int32Array.from([-7, 2147483647]) });

    const u1 = parseNpy(npyFile('|u1', false, [3], Uint8Array.from([0, 128, 255]))) as NamedArray;
    expect(u1).toEqual({ shape: [3], dtype: 'uint8', data: Uint8Array.from([0, 128, 255]) });

    const b1 = parseNpy(npyFile('|b1', false, [3], Uint8Array.from([1, 0, 1]))) as NamedArray;
    expect(b1).toEqual({ shape: [3], dtype: 'bool', data: Uint8Array.from([1, 0, 1]) });

    // Big-endian 1.0f is 3f 80 00 00.
    const be = parseNpy(npyFile('>f4', false, [1], Uint8Array.from([0x3f, 0x80, 0, 0]))) as NamedArray;
    expect(Array.from(be.data as Float32Array)).toEqual([1]);

    for (const major of [2, 3]) {
      const v = parseNpy(npyFile('<f4', false, [2], f32bytes([0.5, -2]), major)) as NamedArray;
      expect(Array.from(v.data as Float32Array)).toEqual([0.5, -2]);
    }
    // A 0-d array holds one element.
    const scalar = parseNpy(npyFile('<f4', false, [], f32bytes([42]))) as NamedArray;
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Float32Array)).toEqual([42]);
  });

  it('rejects bad magic, unknown versions, short data and unsupported dtypes', () => {
    expect(() => parseNpy(bytes('NOTNUMPY\x01\x00'), 'x.npy')).toThrow(/x\.npy.*magic/);
    const v9 = npyFile('<f4', false, [1], f32bytes([1]));
    v9[6] = 9;
    expect(() => parseNpy(v9)).toThrow(/version 9/);
    expect(() => parseNpy(npyFile('<f4', false, [3], f32bytes([1, 2])), 'short.npy')).toThrow(/short\.npy.*truncated/);
    expect(() => parseNpy(npyFile('<c8', false, [1], new Uint8Array(8)))).toThrow(WeightsFormatError);
  });

  it('fortranToC keeps 1-D data and permutes string arrays too', () => {
    expect(fortranToC(['a', 'c', 'b', 'd'], [2, 2])).toEqual(['a', 'b', 'c', 'd']);
    const one = Float32Array.from([1, 2, 3]);
    expect(fortranToC(one, [3])).toBe(one);
  });
});

// ---------------------------------------------------------------------------------------
// Hand-built pickles

const NONE = 0x4e, MARK = 0x28, TUPLE = 0x74, TUPLE1 = 0x85, TUPLE3 = 0x87, REDUCE = 0x52, BUILD = 0x62;
/** dtype state (3, byteorder, None, None, None, -1, -1, flags); numpy sets flags 63 (refcounted items) on 'O'. */
const dtypeState = (order: string, flags: number) =>
  bytes(MARK, 'K', 3, 'U', 1, order, NONE, NONE, NONE, 'J', u32(0xffffffff), 'J', u32(0xffffffff), 'K', flags, TUPLE, BUILD);
/** numpy.dtype(descr, 0, 1) with BUILD state, using memo 4 (GLOBAL numpy.dtype) when `memoized`. */
const dtype = (descr: string, order: string, memoized: boolean) =>
  bytes(memoized ? ['h', 4] : ['c', 'numpy\ndtype\n', 'q', 4], 'U', descr.length, descr, 'K', 0, 'K', 1, TUPLE3, REDUCE, dtypeState(order, descr[0] === 'O' ? 63 : 0));
/** numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b') using memo 1 and 2. */
const reconstruct = bytes('h', 1, 'h', 2, 'K', 0, TUPLE1, 'U', 1, 'b', TUPLE3, REDUCE);

describe('unpickle / object .npy built opcode by opcode', () => {
  it('reads a 0-d object array holding a dict of numpy arrays (the layout of np.save(dict))', () => {
    const pickle = bytes(
      0x80, 2, // PROTO 2
      'c', 'numpy.core.multiarray\n_reconstruct\n', 'q', 1,
      'c', 'numpy\nndarray\n', 'q', 2,
      'K', 0, TUPLE1, 'U', 1, 'b', TUPLE3, REDUCE, 'q', 3, // outer array
      MARK, 'K', 1, ')', dtype('O8', '|', false), 0x89, ']', 'q', 6, // (1, (), dtype('O8'), False, [
      '}', 'q', 7, MARK,
      'X', u32(5), 'layer', '}', MARK,
      // 'weights': float32 [2,3], Fortran order, data as a Python 2 str (BINSTRING, latin1)
      'U', 7, 'weights', reconstruct, MARK, 'K', 1, 'K', 2, 'K', 3, 0x86, dtype('f4', '<', true), 0x88,
      'T', u32(24), f32bytes([0, 10, 1, 11, 2, 12]), TUPLE, BUILD,
      // 'alpha': float32 [2], C order, data as SHORT_BINBYTES
      'U', 5, 'alpha', reconstruct, MARK, 'K', 1, 'K', 2, TUPLE1, dtype('f4', '<', true), 0x89,
      'C', 8, f32bytes([0.25, -4]), TUPLE, BUILD,
      'u', // SETITEMS (inner)
      'u', // SETITEMS (outer)
      'a', // APPEND dict to the list
      TUPLE, BUILD, '.',
    );
    const header = npyFile('|O', false, [], new Uint8Array(0));
    const file = bytes(header, pickle);
    const value = parseNpy(file, 'hand.npy');
    expect(value).toBeInstanceOf(Map);
    const layer = (value as Map<string, Map<string, NamedArray>>).get('layer')!;
    expect(layer.get('weights')).toEqual({ shape: [2, 3], dtype: 'float32', data: Float32Array.from([0, 1, 2, 10, 11, 12]) });
    expect(layer.get('alpha')).toEqual({ shape: [2], dtype: 'float32', data: Float32Array.from([0.25, -4]) });
    expect(isNamedArray(layer.get('alpha'))).toBe(true);
  });

  it('handles protocol-4 opcodes: FRAME, MEMOIZE, STACK_GLOBAL, NEWOBJ, LONG1, BINFLOAT, sets, memo gets', () => {
    const su = (s: string) => {
      const b = new TextEncoder().encode(s);
      return bytes(0x8c, b.length, b);
    };
    const body = bytes(
      ']', 0x94, // EMPTY_LIST, memo 0
      MARK,
      'J', u32(-5 >>> 0), // BININT -5
      'M', 300 & 0xff, 300 >> 8, // BININT2 300
      0x8a, 9, [0, 0, 0, 0, 0, 0, 0, 0, 0x40], // LONG1 2**70
      0x8a, 1, 0xff, // LONG1 -1
      'G', [0x3f, 0xf8, 0, 0, 0, 0, 0, 0], // BINFLOAT 1.5 (big-endian)
      0x88, 0x89, NONE, // True False None
      su('é€'), // SHORT_BINUNICODE (UTF-8)
      'U', 1, 0xe9, // SHORT_BINSTRING: latin1 é
      'B', u32(3), [1, 2, 3], // BINBYTES
      'K', 1, 'K', 2, 0x86, 'r', u32(1000), // TUPLE2 (1, 2), LONG_BINPUT 1000
      'j', u32(1000), // LONG_BINGET 1000: the same tuple again
      0x8f, 0x94, MARK, 'K', 7, 'K', 8, 0x90, // EMPTY_SET, MEMOIZE, ADDITEMS {7, 8}
      su('mymod'), su('Thing'), 0x93, ')', 0x81, // STACK_GLOBAL mymod.Thing, NEWOBJ with ()
      '}', su('x'), 'K', 9, 's', BUILD, // state {'x': 9}
      '}', MARK, su('k1'), 'K', 1, su('k2'), 'K', 2, 'u', // dict via SETITEMS
      'c', '_codecs\nencode\n', su('\u00ff\u0000'), su('latin1'), 0x86, REDUCE, // bytes b'\xff\x00' (Python 3 protocol 2)
      'e', // APPENDS
      '.',
    );
    const pickle = bytes(0x80, 4, 0x95, [body.length, 0, 0, 0, 0, 0, 0, 0], body);
    const v = unpickle(pickle) as unknown[];
    expect(v.slice(0, 10)).toEqual([-5, 300, 2n ** 70n, -1, 1.5, true, false, null, 'é€', 'é']);
    expect(v[10]).toEqual(Uint8Array.from([1, 2, 3]));
    expect(v[11]).toEqual([1, 2]);
    expect(v[12]).toBe(v[11]); // memo returns the same object
    expect(v[13]).toEqual(new Set([7, 8]));
    const obj = v[14] as PickleObject;
    expect(obj).toBeInstanceOf(PickleObject);
    expect(obj.global).toEqual(new PickleGlobal('mymod', 'Thing'));
    expect(obj.state).toEqual(new Map([['x', 9]]));
    expect(v[15]).toEqual(new Map([['k1', 1], ['k2', 2]]));
    expect(v[16]).toEqual(Uint8Array.from([0xff, 0]));
    expect(v).toHaveLength(17);
  });

  it('reports an unknown opcode or truncation with the source and byte offset', () => {
    expect(() => unpickle(bytes(0x80, 2, 0xff), { source: 'weird.pkl' })).toThrow(/weird\.pkl.*unknown opcode 0xff \(at byte 2\)/);
    expect(() => unpickle(bytes(0x80, 2, 'X', u32(10), 'abc'), { source: 's' })).toThrow(/truncated.*at byte 7/);
    expect(() => unpickle(bytes(0x80, 2, 'h', 7, '.'))).toThrow(/memo key 7/);
    expect(() => unpickle(bytes(0x80, 2, ']'))).toThrow(WeightsFormatError); // no STOP
    // In an .npy the offset counts from the start of the file.
    const header = npyFile('|O', false, [], new Uint8Array(0));
    expect(() => parseNpy(bytes(header, 0x80, 2, 0xfe), 'obj.npy')).toThrow(new RegExp(`obj\\.npy.*at byte ${header.length + 2}`));
  });

  it('returns non-0-d object arrays as NpyObjectArray and rejects non-dict MTCNN files', async () => {
    // _reconstruct + BUILD (1, (2,), dtype('O8'), False, ['a', 'b'])
    const pickle = bytes(
      0x80, 2, 'c', 'numpy.core.multiarray\n_reconstruct\n', 'q', 1, '0', 'c', 'numpy\nndarray\n', 'q', 2, '0', // memoize, POP
      reconstruct, MARK, 'K', 1, 'K', 2, TUPLE1, dtype('O8', '|', false), 0x89, ']', MARK, 'X', u32(1), 'a', 'X', u32(1), 'b', 'e',
      TUPLE, BUILD, '.',
    );
    const v = parseNpy(bytes(npyFile('|O', false, [2], new Uint8Array(0)), pickle)) as NpyObjectArray;
    expect(v).toEqual({ kind: 'object-array', shape: [2], items: ['a', 'b'] });
    await expect(readMtcnnCaffeNpy(npyFile('<f4', false, [1], f32bytes([1])), 'plain.npy')).rejects.toThrow(/plain\.npy.*dict/);
  });

  it('readNpyFile reads a file from disk', async () => {
    const v = await readNpyFile(sharedPath('weights', 'mtcnn-caffe', 'det1.npy'));
    expect(v).toBeInstanceOf(Map);
    expect([...(v as Map<string, unknown>).keys()]).toContain('PReLU1');
  });
});
