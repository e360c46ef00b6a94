/**
 * CRC-32C (Castagnoli polynomial), the checksum LevelDB tables and TensorFlow checkpoint
 * bundles use, plus LevelDB's "masked" form that is stored on disk.
 */

/** Reflected Castagnoli polynomial. */
const POLY = 0x82f63b78;

/** Slicing-by-4 tables: 4 × 256 entries. */
const TABLES: Uint32Array = (() => {
  const t = new Uint32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let s = 1; s < 4; s++) {
      const prev = t[(s - 1) * 256 + n]!;
      t[s * 256 + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/**
 * Extend a CRC-32C value `crc` (of some earlier bytes) with `bytes`.
 * `crc32cExtend(0, a ++ b) === crc32cExtend(crc32cExtend(0, a), b)`.
 */
export function crc32cExtend(crc: number, bytes: Uint8Array): number {
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  // Four bytes at a time (slicing-by-4), then the tail byte by byte.
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c =
      TABLES[768 + (c & 0xff)]! ^
      TABLES[512 + ((c >>> 8) & 0xff)]! ^
      TABLES[256 + ((c >>> 16) & 0xff)]! ^
      TABLES[c >>> 24]!;
  }
  for (; i < n; i++) c = TABLES[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  return crc32cExtend(0, bytes);
}

/** LevelDB's mask delta: stored CRCs are rotated and offset so a CRC of data holding CRCs stays informative. */
const MASK_DELTA = 0xa282ead8;

/** The masked form of a CRC-32C, as LevelDB and TensorFlow store it. */
export function maskCrc32c(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

/** Inverse of {@link maskCrc32c}. */
export function unmaskCrc32c(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
