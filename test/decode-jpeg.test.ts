/**
 * Small JPEG files decoded in WebAssembly (src/image/decode-jpeg-wasm.ts) must give exactly
 * sharp's pixels, and every file the WebAssembly decoder should not take (rotated, with an ICC
 * profile, truncated, large, gray, corrupt) must still be decoded, or refused, by sharp.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import '../src/node/index.js';
import { decodeImageBytes, decodeWithSharp, MAX_DECODE_PIXELS } from '../src/image/decode-node.js';
import { readJpegHeader } from '../src/image/jpeg-header.js';
import { decodeJpegInWasm, wasmDecodesJpeg, WASM_JPEG_MAX_PIXELS } from '../src/image/decode-jpeg-wasm.js';
import { ImageDecodeError } from '../src/errors.js';
import { sharedPath } from './helpers.js';

/** The first file of every `step`-th folder of a folder-per-person data set. */
function firstFiles(dir: string, step: number): string[] {
  const root = sharedPath(dir);
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .filter((_, i) => i % step === 0)
    .map((d) => join(root, d, readdirSync(join(root, d)).sort()[0]!));
}

const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const sameBytes = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.compare(bytesOf(a), bytesOf(b)) === 0;

/** A JPEG file's bytes with an APP1 EXIF segment (one IFD entry: Orientation) inserted after SOI. */
function withExifOrientation(jpeg: Uint8Array, orientation: number, order: 'II' | 'MM'): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const view = new DataView(tiff.buffer);
  const little = order === 'II';
  tiff.set([order.charCodeAt(0), order.charCodeAt(1)]);
  view.setUint16(2, 42, little);
  view.setUint32(4, 8, little); // IFD0 right after the header
  view.setUint16(8, 1, little); // one entry
  view.setUint16(10, 0x0112, little); // Orientation
  view.setUint16(12, 3, little); // SHORT
  view.setUint32(14, 1, little); // one value
  view.setUint16(18, orientation, little);
  const payload = new Uint8Array([...Buffer.from('Exif\0\0', 'latin1'), ...tiff]);
  const length = payload.length + 2;
  return new Uint8Array([0xff, 0xd8, 0xff, 0xe1, length >> 8, length & 0xff, ...payload, ...jpeg.subarray(2)]);
}

describe('readJpegHeader', () => {
  it('reads what sharp reads from real files: size, progressive or not, an ICC profile', async () => {
    const files = [...readdirSync(sharedPath('data/samples/groups')).map((f) => sharedPath(`data/samples/groups/${f}`)), ...firstFiles('data/lfw', 200)];
    let withProfile = 0;
    for (const file of files) {
      const bytes = readFileSync(file);
      const header = readJpegHeader(bytes)!;
      const meta = await sharp(bytes).metadata();
      expect({ file, width: header.width, height: header.height, progressive: header.frame === 0xc2, icc: header.hasIccProfile, components: header.components })
        .toEqual({ file, width: meta.width, height: meta.height, progressive: meta.isProgressive, icc: meta.hasProfile ?? false, components: meta.channels });
      expect(header.endsWithEoi).toBe(true);
      if (header.hasIccProfile) withProfile++;
    }
    expect(files.length).toBeGreaterThan(20);
    expect(withProfile).toBeGreaterThan(0); // bbt5.jpg carries one
  });

  it('finds the EXIF orientation in either byte order, as sharp does', async () => {
    const plain = await sharp(readFileSync(firstFiles('data/lfw', 500)[0]!)).jpeg().toBuffer();
    for (const order of ['II', 'MM'] as const) {
      for (const orientation of [1, 3, 6, 8]) {
        const bytes = withExifOrientation(plain, orientation, order);
        expect(readJpegHeader(bytes)!.orientation).toBe(orientation);
        expect((await sharp(bytes).metadata()).orientation).toBe(orientation);
      }
    }
  });

  it('is null for what is not a JPEG file or ends before its scan', async () => {
    const jpeg = readFileSync(firstFiles('data/lfw', 500)[0]!);
    const png = await sharp(jpeg).png().toBuffer();
    expect(readJpegHeader(png)).toBeNull();
    expect(readJpegHeader(new Uint8Array([0xff, 0xd8]))).toBeNull();
    expect(readJpegHeader(jpeg.subarray(0, 40))).toBeNull();
    expect(readJpegHeader(jpeg.subarray(0, jpeg.length - 10))!.endsWithEoi).toBe(false);
  });
});

