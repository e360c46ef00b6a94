/**
 * TensorFlow checkpoint bundles: CRC-32C vectors, the seed project's real MTCNN checkpoints
 * (written by TensorFlow), corruption detection, and writer → reader round trips. The writer
 * is checked against TensorFlow itself: re-serializing the seed checkpoints must reproduce
 * TensorFlow's `.index` and `.data` files byte for byte.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, writeFile, copyFile, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from './helpers.js';
import { crc32c, crc32cExtend, maskCrc32c, unmaskCrc32c } from '../src/io/crc32c.js';
import {
  parseTfCheckpoint,
  parseTfCheckpointIndex,
  readTfCheckpoint,
  serializeTfCheckpoint,
  writeTfCheckpoint,
  checkpointShardPath,
} from '../src/io/tf-checkpoint.js';
import { readTable, snappyDecompress, buildTable, shortestSeparator, shortSuccessor } from '../src/io/sstable.js';
import { WeightsFormatError, FileNotFoundError, ShapeError } from '../src/errors.js';
import type { NamedArray, NamedArrays } from '../src/io/types.js';

const enc = new TextEncoder();
const SEEDS = [
  { net: 'PNet', step: 30 },
  { net: 'RNet', step: 22 },
  { net: 'ONet', step: 14 },
] as const;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tfjs-facenet-ckpt-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('crc32c', () => {
  it('matches the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(enc.encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('extends incrementally and masks reversibly', () => {
    const data = enc.encode('the quick brown fox jumps over the lazy dog');
    for (const cut of [0, 1, 3, 4, 5, 17, data.length]) {
      expect(crc32cExtend(crc32cExtend(0, data.subarray(0, cut)), data.subarray(cut))).toBe(crc32c(data));
    }
    const c = crc32c(data);
    expect(maskCrc32c(c)).not.toBe(c);
    expect(unmaskCrc32c(maskCrc32c(c))).toBe(c);
    // mask = rotate right by 15, plus 0xa282ead8 (mod 2^32): worked by hand for crc = 1 → 1 << 17.
    expect(maskCrc32c(1)).toBe(((1 << 17) + 0xa282ead8) >>> 0);
  });
});

/** Expected trainable variables (name suffix → shape) of the seed's networks; each also has a `/Momentum` slot. */
const SEED_VARS: Record<string, Record<string, number[]>> = {
  PNet: {
    'conv1/weights': [3, 3, 3, 10], 'conv1/biases': [10], 'conv1/alphas': [10],
    'conv2/weights': [3, 3, 10, 16], 'conv2/biases': [16], 'conv2/alphas': [16],
    'conv3/weights': [3, 3, 16, 32], 'conv3/biases': [32], 'conv3/alphas': [32],
    'conv4_1/weights': [1, 1, 32, 2], 'conv4_1/biases': [2],
    'conv4_2/weights': [1, 1, 32, 4], 'conv4_2/biases': [4],
    'conv4_3/weights': [1, 1, 32, 10], 'conv4_3/biases': [10],
  },
  RNet: {
    'conv1/weights': [3, 3, 3, 28], 'conv1/biases': [28], 'conv1/alphas': [28],
    'conv2/weights': [3, 3, 28, 48], 'conv2/biases': [48], 'conv2/alphas': [48],
    'conv3/weights': [2, 2, 48, 64], 'conv3/biases': [64], 'conv3/alphas': [64],
    'fc1/weights': [576, 128], 'fc1/biases': [128],
    'cls_fc/weights': [128, 2], 'cls_fc/biases': [2],
    'bbox_fc/weights': [128, 4], 'bbox_fc/biases': [4],
    'landmark_fc/weights': [128, 10], 'landmark_fc/biases': [10],
  },
  ONet: {
    'conv1/weights': [3, 3, 3, 32], 'conv1/biases': [32], 'conv1/alphas': [32],
    'conv2/weights': [3, 3, 32, 64], 'conv2/biases': [64], 'conv2/alphas': [64],
    'conv3/weights': [3, 3, 64, 64], 'conv3/biases': [64], 'conv3/alphas': [64],
    'conv4/weights': [2, 2, 64, 128], 'conv4/biases': [128], 'conv4/alphas': [128],
    'fc1/weights': [1152, 256], 'fc1/biases': [256],
    'cls_fc/weights': [256, 2], 'cls_fc/biases': [2],
    'bbox_fc/weights': [256, 4], 'bbox_fc/biases': [4],
    'landmark_fc/weights': [256, 10], 'landmark_fc/biases': [10],
  },
};

