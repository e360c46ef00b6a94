/**
 * Netpbm images (PGM and PPM, binary `P5`/`P6` and plain `P2`/`P3`): the format of classic
 * face databases (AT&T/ORL, Extended Yale B), which sharp does not read. Pure: bytes in,
 * 8-bit pixels out.
 */
import { ImageDecodeError } from '../errors.js';

/** Pixels of a netpbm image: 1 channel (gray) or 3 (RGB), 8 bits, row-major. */
export interface NetpbmPixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

/** Whether `bytes` start as a PGM or PPM file (`P2`, `P3`, `P5` or `P6`, then white space). */
export function isNetpbm(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x50 && [0x32, 0x33, 0x35, 0x36].includes(bytes[1]!) && isSpace(bytes[2]!);
}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

/**
 * Decode a PGM or PPM file. Samples above 8 bits (maxval up to 65535) are scaled to 0…255
 * with rounding, as are 8-bit files whose maxval is below 255.
 * @param label names the input in errors.
 * @param opts.maxPixels refuse images of more pixels (before reading any sample).
 * @throws {ImageDecodeError} for another format, a bad header, too many pixels or too few samples.
 */
export function decodeNetpbm(bytes: Uint8Array, label: string, opts: { maxPixels?: number } = {}): NetpbmPixels {
  if (!isNetpbm(bytes)) {
    const bitmap = bytes[0] === 0x50 && [0x31, 0x34, 0x37].includes(bytes[1]!);
    throw new ImageDecodeError(label, bitmap ? 'PBM bitmaps and PAM files (P1, P4, P7) are not supported' : 'not a PGM or PPM file (P2, P3, P5 or P6)');
  }
  const kind = bytes[1]! - 0x30;
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  let at = 2;
  /** The next header or plain-format number; `#` starts a comment up to the end of the line. */
  const nextNumber = (what: string): number => {
    for (;;) {
      while (at < bytes.length && isSpace(bytes[at]!)) at++;
      if (bytes[at] !== 0x23) break;
      while (at < bytes.length && bytes[at] !== 0x0a && bytes[at] !== 0x0d) at++;
    }
    const start = at;
    let n = 0;
    while (at < bytes.length && bytes[at]! >= 0x30 && bytes[at]! <= 0x39) n = n * 10 + bytes[at++]! - 0x30;
    if (at === start) throw new ImageDecodeError(label, at >= bytes.length ? `truncated: no ${what}` : `bad ${what}`);
    return n;
  };
  const width = nextNumber('width in the header');
  const height = nextNumber('height in the header');
  const maxval = nextNumber('maximum value in the header');
  if (width < 1 || height < 1) throw new ImageDecodeError(label, `empty image (${width}×${height})`);
  if (maxval < 1 || maxval > 65535) throw new ImageDecodeError(label, `maximum value ${maxval} outside 1…65535`);
  if (opts.maxPixels !== undefined && width * height > opts.maxPixels) {
    throw new ImageDecodeError(label, `${width}×${height} is more than the ${opts.maxPixels} pixels allowed`);
  }
  const count = width * height * channels;
  const wide = maxval > 255;
  if (kind >= 5) {
    // One white-space byte ends the header (a comment may come before it); binary samples follow.
    if (bytes[at] === 0x23) while (at < bytes.length && bytes[at] !== 0x0a && bytes[at] !== 0x0d) at++;
    if (at < bytes.length && !isSpace(bytes[at]!)) throw new ImageDecodeError(label, 'no white space after the maximum value in the header');
    at++;
  }
  // The file must hold the samples it announces (binary: 1 or 2 bytes each; plain: a digit and
  // a separator each), checked before allocating: a header alone cannot ask for more memory.
  const need = kind >= 5 ? count * (wide ? 2 : 1) : 2 * count - 1;
  const left = Math.max(0, bytes.length - at);
  if (left < need) throw new ImageDecodeError(label, `truncated: ${need} bytes of samples expected, ${left} found`);
  const data = new Uint8Array(count);
  const to8 = maxval === 255 ? null : (v: number) => Math.round((Math.min(v, maxval) * 255) / maxval);
  if (kind >= 5) {
    for (let i = 0; i < count; i++) {
      const v = wide ? (bytes[at + 2 * i]! << 8) | bytes[at + 2 * i + 1]! : bytes[at + i]!;
      data[i] = to8 ? to8(v) : v;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const v = nextNumber(`sample ${i}`);
      data[i] = to8 ? to8(v) : Math.min(v, 255);
    }
  }
  return { data, width, height, channels };
}
