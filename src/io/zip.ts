/**
 * A small ZIP archive reader over bytes in memory (Node and browsers): the central
 * directory (with ZIP64 sizes and offsets), stored entries, and deflated entries through an
 * inflater the caller supplies (`node:zlib`'s `inflateRawSync` in Node), so that this
 * module itself imports nothing platform-specific. Enough for PyTorch's `torch.save`
 * archives, which store every record uncompressed.
 *
 * Format: PKWARE APPNOTE.TXT (sections 4.3.7 local header, 4.3.12 central directory
 * header, 4.3.14–4.3.16 ZIP64 and end of central directory records, 4.5.3 ZIP64 extra field).
 */
import { WeightsFormatError } from '../errors.js';

/** One file of an archive, as its central directory describes it. */
export interface ZipEntry {
  /** Path inside the archive (UTF-8), e.g. `archive/data.pkl`. */
  name: string;
  /** 0 stored, 8 deflated; anything else is refused when read. */
  method: number;
  /** CRC-32 of the uncompressed bytes. */
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
  /** General-purpose flags (bit 0: encrypted). */
  flags: number;
}

/** Inflates raw deflate data (no zlib header), e.g. `zlib.inflateRawSync`. */
export type InflateRaw = (data: Uint8Array) => Uint8Array;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_END64_LOCATOR = 0x07064b50;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, the polynomial ZIP and PNG use) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether `bytes` start like a ZIP archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === SIG_LOCAL;
}

/**
 * A ZIP archive in memory. Construct it with the archive's bytes; it reads the central
 * directory at once.
 */
export class ZipArchive {
  /** The archive's entries in central-directory order. */
  readonly entries: ZipEntry[];
  private readonly view: DataView;
  private readonly byName = new Map<string, ZipEntry>();

  /**
   * @param source names the archive in error messages.
   * @throws {@link WeightsFormatError} when there is no (valid) end of central directory or a
   *   central directory header is damaged.
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly source = 'zip archive',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.entries = this.readCentralDirectory();
    for (const e of this.entries) this.byName.set(e.name, e);
  }

  private fail(reason: string): never {
    throw new WeightsFormatError(this.source, `zip: ${reason}`);
  }

  private u16(at: number): number {
    if (at + 2 > this.bytes.length) this.fail(`truncated at byte ${at}`);
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    if (at + 4 > this.bytes.length) this.fail(`truncated at byte ${at}`);
    return this.view.getUint32(at, true);
  }

  private u64(at: number): number {
    if (at + 8 > this.bytes.length) this.fail(`truncated at byte ${at}`);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`a size or offset beyond 2^53 at byte ${at}`);
    return Number(v);
  }

  /** Offset of the end-of-central-directory record: searched backwards over the comment (≤ 64 KiB). */
  private findEnd(): number {
    const last = this.bytes.length - 22;
    const first = Math.max(0, last - U16_MAX);
    for (let at = last; at >= first; at--) {
      if (this.view.getUint32(at, true) === SIG_END && at + 22 + this.view.getUint16(at + 20, true) === this.bytes.length) {
        return at;
      }
    }
    return this.fail('no end of central directory record (not a zip archive, or truncated)');
  }

  private readCentralDirectory(): ZipEntry[] {
    if (this.bytes.length < 22) this.fail(`${this.bytes.length} bytes are too few for a zip archive`);
    const end = this.findEnd();
    let count = this.u16(end + 10);
    let cdSize = this.u32(end + 12);
    let cdOffset = this.u32(end + 16);
    if ((count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) && end >= 20 && this.u32(end - 20) === SIG_END64_LOCATOR) {
      const end64 = this.u64(end - 20 + 8);
      if (this.u32(end64) !== SIG_END64) this.fail('the ZIP64 end of central directory record is missing');
      count = this.u64(end64 + 32);
      cdSize = this.u64(end64 + 40);
      cdOffset = this.u64(end64 + 48);
    }
    if (cdOffset + cdSize > this.bytes.length) this.fail('the central directory lies outside the file (truncated?)');
    const entries: ZipEntry[] = [];
    const utf8 = new TextDecoder('utf-8');
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(at) !== SIG_CENTRAL) this.fail(`central directory header ${i} is damaged (byte ${at})`);
      const flags = this.u16(at + 8);
      const method = this.u16(at + 10);
      const crc = this.u32(at + 16);
      let compressedSize = this.u32(at + 20);
      let size = this.u32(at + 24);
      const nameLength = this.u16(at + 28);
      const extraLength = this.u16(at + 30);
      const commentLength = this.u16(at + 32);
      let localHeaderOffset = this.u32(at + 42);
      const nameStart = at + 46;
      if (nameStart + nameLength + extraLength > this.bytes.length) this.fail(`central directory header ${i} is truncated`);
      const name = utf8.decode(this.bytes.subarray(nameStart, nameStart + nameLength));
      // ZIP64 extra field: the 64-bit values of exactly the fields saturated above, in this order.
      let extra = nameStart + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = this.u16(extra);
        const len = this.u16(extra + 2);
        if (id === 0x0001) {
          let p = extra + 4;
          if (size === U32_MAX) (size = this.u64(p)), (p += 8);
          if (compressedSize === U32_MAX) (compressedSize = this.u64(p)), (p += 8);
          if (localHeaderOffset === U32_MAX) localHeaderOffset = this.u64(p);
        }
        extra += 4 + len;
      }
      entries.push({ name, method, crc32: crc, compressedSize, size, localHeaderOffset, flags });
      at = extraEnd + commentLength;
    }
    return entries;
  }

  /** The entry called `name`, or undefined. */
  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * The uncompressed bytes of an entry. Stored entries are views into the archive's bytes
   * (no copy).
   *
   * @param options.inflateRaw inflater for deflated entries; without it they are refused.
   * @param options.verify check the CRC-32 (default true).
   * @throws {@link WeightsFormatError} naming the entry when it is missing, encrypted,
   *   compressed with another method, truncated or fails its checksum.
   */
  read(entryOrName: ZipEntry | string, options: { inflateRaw?: InflateRaw; verify?: boolean } = {}): Uint8Array {
    const e = typeof entryOrName === 'string' ? this.byName.get(entryOrName) : entryOrName;
    if (!e) return this.fail(`no entry ${String(entryOrName)}`);
    if (e.flags & 1) this.fail(`${e.name} is encrypted`);
    const at = e.localHeaderOffset;
    if (this.u32(at) !== SIG_LOCAL) this.fail(`the local header of ${e.name} is damaged (byte ${at})`);
    const start = at + 30 + this.u16(at + 26) + this.u16(at + 28);
    if (start + e.compressedSize > this.bytes.length) this.fail(`${e.name} is truncated`);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    let data: Uint8Array;
    if (e.method === 0) data = raw;
    else if (e.method === 8) {
      if (!options.inflateRaw) this.fail(`${e.name} is deflated and no inflater was given`);
      data = options.inflateRaw!(raw);
    } else return this.fail(`${e.name} uses compression method ${e.method} (only stored and deflated are supported)`);
    if (data.length !== e.size) this.fail(`${e.name} holds ${data.length} bytes, its header says ${e.size}`);
    if ((options.verify ?? true) && crc32(data) !== e.crc32) this.fail(`${e.name} fails its CRC-32 check (damaged file)`);
    return data;
  }
}
