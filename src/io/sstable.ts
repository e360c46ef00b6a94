/**
 * LevelDB-format sorted string tables (SSTables), the format of TensorFlow's checkpoint
 * `.index` files: reading every entry in order, and building a table from sorted entries.
 *
 * Layout: data blocks, a meta-index block, an index block, then a 48-byte footer holding
 * the meta-index and index block handles (varint64 offset, size) and the magic number.
 * A block is a run of prefix-compressed entries (shared key length, unshared length,
 * value length as varint32s, then the key suffix and the value), an array of uint32
 * restart offsets where keys are stored whole, and the restart count. Each block is
 * followed by a 1-byte compression type and the masked CRC-32C of block + type.
 * Reference: leveldb doc/table_format.md.
 */
import { WeightsFormatError } from '../errors.js';
import { crc32cExtend, maskCrc32c, unmaskCrc32c } from './crc32c.js';
import { readVarint32, readVarint64, pushVarint } from './protobuf.js';

/** The table magic number 0xdb4775248b80fb57, little-endian. */
const MAGIC = Uint8Array.of(0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb);
const FOOTER_SIZE = 48;
const BLOCK_TRAILER_SIZE = 5;
const NO_COMPRESSION = 0;
const SNAPPY_COMPRESSION = 1;

/** One key/value pair of a table. */
export interface TableEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** Options of {@link readTable}. */
export interface ReadTableOptions {
  /** Names the table in error messages. Default `'sstable'`. */
  source?: string;
  /** Check each block's CRC-32C. Default true. */
  verifyChecksums?: boolean;
}

interface BlockHandle {
  offset: number;
  size: number;
}

/** Bytewise comparison, the order of keys in a table. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function decodeHandle(bytes: Uint8Array, pos: number, fail: (r: string) => never): [BlockHandle, number] {
  let off: bigint;
  let size: bigint;
  [off, pos] = readVarint64(bytes, pos, fail);
  [size, pos] = readVarint64(bytes, pos, fail);
  if (off > BigInt(Number.MAX_SAFE_INTEGER) || size > BigInt(Number.MAX_SAFE_INTEGER)) fail('block handle out of range');
  return [{ offset: Number(off), size: Number(size) }, pos];
}

/**
 * Decompress a Snappy "raw" buffer (the format LevelDB uses for compressed blocks).
 * Reference: google/snappy format_description.txt.
 */
