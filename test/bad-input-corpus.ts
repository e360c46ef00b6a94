/**
 * The bad-input corpus of issue 11, generated (nothing of it is committed): good face
 * images in every awkward form a user may have (CMYK, 16-bit, alpha, animated, a PNG named
 * .jpg, odd names, a link) mixed with files that cannot be images (truncated, empty, text,
 * headers declaring huge sizes, a dangling link, a link loop) and files without a face.
 *
 *   npx tsx test/bad-input-corpus.ts OUT_DIR      # writes OUT_DIR/mixed/… and prints the manifest
 *
 * test/bad-input-corpus.test.ts runs the CLI over it.
 */
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import '../src/runtime/install-node.js'; // sharedPath needs Node's file system when run as a script
import { sharedPath } from '../src/util/shared-data.js';

/**
 * What a file of the corpus is:
 * - `face`: a decodable image with one face — every command must process it;
 * - `noFace`: a decodable image without a face (detect / identify: 0 faces; align: "no face";
 *   enroll: a NoFaceError);
 * - `bad`: not a readable image — every command reports it with `error` and goes on.
 */
export type CorpusKind = 'face' | 'noFace' | 'bad';

export interface CorpusEntry {
  /** File name inside the corpus folder. */
  name: string;
  kind: CorpusKind;
  /**
   * For `bad` files: the code of the typed error (`ImageDecodeError`: IMAGE_DECODE,
   * `FileNotFoundError`: FILE_NOT_FOUND) and what its reason says.
   */
  error?: { code: 'IMAGE_DECODE' | 'FILE_NOT_FOUND'; reason?: RegExp };
  /** Whether folder listings take it as an image (its extension is an image extension). */
  listed: boolean;
  /** What it tests. */
  why: string;
}

/** The folder of the corpus (inside OUT_DIR): also the one identity folder `align` sees. */
export const CORPUS_FOLDER = 'mixed';

const sample = (...p: string[]) => sharedPath('data', 'samples', ...p);

/** CRC-32 (ISO-HDLC, as PNG chunks use): computed here so that any Node 20 can run it. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG declaring `width × height` 8-bit RGB whose pixel data stops after `rows` rows of
 * zeros (no IEND): a decoder that trusted the header would allocate the whole image.
 */
function pngHeaderOnly(width: number, height: number, rows: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter, no interlace
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr)];
  if (rows > 0) parts.push(pngChunk('IDAT', deflateSync(Buffer.alloc(rows * (1 + 3 * width)))));
  return Buffer.concat(parts);
}

/**
 * A real JPEG whose frame header (SOF0) is rewritten to declare `width × height`: the
 * entropy-coded data is far too short for that size.
 */
function jpegDeclaring(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) throw new Error('not a JPEG marker');
    const marker = out[i + 1];
    const length = out.readUInt16BE(i + 2);
    if (marker === 0xc0 || marker === 0xc2) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker');
}

/**
 * Write the corpus into `outDir/mixed/` and return its manifest. A few small face images
 * from the shared samples (150–250 px) keep the commands quick.
 */
