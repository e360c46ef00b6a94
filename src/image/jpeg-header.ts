/**
 * What a JPEG file says about itself before its compressed data: frame size and kind, and the
 * markers that change how its pixels are to be read (EXIF orientation, an ICC profile,
 * Adobe's colour transform). Pure: bytes in, a description out; nothing is decoded.
 */

/** The header of a JPEG file, as far as a decoder's choice depends on it. */
export interface JpegHeader {
  width: number;
  height: number;
  /** Bits per sample (8 for nearly every file; 12 and 16 exist). */
  precision: number;
  /** Colour components: 1 (gray), 3 (YCbCr or RGB), 4 (CMYK or YCCK). */
  components: number;
  /** The start-of-frame marker's code (0xc0 baseline, 0xc1 extended, 0xc2 progressive, …). */
  frame: number;
  /** EXIF orientation (1–8), when the file has one. */
  orientation?: number;
  /** Whether an ICC colour profile is embedded (APP2 `ICC_PROFILE`). */
  hasIccProfile: boolean;
  /** Adobe APP14 colour transform (0 none, 1 YCbCr, 2 YCCK), when the marker is present. */
  adobeTransform?: number;
  /** Whether the file's last two bytes are the end-of-image marker (a truncated file's are not). */
  endsWithEoi: boolean;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);
const SOS = 0xda;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;

/**
 * The header of the JPEG file in `bytes`, or null when they are not a JPEG file or its
 * markers end before a frame header and the start of its scan.
 */
export function readJpegHeader(bytes: Uint8Array): JpegHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  const n = bytes.length;
  let frame: Pick<JpegHeader, 'width' | 'height' | 'precision' | 'components' | 'frame'> | undefined;
  let orientation: number | undefined;
  let hasIccProfile = false;
  let adobeTransform: number | undefined;
  let at = 2;
  while (at + 4 <= n) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte before a marker
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      at += 2; // markers without a length
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const start = at + 4;
    const end = at + 2 + length;
    if (length < 2 || end > n) return null;
    if (marker === SOS) {
      if (!frame) return null;
      const endsWithEoi = bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
      return { ...frame, orientation, hasIccProfile, adobeTransform, endsWithEoi };
    }
    if (SOF_MARKERS.has(marker) && end - start >= 6) {
      frame = {
        frame: marker,
        precision: bytes[start]!,
        height: (bytes[start + 1]! << 8) | bytes[start + 2]!,
        width: (bytes[start + 3]! << 8) | bytes[start + 4]!,
        components: bytes[start + 5]!,
      };
    } else if (marker === APP1 && startsWith(bytes, start, end, 'Exif\0\0')) {
      orientation = exifOrientation(bytes, start + 6, end) ?? orientation;
    } else if (marker === APP2 && startsWith(bytes, start, end, 'ICC_PROFILE\0')) {
      hasIccProfile = true;
    } else if (marker === APP14 && startsWith(bytes, start, end, 'Adobe') && end - start >= 12) {
      adobeTransform = bytes[start + 11]!;
    }
    at = end;
  }
  return null;
}

function startsWith(bytes: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start < text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The Orientation tag (0x0112) of the first IFD of the TIFF structure in `bytes[tiff…end)`. */
function exifOrientation(bytes: Uint8Array, tiff: number, end: number): number | undefined {
  if (end - tiff < 8) return undefined;
  const little = bytes[tiff] === 0x49 && bytes[tiff + 1] === 0x49; // "II"; "MM" is big-endian
  if (!little && !(bytes[tiff] === 0x4d && bytes[tiff + 1] === 0x4d)) return undefined;
  const u16 = (at: number) => (little ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!);
  const u32 = (at: number) => (little ? u16(at) + u16(at + 2) * 65536 : u16(at) * 65536 + u16(at + 2));
  if (u16(tiff + 2) !== 42) return undefined;
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > end) return undefined;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > end) return undefined;
    if (u16(entry) === 0x0112) return u16(entry + 8);
  }
  return undefined;
}