describe('seed MTCNN checkpoints (written by TensorFlow 1.x)', () => {
  it('reads every variable with the expected names, shapes and dtypes (CRCs verified)', async () => {
    for (const { net, step } of SEEDS) {
      const dir = sharedPath('weights', 'mtcnn-seed', net);
      const vars = await readTfCheckpoint(dir);
      const expected = new Map<string, number[]>();
      for (const [suffix, shape] of Object.entries(SEED_VARS[net]!)) {
        expected.set(`${net}/${suffix}`, shape);
        expected.set(`${net}/${suffix}/Momentum`, shape);
      }
      expected.set('Variable', []); // the global step
      expect(new Set(vars.keys())).toEqual(new Set(expected.keys()));
      let elements = 0;
      for (const [name, shape] of expected) {
        const v = vars.get(name)!;
        expect(v.shape, name).toEqual(shape);
        expect(v.dtype).toBe(name === 'Variable' ? 'int32' : 'float32');
        expect(v.data.length).toBe(shape.reduce((a, b) => a * b, 1));
        elements += v.data.length;
      }
      // Every element is 4 bytes and TensorFlow packs tensors end to end: the data file size
      // (from the file system, independent of the index) must equal 4 × all elements.
      const size = (await stat(checkpointShardPath(join(dir, `${net}-${step}`), 0, 1))).size;
      expect(size).toBe(4 * elements);
      // Weights are finite and not all zero.
      const w = vars.get(`${net}/conv1/weights`)!.data as Float32Array;
      expect(w.every(Number.isFinite)).toBe(true);
      expect(w.some((x) => x !== 0)).toBe(true);
    }
  });

  it('accepts a directory, a prefix or the .index path, and filters variables', async () => {
    const dir = sharedPath('weights', 'mtcnn-seed', 'PNet');
    const byDir = await readTfCheckpoint(dir);
    const byPrefix = await readTfCheckpoint(join(dir, 'PNet-30'));
    const byIndex = await readTfCheckpoint(join(dir, 'PNet-30.index'));
    expect([...byPrefix.keys()]).toEqual([...byDir.keys()]);
    expect(byIndex.get('PNet/conv2/weights')).toEqual(byDir.get('PNet/conv2/weights'));
    const noSlots = await readTfCheckpoint(dir, { filter: (n) => !n.endsWith('/Momentum') && n !== 'Variable' });
    expect(noSlots.size).toBe(15);
    await expect(readTfCheckpoint(join(dir, 'PNet-99'))).rejects.toThrow(FileNotFoundError);
  });

  it('re-serializing them reproduces TensorFlow\'s .index and .data files byte for byte', async () => {
    for (const { net, step } of SEEDS) {
      const prefix = join(sharedPath('weights', 'mtcnn-seed', net), `${net}-${step}`);
      const vars = await readTfCheckpoint(prefix);
      const { index, data } = serializeTfCheckpoint(vars);
      expect(Buffer.compare(Buffer.from(index), await readFile(`${prefix}.index`)), `${net} index`).toBe(0);
      expect(Buffer.compare(Buffer.from(data), await readFile(checkpointShardPath(prefix, 0, 1))), `${net} data`).toBe(0);
    }
  });

  it('a flipped byte in the data names the damaged variable; in the index, the damaged block', async () => {
    const src = sharedPath('weights', 'mtcnn-seed', 'PNet');
    const dir = join(tmp, 'corrupt');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    for (const f of await readdir(src)) await copyFile(join(src, f), join(dir, f));
    const prefix = join(dir, 'PNet-30');
    const indexBytes = new Uint8Array(await readFile(`${prefix}.index`));
    const dataPath = checkpointShardPath(prefix, 0, 1);
    const good = new Uint8Array(await readFile(dataPath));
    const entry = parseTfCheckpointIndex(indexBytes).entries.get('PNet/conv2/weights')!;
    expect(entry.size).toBe(3 * 3 * 10 * 16 * 4);

    const bad = good.slice();
    bad[entry.offset + 123]! ^= 0x01;
    await writeFile(dataPath, bad);
    await expect(readTfCheckpoint(dir)).rejects.toThrow(WeightsFormatError);
    await expect(readTfCheckpoint(dir)).rejects.toThrow(/PNet\/conv2\/weights.*checksum/);
    // Skipping verification reads the damaged value without complaint.
    const unchecked = await readTfCheckpoint(dir, { verifyChecksums: false });
    expect(unchecked.get('PNet/conv2/weights')!.data).not.toEqual(
      parseTfCheckpoint(indexBytes, [good]).get('PNet/conv2/weights')!.data,
    );

    // Truncated data: the last variable lies beyond the end of the shard.
    await writeFile(dataPath, good.subarray(0, good.length - 2));
    await expect(readTfCheckpoint(dir)).rejects.toThrow(/beyond the end of shard 0/);
    await writeFile(dataPath, good);
    expect((await readTfCheckpoint(dir)).size).toBe(31);

    // Index: flip a byte inside the data block (a key character).
    const badIndex = indexBytes.slice();
    badIndex[20]! ^= 0x20;
    await writeFile(`${prefix}.index`, badIndex);
    await expect(readTfCheckpoint(dir)).rejects.toThrow(/PNet-30\.index.*checksum mismatch/);
    // Not a table at all.
    expect(() => parseTfCheckpoint(enc.encode('hello'.repeat(20)), [good], 'junk')).toThrow(/junk\.index.*magic/);
  });
});