describe('decodeImageBytes on small JPEG files', () => {
  it('gives sharp’s bytes for real faces, and takes the WebAssembly path for nearly all of them', async () => {
    const files = [...firstFiles('data/lfw', 20), ...firstFiles('data/celeba', 10), ...firstFiles('data/celeba-faces', 60)];
    let inWasm = 0;
    for (const file of files) {
      const bytes = readFileSync(file);
      if (wasmDecodesJpeg(readJpegHeader(bytes)!, MAX_DECODE_PIXELS)) inWasm++;
      const ours = await decodeImageBytes(bytes, file);
      const theirs = await decodeWithSharp(bytes, file, MAX_DECODE_PIXELS);
      expect({ file, width: ours.width, height: ours.height, scale: ours.scale }).toEqual({ file, width: theirs.width, height: theirs.height, scale: theirs.scale });
      expect(sameBytes(ours.data, theirs.data), file).toBe(true);
    }
    expect(files.length).toBeGreaterThan(200);
    expect(inWasm / files.length).toBeGreaterThan(0.95);
    // The codec's stand-in for the browser's ImageData is not left on the global object.
    expect((globalThis as { ImageData?: unknown }).ImageData).toBeUndefined();
  });

  it('hands out pixels of its own: a decode leaves the one before untouched', async () => {
    const [a, b] = firstFiles('data/lfw', 500).slice(0, 2).map((f) => readFileSync(f));
    const first = (await decodeJpegInWasm(a!))!;
    const kept = Uint8Array.from(first.data);
    const second = (await decodeJpegInWasm(b!))!;
    expect(second.data.buffer).not.toBe(first.data.buffer);
    expect(sameBytes(first.data, kept)).toBe(true);
    expect(sameBytes(first.data, second.data)).toBe(false);
  });

  it('gives sharp’s bytes for a progressive file, through WebAssembly', async () => {
    const source = readFileSync(firstFiles('data/lfw', 500)[1]!);
    const progressive = await sharp(source).jpeg({ progressive: true, quality: 85 }).toBuffer();
    const header = readJpegHeader(progressive)!;
    expect(header.frame).toBe(0xc2);
    expect(wasmDecodesJpeg(header, MAX_DECODE_PIXELS)).toBe(true);
    expect(sameBytes((await decodeJpegInWasm(progressive))!.data, (await decodeWithSharp(progressive, 'p', MAX_DECODE_PIXELS)).data)).toBe(true);
  });

  it('leaves rotated, profiled, gray, large and truncated files to sharp, with sharp’s result', async () => {
    const source = readFileSync(firstFiles('data/lfw', 500)[2]!);
    const plain = await sharp(source).jpeg().toBuffer();
    // Turned a quarter (EXIF 6) on a photo that is not square, so the turn shows in its size.
    const upright = await sharp(source).resize(200, 250, { fit: 'fill' }).jpeg().toBuffer();
    const rotated = withExifOrientation(upright, 6, 'MM');
    const gray = await sharp(source).toColourspace('b-w').jpeg().toBuffer();
    const large = await sharp(source).resize(600, 600).jpeg().toBuffer();
    const profiled = readFileSync(sharedPath('data/samples/groups/bbt5.jpg'));
    for (const [name, bytes] of Object.entries({ rotated, gray, large, profiled })) {
      expect(wasmDecodesJpeg(readJpegHeader(bytes)!, MAX_DECODE_PIXELS), name).toBe(false);
      const ours = await decodeImageBytes(bytes, name);
      const theirs = await decodeWithSharp(bytes, name, MAX_DECODE_PIXELS);
      expect(sameBytes(ours.data, theirs.data), name).toBe(true);
    }
    expect(600 * 600).toBeGreaterThan(WASM_JPEG_MAX_PIXELS);
    const r = await decodeImageBytes(rotated, 'rotated');
    expect([r.width, r.height, r.sourceWidth, r.sourceHeight]).toEqual([250, 200, 250, 200]);
    expect(sameBytes(r.data, (await decodeImageBytes(upright, 'upright')).data)).toBe(false);

    // A truncated file is refused, as sharp refuses it.
    const truncated = plain.subarray(0, plain.length - 200);
    await expect(decodeImageBytes(truncated, 'cut.jpg')).rejects.toThrow(ImageDecodeError);
    await expect(decodeImageBytes(truncated, 'cut.jpg')).rejects.toThrow(/cut\.jpg/);
  });

  it('survives a file the WebAssembly decoder fails on, and decodes the next one', async () => {
    const source = await sharp(readFileSync(firstFiles('data/lfw', 500)[3]!)).jpeg().toBuffer();
    // Break the Huffman tables (DHT segments) but keep the markers: libjpeg fails on the file.
    const broken = new Uint8Array(source);
    let at = 2;
    while (at < broken.length - 4) {
      const marker = broken[at + 1]!;
      const length = (broken[at + 2]! << 8) | broken[at + 3]!;
      if (marker === 0xc4) broken.fill(0xff, at + 5, at + 2 + length);
      if (marker === 0xda) break;
      at += 2 + length;
    }
    expect(wasmDecodesJpeg(readJpegHeader(broken)!, MAX_DECODE_PIXELS)).toBe(true);
    expect(await decodeJpegInWasm(broken)).toBeNull();
    await expect(decodeImageBytes(broken, 'broken.jpg')).rejects.toThrow(ImageDecodeError);
    const next = await decodeJpegInWasm(source);
    expect(sameBytes(next!.data, (await decodeWithSharp(source, 'next', MAX_DECODE_PIXELS)).data)).toBe(true);
  });
});
