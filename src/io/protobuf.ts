/**
 * Minimal Protocol Buffers wire-format reading and writing: just enough for the few small
 * TensorFlow messages in checkpoint bundles. Schemas live with their users.
 */

/** Wire types. */
export const WIRE = { VARINT: 0, FIXED64: 1, LEN: 2, FIXED32: 5 } as const;

/** One decoded field. `varint` is set for VARINT, `bytes` for LEN, `fixed` for FIXED32/FIXED64. */
export interface ProtoField {
  field: number;
  wire: number;
  varint?: bigint;
  bytes?: Uint8Array;
  fixed?: bigint;
}

/** Read a base-128 varint (up to 64 bits) at `pos`. Returns [value, next position]. */
export function readVarint64(bytes: Uint8Array, pos: number, fail: (reason: string) => never): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) return fail('truncated varint');
    const b = bytes[pos++]!;
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [BigInt.asUintN(64, v), pos];
    shift += 7n;
  }
  return fail('varint longer than 10 bytes');
}

/** Read a varint that must fit in 32 bits (fast path for block entries). Returns [value, next position]. */
export function readVarint32(bytes: Uint8Array, pos: number, fail: (reason: string) => never): [number, number] {
  let v = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (pos >= bytes.length) return fail('truncated varint');
    const b = bytes[pos++]!;
    v += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) {
      if (v > 0xffffffff) return fail('varint32 overflows 32 bits');
      return [v, pos];
    }
  }
  return fail('varint32 longer than 5 bytes');
}

/** Decode all fields of a message, in order. */
export function decodeFields(bytes: Uint8Array, fail: (reason: string) => never): ProtoField[] {
  const out: ProtoField[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos < bytes.length) {
    let tag: bigint;
    [tag, pos] = readVarint64(bytes, pos, fail);
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (field === 0) fail('field number 0');
    switch (wire) {
      case WIRE.VARINT: {
        let v: bigint;
        [v, pos] = readVarint64(bytes, pos, fail);
        out.push({ field, wire, varint: v });
        break;
      }
      case WIRE.FIXED64:
        if (pos + 8 > bytes.length) fail('truncated fixed64');
        out.push({ field, wire, fixed: dv.getBigUint64(pos, true) });
        pos += 8;
        break;
      case WIRE.FIXED32:
        if (pos + 4 > bytes.length) fail('truncated fixed32');
        out.push({ field, wire, fixed: BigInt(dv.getUint32(pos, true)) });
        pos += 4;
        break;
      case WIRE.LEN: {
        let n: bigint;
        [n, pos] = readVarint64(bytes, pos, fail);
        if (BigInt(pos) + n > BigInt(bytes.length)) fail('truncated length-delimited field');
        out.push({ field, wire, bytes: bytes.subarray(pos, pos + Number(n)) });
        pos += Number(n);
        break;
      }
      default:
        fail(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

/** A varint field read as a signed 64-bit integer, converted to number (fails beyond ±2^53). */
export function fieldInt(f: ProtoField, fail: (reason: string) => never): number {
  if (f.varint === undefined) return fail(`field ${f.field} is not a varint`);
  const v = BigInt.asIntN(64, f.varint);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    return fail(`field ${f.field} value ${v} is out of range`);
  }
  return Number(v);
}

/** Append-only protobuf message writer. Scalar fields equal to zero are omitted (proto3 defaults). */
export class ProtoWriter {
  private readonly chunks: number[] = [];

  private rawVarint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.chunks.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.chunks.push(Number(x));
  }
  private tag(field: number, wire: number): void {
    this.rawVarint((BigInt(field) << 3n) | BigInt(wire));
  }
  /** An int32 / int64 / uint / enum / bool field (negative values as 10-byte two's complement). */
  varint(field: number, value: number | bigint | boolean): this {
    const v = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
    if (v === 0n) return this;
    this.tag(field, WIRE.VARINT);
    this.rawVarint(v);
    return this;
  }
  /** A fixed32 field. */
  fixed32(field: number, value: number): this {
    if (value === 0) return this;
    this.tag(field, WIRE.FIXED32);
    const v = value >>> 0;
    this.chunks.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    return this;
  }
  /** A bytes / string / embedded-message field (always written, even when empty). */
  bytes(field: number, value: Uint8Array | string): this {
    const b = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    this.tag(field, WIRE.LEN);
    this.rawVarint(BigInt(b.length));
    for (const x of b) this.chunks.push(x);
    return this;
  }
  /** The encoded message. */
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Encode `v` as an unsigned varint (≤ 2^53) into `out`. */
export function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