// ---------------------------------------------------------------------------------------
// Writer → reader

/** Deterministic pseudo-random numbers (LCG) so the round trip covers many distinct values. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Number of data blocks of a table = entries of its index block, read by hand from the footer. */
function countDataBlocks(table: Uint8Array): number {
  const footer = table.subarray(table.length - 48);
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = footer[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
      shift += 7;
    }
  };
  varint(); // metaindex offset
  varint(); // metaindex size
  const indexOffset = varint();
  const indexSize = varint();
  // The index block uses a restart point per entry, so its restart count is its entry count.
  return new DataView(table.buffer, table.byteOffset + indexOffset + indexSize - 4, 4).getUint32(0, true);
}

function manyVars(): NamedArrays {
  const rnd = lcg(7);
  const vars: NamedArrays = new Map();
  // Shared prefixes: prefix compression between neighbours, restarts every 16 keys.
  for (let b = 0; b < 40; b++) {
    for (const layer of ['conv_a', 'conv_b', 'fc']) {
      for (const p of ['weights', 'biases', 'BatchNorm/moving_mean', 'BatchNorm/moving_variance']) {
        const n = 1 + Math.floor(rnd() * 20);
        vars.set(`net/block${b}/${layer}/${p}`, {
          shape: [n],
          dtype: 'float32',
          data: Float32Array.from({ length: n }, () => (rnd() - 0.5) * 1e3),
        });
      }
    }
  }
  vars.set('global_step', { shape: [], dtype: 'int64', data: Float64Array.from([123456789012]) });
  vars.set('i64', { shape: [2, 2], dtype: 'int64', data: Float64Array.from([-1, 0, 2 ** 53 - 1, -(2 ** 40)]) });
  vars.set('i32', { shape: [3], dtype: 'int32', data: Int32Array.from([-2147483648, 0, 2147483647]) });
  vars.set('f64', { shape: [2], dtype: 'float64', data: Float64Array.from([Math.E, -0]) });
  vars.set('u8', { shape: [2], dtype: 'uint8', data: Uint8Array.from([0, 255]) });
  vars.set('flag', { shape: [3], dtype: 'bool', data: Uint8Array.from([1, 0, 1]) });
  vars.set('names', { shape: [3], dtype: 'string', data: ['', 'hello', 'ünïcødé'] });
  vars.set('empty', { shape: [0, 4], dtype: 'float32', data: new Float32Array(0) });
  vars.set('Z/last', { shape: [1, 1, 1], dtype: 'float32', data: Float32Array.from([NaN]) });
  return vars;
}