export function snappyDecompress(input: Uint8Array, fail: (reason: string) => never): Uint8Array {
  let [len, ip] = readVarint32(input, 0, fail);
  const out = new Uint8Array(len);
  let op = 0;
  while (ip < input.length) {
    const tag = input[ip++]!;
    const type = tag & 3;
    if (type === 0) {
      // Literal: length-1 in the tag's upper 6 bits, or in the next 1..4 bytes when those say 60..63.
      let n = tag >>> 2;
      if (n >= 60) {
        const extra = n - 59;
        if (ip + extra > input.length) fail('snappy: truncated literal length');
        n = 0;
        for (let k = 0; k < extra; k++) n += input[ip + k]! * 2 ** (8 * k);
        ip += extra;
      }
      n += 1;
      if (ip + n > input.length || op + n > len) fail('snappy: literal overruns');
      out.set(input.subarray(ip, ip + n), op);
      ip += n;
      op += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (type === 1) {
      if (ip + 1 > input.length) fail('snappy: truncated copy');
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[ip++]!;
    } else if (type === 2) {
      if (ip + 2 > input.length) fail('snappy: truncated copy');
      n = (tag >>> 2) + 1;
      offset = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
    } else {
      if (ip + 4 > input.length) fail('snappy: truncated copy');
      n = (tag >>> 2) + 1;
      offset = (input[ip]! | (input[ip + 1]! << 8) | (input[ip + 2]! << 16) | (input[ip + 3]! << 24)) >>> 0;
      ip += 4;
    }
    if (offset === 0 || offset > op || op + n > len) fail('snappy: bad copy');
    // Byte by byte: a copy may overlap its own output (run-length style).
    for (let k = 0; k < n; k++, op++) out[op] = out[op - offset]!;
  }
  if (op !== len) fail(`snappy: produced ${op} bytes, header says ${len}`);
  return out;
}

/** Read the contents of the block at `h`, checking its trailer. */
function readBlock(table: Uint8Array, h: BlockHandle, what: string, verify: boolean, fail: (r: string) => never): Uint8Array {
  const end = h.offset + h.size;
  if (end + BLOCK_TRAILER_SIZE > table.length) fail(`${what} block at byte ${h.offset} (size ${h.size}) runs past the end of the file`);
  const contents = table.subarray(h.offset, end);
  const type = table[end]!;
  if (verify) {
    const stored = new DataView(table.buffer, table.byteOffset + end + 1, 4).getUint32(0, true);
    const actual = crc32cExtend(crc32cExtend(0, contents), table.subarray(end, end + 1));
    if (unmaskCrc32c(stored) !== actual) fail(`${what} block at byte ${h.offset}: checksum mismatch`);
  }
  if (type === NO_COMPRESSION) return contents;
  if (type === SNAPPY_COMPRESSION) {
    return snappyDecompress(contents, (r) => fail(`${what} block at byte ${h.offset}: ${r}`));
  }
  return fail(`${what} block at byte ${h.offset}: unsupported compression type ${type}`);
}

/** Iterate the entries of one block (keys are rebuilt from their shared prefixes). */
function* blockEntries(block: Uint8Array, what: string, fail: (r: string) => never): Generator<TableEntry> {
  if (block.length < 4) fail(`${what} block too short`);
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const numRestarts = dv.getUint32(block.length - 4, true);
  const restartsStart = block.length - 4 - 4 * numRestarts;
  if (numRestarts === 0 && block.length > 4) fail(`${what} block has entries but no restart points`);
  if (restartsStart < 0) fail(`${what} block: restart array larger than the block`);
  const bfail = (r: string): never => fail(`${what} block: ${r}`);
  let pos = 0;
  let prev: Uint8Array = new Uint8Array(0);
  while (pos < restartsStart) {
    let shared: number;
    let unshared: number;
    let valueLen: number;
    [shared, pos] = readVarint32(block, pos, bfail);
    [unshared, pos] = readVarint32(block, pos, bfail);
    [valueLen, pos] = readVarint32(block, pos, bfail);
    if (shared > prev.length) bfail(`entry shares ${shared} key bytes but the previous key has ${prev.length}`);
    if (pos + unshared + valueLen > restartsStart) bfail('entry runs into the restart array');
    const key = new Uint8Array(shared + unshared);
    key.set(prev.subarray(0, shared));
    key.set(block.subarray(pos, pos + unshared), shared);
    pos += unshared;
    const value = block.subarray(pos, pos + valueLen);
    pos += valueLen;
    prev = key;
    yield { key, value };
  }
}

/**
 * Read all entries of an SSTable, in key order.
 * @throws {@link WeightsFormatError} on a bad footer, block checksum, or structure.
 */
export function readTable(table: Uint8Array, options: ReadTableOptions = {}): TableEntry[] {
  const source = options.source ?? 'sstable';
  const verify = options.verifyChecksums ?? true;
  const fail = (r: string): never => {
    throw new WeightsFormatError(source, `sstable: ${r}`);
  };
  if (table.length < FOOTER_SIZE) fail(`file too short (${table.length} bytes) for a table footer`);
  const footer = table.subarray(table.length - FOOTER_SIZE);
  for (let i = 0; i < 8; i++) if (footer[40 + i] !== MAGIC[i]) fail('bad magic number (not a LevelDB/TensorFlow table)');
  let pos = 0;
  let metaindex: BlockHandle;
  let index: BlockHandle;
  [metaindex, pos] = decodeHandle(footer, pos, fail);
  [index] = decodeHandle(footer, pos, fail);
  void metaindex; // no filters or other meta blocks are needed
  const indexBlock = readBlock(table, index, 'index', verify, fail);
  const out: TableEntry[] = [];
  for (const ie of blockEntries(indexBlock, 'index', fail)) {
    const [h] = decodeHandle(ie.value, 0, fail);
    const block = readBlock(table, h, 'data', verify, fail);
    for (const e of blockEntries(block, `data (at byte ${h.offset})`, fail)) {
      if (out.length > 0 && compareBytes(out[out.length - 1]!.key, e.key) >= 0) fail('keys are not in increasing order');
      out.push(e);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Writing

/** Options of {@link buildTable}. */
export interface BuildTableOptions {
  /** Approximate uncompressed size of a data block, in bytes. Default 262144 (TensorFlow's; LevelDB's is 4096). */
  blockSize?: number;
  /** Keys between restart points in data blocks. Default 16. */
  restartInterval?: number;
}

/** A growable byte buffer. */
class ByteSink {
  buf = new Uint8Array(1024);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
  }
  push(bytes: Uint8Array | number[]): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  u32(v: number): void {
    this.push([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Builds one block: prefix-compressed entries, with a restart point every `interval` keys. */
class BlockBuilder {
  private sink = new ByteSink();
  private restarts: number[] = [0];
  private counter = 0;
  private last: Uint8Array = new Uint8Array(0);
  entries = 0;
  constructor(private readonly interval: number) {}

  add(key: Uint8Array, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.interval) {
      const n = Math.min(this.last.length, key.length);
      while (shared < n && this.last[shared] === key[shared]) shared++;
    } else {
      this.restarts.push(this.sink.length);
      this.counter = 0;
    }
    const head: number[] = [];
    pushVarint(head, shared);
    pushVarint(head, key.length - shared);
    pushVarint(head, value.length);
    this.sink.push(head);
    this.sink.push(key.subarray(shared));
    this.sink.push(value);
    this.last = key;
    this.counter++;
    this.entries++;
  }
  /** Size of the finished block so far. */
  estimate(): number {
    return this.sink.length + 4 * this.restarts.length + 4;
  }
  finish(): Uint8Array {
    for (const r of this.restarts) this.sink.u32(r);
    this.sink.u32(this.restarts.length);
    return this.sink.bytes();
  }
}

/**
 * A short key k with `start <= k < limit` (LevelDB's bytewise FindShortestSeparator):
 * index keys only have to separate blocks, so shorter ones keep the index small.
 */
export function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const n = Math.min(start.length, limit.length);
  let diff = 0;
  while (diff < n && start[diff] === limit[diff]) diff++;
  if (diff < n) {
    const b = start[diff]!;
    if (b < 0xff && b + 1 < limit[diff]!) {
      const out = start.slice(0, diff + 1);
      out[diff] = b + 1;
      return out;
    }
  }
  return start;
}

/** A short key k >= `key` (LevelDB's bytewise FindShortSuccessor): first non-0xff byte + 1, rest dropped. */
export function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const out = key.slice(0, i + 1);
      out[i] = key[i]! + 1;
      return out;
    }
  }
  return key;
}

/**
 * Build an SSTable (uncompressed) from entries in strictly increasing bytewise key order,
 * the way LevelDB / TensorFlow's TableBuilder does (same block layout, restart points and
 * index keys), so a table TensorFlow wrote is reproduced byte for byte.
 * @throws {@link WeightsFormatError} when keys are out of order or repeated.
 */
export function buildTable(entries: Iterable<TableEntry>, options: BuildTableOptions = {}): Uint8Array {
  const blockSize = options.blockSize ?? 262144;
  const interval = options.restartInterval ?? 16;
  const out = new ByteSink();
  const index = new BlockBuilder(1); // index keys are stored whole, as LevelDB does
  const writeBlock = (contents: Uint8Array): Uint8Array => {
    const handle: number[] = [];
    pushVarint(handle, out.length);
    pushVarint(handle, contents.length);
    out.push(contents);
    const type = Uint8Array.of(NO_COMPRESSION);
    out.push(type);
    out.u32(maskCrc32c(crc32cExtend(crc32cExtend(0, contents), type)));
    return Uint8Array.from(handle);
  };
  let block = new BlockBuilder(interval);
  let lastKey: Uint8Array | null = null;
  /** Handle of the last flushed block, indexed once the next key (or the end) is known. */
  let pending: Uint8Array | null = null;
  for (const { key, value } of entries) {
    if (lastKey !== null && compareBytes(lastKey, key) >= 0) {
      throw new WeightsFormatError('sstable', 'keys must be added in strictly increasing bytewise order');
    }
    if (pending && lastKey) {
      index.add(shortestSeparator(lastKey, key), pending);
      pending = null;
    }
    block.add(key, value);
    lastKey = key;
    if (block.estimate() >= blockSize) {
      pending = writeBlock(block.finish());
      block = new BlockBuilder(interval);
    }
  }
  if (block.entries > 0) pending = writeBlock(block.finish());
  if (pending && lastKey) index.add(shortSuccessor(lastKey), pending);
  const metaHandle = writeBlock(new BlockBuilder(interval).finish());
  const indexHandle = writeBlock(index.finish());
  const footer = new Uint8Array(FOOTER_SIZE);
  footer.set(metaHandle, 0);
  footer.set(indexHandle, metaHandle.length);
  footer.set(MAGIC, 40);
  out.push(footer);
  return out.bytes();
}
