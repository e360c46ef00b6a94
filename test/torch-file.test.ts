/**
 * The torch.save reader (src/io/torch-file.ts, src/io/zip.ts) on files PyTorch 1.13 wrote
 * (test/fixtures/torch, made by scripts/torch-parity.py): every storage type, strided views
 * sharing a storage, both file formats, and damaged or unsupported files. The expected
 * values are those the generator put in, worked out here independently.
 */
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { parseTorchFile, readTorchFile, torchStateDict, torchTensorToArray, type TorchTensor } from '../src/io/torch-file.js';
import { ZipArchive, crc32 } from '../src/io/zip.js';
import { unpickle, unpickleAt } from '../src/io/pickle.js';
import { FileNotFoundError, WeightsFormatError } from '../src/errors.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'torch');

const values = (t: TorchTensor) => Array.from(torchTensorToArray(t).data as ArrayLike<number>);

describe.each(['dtypes.pt', 'dtypes-legacy.pt'])('%s', (file) => {
  it('reads every storage type with its shape and values', async () => {
    const torchFile = await readTorchFile(join(FIXTURES, file));
    expect(torchFile.format).toBe(file.includes('legacy') ? 'legacy' : 'zip');
    const sd = torchStateDict(torchFile);
    expect([...sd.keys()]).toEqual(['permuted', 'row', 'half', 'bfloat16', 'double', 'long', 'int', 'short', 'char', 'byte', 'bool', 'param']);
    const get = (k: string) => sd.get(k)!;
    expect(torchTensorToArray(get('half'))).toMatchObject({ dtype: 'float32', shape: [4] });
    expect(values(get('half'))).toEqual([1.5, -2.25, 65504, 2 ** -24]);
    // bfloat16 keeps 8 bits of mantissa: 1/3 = 0x3EAAAAAB rounds to 0x3EAB0000.
    expect(values(get('bfloat16'))).toEqual([1.5, -2.25, 0.333984375]);
    expect(torchTensorToArray(get('double'))).toMatchObject({ dtype: 'float64', data: new Float64Array([0.1]) });
    expect(torchTensorToArray(get('long'))).toMatchObject({ dtype: 'int64', data: new Float64Array([-3, 2 ** 40]) });
    expect(torchTensorToArray(get('int'))).toMatchObject({ dtype: 'int32', data: new Int32Array([-7, 7]) });
    expect(torchTensorToArray(get('short'))).toMatchObject({ dtype: 'int32', data: new Int32Array([-300, 300]) });
    expect(torchTensorToArray(get('char'))).toMatchObject({ dtype: 'int32', data: new Int32Array([-128, 127]) });
    expect(torchTensorToArray(get('byte'))).toMatchObject({ dtype: 'uint8', data: new Uint8Array([0, 255]) });
    expect(torchTensorToArray(get('bool'))).toMatchObject({ dtype: 'bool', data: new Uint8Array([1, 0]) });
    expect(get('param')).toMatchObject({ dtype: 'float32', shape: [2], requiresGrad: true });
    expect(values(get('param'))).toEqual([0.5, 0.5]);
  });

  it('gathers strided views of one shared storage', async () => {
    const sd = torchStateDict(await readTorchFile(join(FIXTURES, file)));
    // base = arange(24).reshape(2, 3, 4); permuted = base.permute(2, 0, 1)[1:]; row = base[1, 2].
    const permuted = sd.get('permuted')!;
    expect(permuted).toMatchObject({ shape: [3, 2, 3], strides: [1, 12, 4], storageOffset: 1 });
    const expected: number[] = [];
    for (let k = 1; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(i * 12 + j * 4 + k);
    expect(values(permuted)).toEqual(expected);
    const row = sd.get('row')!;
    expect(row).toMatchObject({ shape: [4], strides: [1], storageOffset: 20 });
    expect(row.storage).toBe(permuted.storage);
    expect(values(row)).toEqual([20, 21, 22, 23]);
  });
});

describe('a facenet-pytorch state dict', () => {
  it('reads the same 716 tensors from the zip and the legacy format', async () => {
    const zip = torchStateDict(await readTorchFile(join(FIXTURES, 'facenet-w16.pt')));
    const legacy = torchStateDict(await readTorchFile(join(FIXTURES, 'facenet-w16-legacy.pt')));
    expect(zip.size).toBe(716);
    expect([...legacy.keys()]).toEqual([...zip.keys()]);
    for (const [name, t] of zip) {
      const a = torchTensorToArray(t, name);
      const b = torchTensorToArray(legacy.get(name)!, name);
      expect(b, name).toEqual(a);
    }
    // One calibration pass in training mode counted one batch in every batch norm: stem 6,
    // block35 5 × 6, Mixed_6a 4, block17 10 × 4, Mixed_7a 7, block8 6 × 4, last_bn 1.
    const counters = [...zip].filter(([k]) => k.endsWith('num_batches_tracked'));
    expect(counters).toHaveLength(6 + 30 + 4 + 40 + 7 + 24 + 1);
    for (const [, t] of counters) expect(torchTensorToArray(t)).toMatchObject({ dtype: 'int64', shape: [], data: new Float64Array([1]) });
    expect(zip.get('conv2d_1a.conv.weight')).toMatchObject({ dtype: 'float32', shape: [2, 3, 3, 3], strides: [27, 9, 3, 1] });
  });
});

describe('pickle reader additions', () => {
  // Protocol 2: PROTO 2, SHORT_BINUNICODE 'k', BINPERSID, STOP — then a second pickle: BININT1 7, STOP.
  const bytes = new Uint8Array([0x80, 0x02, 0x8c, 1, 0x6b, 0x51, 0x2e, 0x80, 0x02, 0x4b, 7, 0x2e]);

  it('persistent ids go to persistentLoad; without one they are an error naming the offset', () => {
    expect(unpickleAt(bytes, 0, { persistentLoad: (pid) => `loaded ${String(pid)}` })).toEqual({ value: 'loaded k', end: 7 });
    expect(() => unpickle(bytes, { source: 'p.pkl' })).toThrow(/p\.pkl: pickle: a persistent id .* \(at byte 5\)/);
  });

  it('unpickleAt reads pickles in a row', () => {
    expect(unpickleAt(bytes, 7)).toEqual({ value: 7, end: 12 });
  });
});

describe('zip archives', () => {
  it('CRC-32 of a known string', () => {
    // The standard check value of CRC-32/ISO-HDLC.
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('reads a deflated entry through the given inflater and refuses it without one', async () => {
    const bytes = new Uint8Array(await readFile(join(FIXTURES, 'dtypes.pt')));
    const zip = new ZipArchive(bytes, 'dtypes.pt');
    const pkl = zip.entries.find((e) => e.name.endsWith('data.pkl'))!;
    const stored = zip.read(pkl);
    // Re-pack that one record deflated: local header, data, central header, end record.
    const name = new TextEncoder().encode('x/data.pkl');
    const packed = deflateRawSync(stored);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(8, 8, true);
    local.setUint32(14, crc32(stored), true);
    local.setUint32(18, packed.length, true);
    local.setUint32(22, stored.length, true);
    local.setUint16(26, name.length, true);
    const central = new DataView(new ArrayBuffer(46));
    central.setUint32(0, 0x02014b50, true);
    central.setUint16(10, 8, true);
    central.setUint32(16, crc32(stored), true);
    central.setUint32(20, packed.length, true);
    central.setUint32(24, stored.length, true);
    central.setUint16(28, name.length, true);
    const cdOffset = 30 + name.length + packed.length;
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, 1, true);
    end.setUint16(10, 1, true);
    end.setUint32(12, 46 + name.length, true);
    end.setUint32(16, cdOffset, true);
    const parts = [new Uint8Array(local.buffer), name, packed, new Uint8Array(central.buffer), name, new Uint8Array(end.buffer)];
    const archive = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (archive.set(p, at), (at += p.length));
    const z = new ZipArchive(archive, 'deflated.zip');
    expect(z.entries.map((e) => [e.name, e.method])).toEqual([['x/data.pkl', 8]]);
    expect(() => z.read('x/data.pkl')).toThrow(/deflated and no inflater/);
    const { inflateRawSync } = await import('node:zlib');
    expect(z.read('x/data.pkl', { inflateRaw: (d) => new Uint8Array(inflateRawSync(d)) })).toEqual(stored);
  });
});

describe('damaged and unsupported files', () => {
  const load = async (f: string) => new Uint8Array(await readFile(join(FIXTURES, f)));

  it('a missing file is a FileNotFoundError', async () => {
    await expect(readTorchFile(join(FIXTURES, 'nope.pt'))).rejects.toThrow(FileNotFoundError);
  });

  it('a flipped byte in a tensor record fails its CRC, naming the record', async () => {
    const bytes = await load('facenet-w16.pt');
    const zip = new ZipArchive(bytes, 'w16');
    const record = zip.entries.find((e) => e.name.endsWith('/data/0'))!;
    const data = zip.read(record);
    const at = data.byteOffset - bytes.byteOffset + 5;
    const damaged = bytes.slice();
    damaged[at] ^= 0xff;
    expect(() => parseTorchFile(damaged, { source: 'damaged.pt' })).toThrow(WeightsFormatError);
    expect(() => parseTorchFile(damaged, { source: 'damaged.pt' })).toThrow(/damaged\.pt.*data\/0 fails its CRC-32/);
  });

  it('truncated files are refused, both formats', async () => {
    for (const f of ['facenet-w16.pt', 'facenet-w16-legacy.pt']) {
      const bytes = await load(f);
      expect(() => parseTorchFile(bytes.subarray(0, bytes.length - 100), { source: f }), f).toThrow(WeightsFormatError);
    }
  });

  it('bytes that are not a torch file are refused', () => {
    expect(() => parseTorchFile(new TextEncoder().encode('hello, world'), { source: 'hello.txt' })).toThrow(/hello\.txt: not a torch\.save file/);
  });

  it('a pickled module (torch.save(model)) is refused with the fix in the message', () => {
    // Legacy format by hand: magic number, protocol 1001, sys_info {}, then the object — a
    // NEWOBJ of the module's class — and an empty storage key list.
    const pickle = (body: number[]) => [0x80, 0x02, ...body, 0x2e];
    const magic = [0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]; // LONG1 0x1950a86a20f9469cfc6c
    const global = [...new TextEncoder().encode('cmodels.inception_resnet_v1\nInceptionResnetV1\n')];
    const bytes = new Uint8Array([
      ...pickle(magic),
      ...pickle([0x4d, 0xe9, 0x03]), // BININT2 1001
      ...pickle([0x7d]), // {}
      ...pickle([...global, 0x29, 0x81]), // cls, (), NEWOBJ
      ...pickle([0x5d]), // []
    ]);
    const file = parseTorchFile(bytes, { source: 'model.pt' });
    expect(file.format).toBe('legacy');
    expect(() => torchStateDict(file, 'model.pt')).toThrow(
      /model\.pt: holds a models\.inception_resnet_v1\.InceptionResnetV1 object, not a state dict; save the weights with torch\.save\(model\.state_dict\(\), path\)/,
    );
  });
});