describe('serializeTfCheckpoint → parseTfCheckpoint', () => {
  it('round-trips many keys and all dtypes exactly, across many blocks', () => {
    const vars = manyVars();
    expect(vars.size).toBe(40 * 3 * 4 + 9);
    for (const blockSize of [262144, 4096, 200]) {
      const { index, data } = serializeTfCheckpoint(vars, { blockSize });
      const blocks = countDataBlocks(index);
      if (blockSize === 262144) expect(blocks).toBe(1);
      else expect(blocks).toBeGreaterThan(blockSize === 200 ? 50 : 3);
      const back = parseTfCheckpoint(index, [data], 'roundtrip');
      expect(new Set(back.keys())).toEqual(new Set(vars.keys()));
      for (const [name, v] of vars) expect(back.get(name), name).toEqual(v);
      // Keys come back in bytewise order.
      const keys = [...back.keys()];
      expect(keys).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    }
  });

  it('writes sorted, prefix-compressed keys that a plain SSTable scan reads back', () => {
    const vars: NamedArrays = new Map();
    for (const name of ['b', 'a/x', 'a', 'a/y/z', 'B']) vars.set(name, { shape: [1], dtype: 'float32', data: Float32Array.from([1]) });
    const { index } = serializeTfCheckpoint(vars);
    const keys = readTable(index).map((e) => new TextDecoder().decode(e.key));
    expect(keys).toEqual(['', 'B', 'a', 'a/x', 'a/y/z', 'b']);
  });

  it('writeTfCheckpoint writes data, index and checkpoint files that readTfCheckpoint finds', async () => {
    const vars = manyVars();
    const prefix = join(tmp, 'written', 'model-7');
    await writeTfCheckpoint(prefix, vars);
    expect(await readFile(join(tmp, 'written', 'checkpoint'), 'utf8')).toBe(
      'model_checkpoint_path: "model-7"\nall_model_checkpoint_paths: "model-7"\n',
    );
    expect((await readdir(join(tmp, 'written'))).sort()).toEqual(['checkpoint', 'model-7.data-00000-of-00001', 'model-7.index']);
    const back = await readTfCheckpoint(join(tmp, 'written'));
    for (const [name, v] of vars) expect(back.get(name), name).toEqual(v);
  });

  it('rejects inconsistent input with typed errors', () => {
    const one = (a: NamedArray): NamedArrays => new Map([['x', a]]);
    expect(() => serializeTfCheckpoint(one({ shape: [3], dtype: 'float32', data: new Float32Array(2) }))).toThrow(ShapeError);
    expect(() => serializeTfCheckpoint(one({ shape: [2], dtype: 'float32', data: new Int32Array(2) }))).toThrow(ShapeError);
    expect(() => serializeTfCheckpoint(one({ shape: [1], dtype: 'int64', data: Float64Array.from([0.5]) }))).toThrow(WeightsFormatError);
    expect(() => serializeTfCheckpoint(new Map([['', { shape: [], dtype: 'float32', data: new Float32Array(1) }]]))).toThrow(
      WeightsFormatError,
    );
    expect(() => buildTable([{ key: enc.encode('b'), value: new Uint8Array(0) }, { key: enc.encode('a'), value: new Uint8Array(0) }])).toThrow(
      /increasing/,
    );
  });
});