export async function makeBadInputCorpus(outDir: string): Promise<CorpusEntry[]> {
  const dir = join(outDir, CORPUS_FOLDER);
  await mkdir(dir, { recursive: true });
  const entries: CorpusEntry[] = [];
  const add = (e: Omit<CorpusEntry, 'listed'>, listed = true) => entries.push({ ...e, listed });
  const at = (name: string) => join(dir, name);
  const hopkins = sample('Anthony_Hopkins_0001.jpg');
  const amy = sample('people', 'amy', 'amy1.png');
  const howard = sample('people', 'howard', 'howard1.png');
  const penny = sample('people', 'penny', 'penny1.png');

  // Good images, plainly named and oddly named.
  await copyFile(amy, at('amy.png'));
  add({ name: 'amy.png', kind: 'face', why: 'a plain PNG' });
  await copyFile(hopkins, at('Anthony Hopkins.jpg'));
  add({ name: 'Anthony Hopkins.jpg', kind: 'face', why: 'spaces in the name' });
  await copyFile(sample('Anthony_Hopkins_0002.jpg'), at('Ünïcødé 名前.jpg'));
  add({ name: 'Ünïcødé 名前.jpg', kind: 'face', why: 'a Unicode name' });
  await copyFile(howard, at('new\nline.png'));
  add({ name: 'new\nline.png', kind: 'face', why: 'a line feed in the name' });
  await symlink(at('amy.png'), at('link to amy.png'));
  add({ name: 'link to amy.png', kind: 'face', why: 'a symbolic link to a good image' });

  // Good images in awkward encodings.
  await sharp(hopkins).toColourspace('cmyk').jpeg({ quality: 90 }).toFile(at('cmyk.jpg'));
  add({ name: 'cmyk.jpg', kind: 'face', why: 'a CMYK JPEG' });
  await sharp(penny).toColourspace('rgb16').png().toFile(at('sixteen-bit.png'));
  add({ name: 'sixteen-bit.png', kind: 'face', why: 'a 16-bit PNG' });
  await sharp(amy).ensureAlpha(0.5).png().toFile(at('alpha.png'));
  add({ name: 'alpha.png', kind: 'face', why: 'a PNG with a half-transparent alpha channel' });
  // Two frames: the face first, then a grey frame (the decoder reads the first).
  const frames = async (format: 'gif' | 'webp', name: string) => {
    const face = await sharp(penny).resize(150, 150).removeAlpha().raw().toBuffer();
    const grey = Buffer.alloc(face.length, 128);
    const strip = sharp(Buffer.concat([face, grey]), { raw: { width: 150, height: 300, channels: 3, pageHeight: 150 } });
    await (format === 'gif' ? strip.gif({ loop: 0, delay: [100, 100] }) : strip.webp({ loop: 0, delay: [100, 100] })).toFile(at(name));
  };
  await frames('gif', 'animated.gif');
  add({ name: 'animated.gif', kind: 'face', why: 'an animated GIF (first frame)' });
  await frames('webp', 'animated.webp');
  add({ name: 'animated.webp', kind: 'face', why: 'an animated WebP (first frame)' });
  await sharp(howard).png().toFile(at('png named.jpg'));
  add({ name: 'png named.jpg', kind: 'face', why: 'a PNG with a .jpg extension (decoded by content)' });

  // Decodable, but no face.
  await sharp({ create: { width: 4, height: 4, channels: 3, background: { r: 200, g: 150, b: 120 } } }).png().toFile(at('tiny 4x4.png'));
  add({ name: 'tiny 4x4.png', kind: 'noFace', why: 'a 4 × 4 image' });

  // Not images.
  await writeFile(at('empty.png'), new Uint8Array(0));
  add({ name: 'empty.png', kind: 'bad', error: { code: 'IMAGE_DECODE', reason: /the file is empty/ }, why: 'zero bytes' });
  await writeFile(at('truncated.jpg'), (await readFile(hopkins)).subarray(0, 3000));
  add({ name: 'truncated.jpg', kind: 'bad', error: { code: 'IMAGE_DECODE', reason: /premature end/ }, why: 'a truncated JPEG' });
  await writeFile(at('notes.jpg'), 'these are notes, not a picture\n');
  add({ name: 'notes.jpg', kind: 'bad', error: { code: 'IMAGE_DECODE' }, why: 'text with an image extension' });
  await writeFile(at('huge header.png'), pngHeaderOnly(100_000, 100_000, 0));
  add({ name: 'huge header.png', kind: 'bad', error: { code: 'IMAGE_DECODE' }, why: 'a PNG header declaring 100000 × 100000' });
  await writeFile(at('huge truncated.png'), pngHeaderOnly(16_000, 16_000, 64));
  add({ name: 'huge truncated.png', kind: 'bad', error: { code: 'IMAGE_DECODE' }, why: 'a PNG declaring 16000 × 16000 (under sharp\'s limit) with 64 rows of data' });
  await writeFile(at('huge header.jpg'), jpegDeclaring(await readFile(hopkins), 65_000, 65_000));
  add({ name: 'huge header.jpg', kind: 'bad', error: { code: 'IMAGE_DECODE', reason: /pixel limit/ }, why: 'a JPEG header declaring 65000 × 65000' });
  await writeFile(at('huge truncated.jpg'), jpegDeclaring(await readFile(hopkins), 16_000, 16_000).subarray(0, 3000));
  add({ name: 'huge truncated.jpg', kind: 'bad', error: { code: 'IMAGE_DECODE', reason: /premature end/ }, why: 'a JPEG declaring 16000 × 16000, cut after 3000 bytes' });
  // libjpeg fills what the data does not cover with grey (a warning, not an error): this one
  // is decoded — downscaled to the decoder's cap — and searched like any large photo.
  await writeFile(at('huge short scan.jpg'), jpegDeclaring(await readFile(hopkins), 16_000, 16_000));
  add({ name: 'huge short scan.jpg', kind: 'noFace', why: 'a JPEG declaring 16000 × 16000 whose data covers 250 × 250 pixels' });
  await writeFile(
    at('huge.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="100000" height="100000" fill="#808080"/></svg>',
  );
  add({ name: 'huge.svg', kind: 'bad', error: { code: 'IMAGE_DECODE', reason: /pixel limit/ }, why: 'an SVG declaring 100000 × 100000' }, false);
  await symlink(at('gone.png'), at('dangling.png'));
  add({ name: 'dangling.png', kind: 'bad', error: { code: 'FILE_NOT_FOUND' }, why: 'a link to a missing file' });
  await symlink(at('loop.jpg'), at('loop.jpg'));
  add({ name: 'loop.jpg', kind: 'bad', error: { code: 'IMAGE_DECODE', reason: /symbolic link loop/ }, why: 'a link to itself' });
  return entries;
}

// Run as a script: write the corpus into the folder given and print its manifest.
if (process.argv[1] && /bad-input-corpus\.ts$/.test(process.argv[1])) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: npx tsx test/bad-input-corpus.ts OUT_DIR\n');
    process.exit(2);
  }
  const entries = await makeBadInputCorpus(out);
  for (const e of entries) process.stdout.write(`${e.kind.padEnd(6)} ${JSON.stringify(e.name)}  ${e.why}\n`);
}