describe('sstable details', () => {
  it('computes LevelDB index keys (shortest separator, short successor)', () => {
    const s = (a: string, b: string) => new TextDecoder().decode(shortestSeparator(enc.encode(a), enc.encode(b)));
    expect(s('abcdefg', 'abzzz')).toBe('abd'); // 'c'+1 = 'd' < 'z'
    expect(s('abc', 'abd')).toBe('abc'); // 'c'+1 is not < 'd': unchanged
    expect(s('ab', 'abc')).toBe('ab'); // prefix: unchanged
    expect(new TextDecoder().decode(shortSuccessor(enc.encode('Variable')))).toBe('W');
    expect(shortSuccessor(Uint8Array.from([0xff, 0xff, 0x10, 7]))).toEqual(Uint8Array.from([0xff, 0xff, 0x11]));
  });

  it('decompresses hand-built Snappy data (literal, 1-byte-offset and overlapping 2-byte-offset copies)', () => {
    const fail = (r: string): never => {
      throw new Error(r);
    };
    // "abcd" literal (tag (4-1)<<2), copy len 4 offset 4 (tag ((4-4)<<2)|1, offset byte 4) → "abcdabcd",
    // copy len 6 offset 2, 2-byte offset (tag ((6-1)<<2)|2) → "cdcdcd". Total 14 = varint 0x0e.
    const input = Uint8Array.from([14, (3 << 2) | 0, 97, 98, 99, 100, 1, 4, (5 << 2) | 2, 2, 0]);
    expect(new TextDecoder().decode(snappyDecompress(input, fail))).toBe('abcdabcdcdcdcd');
    expect(() => snappyDecompress(Uint8Array.from([5, 0, 97]), fail)).toThrow(/snappy/);
    expect(() => snappyDecompress(Uint8Array.from([4, 1, 9]), fail)).toThrow(/bad copy/);
  });

  it('reads a table whose data block is Snappy-compressed; rejects unknown compression types', () => {
    // Start from an uncompressed one-block table and rebuild it with the data block compressed.
    const table = buildTable([
      { key: enc.encode('alpha'), value: enc.encode('one') },
      { key: enc.encode('beta'), value: enc.encode('two') },
    ]);
    const footer = table.subarray(table.length - 48);
    // Both handles have single-byte varints here: meta(off, size), index(off, size).
    const [metaOff, metaSize, indexOff, indexSize] = [footer[0]!, footer[1]!, footer[2]!, footer[3]!];
    const dataSize = metaOff - 5; // the data block starts at 0 and its 5-byte trailer precedes the meta block
    const dataBlock = table.subarray(0, dataSize);
    expect(dataBlock.length).toBeLessThan(60); // fits one literal tag
    const compressed = Uint8Array.from([dataBlock.length, (dataBlock.length - 1) << 2, ...dataBlock]);
    const trailer = (contents: Uint8Array, type: number) => {
      const crc = maskCrc32c(crc32cExtend(crc32c(contents), Uint8Array.of(type)));
      return [type, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24];
    };
    const meta = table.subarray(metaOff, metaOff + metaSize);
    // Index block: one entry, key 'c' (successor of 'beta'), handle (0, compressed.length); restart [0], count 1.
    const indexBlock = Uint8Array.from([0, 1, 2, 99, 0, compressed.length, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(Array.from(table.subarray(indexOff, indexOff + indexSize))).toEqual([0, 1, 2, 99, 0, dataSize, 0, 0, 0, 0, 1, 0, 0, 0]);
    const newMetaOff = compressed.length + 5;
    const newIndexOff = newMetaOff + meta.length + 5;
    const newFooter = new Uint8Array(48);
    newFooter.set([newMetaOff, meta.length, newIndexOff, indexBlock.length]);
    newFooter.set(footer.subarray(40), 40);
    const snappyTable = Uint8Array.from([
      ...compressed, ...trailer(compressed, 1),
      ...meta, ...trailer(meta, 0),
      ...indexBlock, ...trailer(indexBlock, 0),
      ...newFooter,
    ]);
    const entries = readTable(snappyTable).map((e) => [new TextDecoder().decode(e.key), new TextDecoder().decode(e.value)]);
    expect(entries).toEqual([['alpha', 'one'], ['beta', 'two']]);

    const zstd = snappyTable.slice();
    zstd.set(trailer(compressed, 2), compressed.length);
    expect(() => readTable(zstd, { source: 'z.index' })).toThrow(/z\.index.*unsupported compression type 2/);
  });
});
