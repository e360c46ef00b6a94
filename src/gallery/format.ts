/**
 * The gallery file format, version 1 — one self-checking binary file:
 *
 * | offset | size | content |
 * |---|---|---|
 * | 0 | 8 | magic `TFFNGLRY` (ASCII) |
 * | 8 | 4 | format version, uint32 little-endian (1) |
 * | 12 | 4 | header length `H` in bytes, uint32 LE |
 * | 16 | H | header: UTF-8 JSON (see {@link GalleryHeader}), padded with spaces to a multiple of 4 bytes |
 * | 16 + H | 4·rows·dimension | embeddings, float32 LE, grouped by identity in header order |
 * | end − 32 | 32 | SHA-256 of every preceding byte |
 *
 * The checksum is verified before anything else is parsed, so a damaged or truncated
 * file is refused as a whole, never half-read. Written atomically by `saveGallery`.
 * Browser and Node (SHA-256 via WebCrypto).
 */
import { IncompatibleFileError } from '../errors.js';
import { preprocessingKey, type Preprocessing } from '../face/embedding.js';
import { Gallery, galleryInfo, type GalleryOptions, type GalleryStoreInfo } from './gallery.js';
import { checkMetric, type GalleryMetric } from './metric.js';
import { sha256 } from '../io/sha256.js';

/** File magic. */
export const GALLERY_MAGIC = 'TFFNGLRY';
/** Format version written by this library (and the newest it reads). */
export const GALLERY_FORMAT_VERSION = 1;

/** The JSON header of a gallery file: the gallery's description, then what the file holds. */
export interface GalleryHeader extends GalleryStoreInfo {
  format: 'tfjs-facenet-gallery';
  /** Total embeddings stored after the header. */
  rows: number;
  /** Identities in file order with the number of embeddings each; `sources` optional per embedding. */
  identities: { name: string; count: number; sources?: (string | null)[] }[];
  /** ISO time the file was written. */
  written: string;
}

/** What a loaded gallery must have been made with; omitted fields are not checked. */
export interface GalleryExpectation {
  fingerprint?: string;
  preprocessing?: Preprocessing;
  dimension?: number;
}

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Serialize a gallery to the bytes of a version-1 gallery file. */
export async function encodeGallery(gallery: Gallery): Promise<Uint8Array> {
  const groups = [...gallery.groups()];
  const rows = groups.reduce((s, g) => s + g.embeddings.length, 0);
  const header: GalleryHeader = {
    format: 'tfjs-facenet-gallery',
    ...galleryInfo(gallery), // the field order of version-1 files: dimension … modelLocation
    rows,
    identities: groups.map((g) => {
      const entry: GalleryHeader['identities'][number] = { name: g.name, count: g.embeddings.length };
      if (g.sources.some((s) => s !== undefined)) entry.sources = g.sources.map((s) => s ?? null);
      return entry;
    }),
    written: new Date().toISOString(),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 4) * 4;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const dataBytes = rows * gallery.dimension * 4;
  const total = 16 + json.length + dataBytes + 32;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = GALLERY_MAGIC.charCodeAt(i);
  view.setUint32(8, GALLERY_FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  let off = 16 + json.length;
  for (const g of groups) {
    for (const e of g.embeddings) {
      if (LE) out.set(new Uint8Array(e.buffer, e.byteOffset, e.byteLength), off);
      else for (let d = 0; d < e.length; d++) view.setFloat32(off + 4 * d, e[d], true);
      off += e.byteLength;
    }
  }
  out.set(await sha256(out.subarray(0, total - 32)), total - 32);
  return out;
}

function refuse(source: string, reason: string): never {
  throw new IncompatibleFileError(source, reason);
}

/**
 * Check that a gallery was made with the expected model and preprocessing.
 * @throws {IncompatibleFileError} naming what differs.
 */
export function checkGalleryCompatible(
  made: { fingerprint: string; preprocessing: Preprocessing | null; dimension: number },
  expect: GalleryExpectation,
  source: string,
): void {
  if (expect.dimension !== undefined && made.dimension !== expect.dimension) {
    refuse(source, `gallery holds ${made.dimension}-d embeddings but the embedder makes ${expect.dimension}-d ones`);
  }
  if (expect.fingerprint !== undefined && made.fingerprint !== expect.fingerprint) {
    refuse(
      source,
      `gallery was enrolled with model ${made.fingerprint || '(unknown)'} but the current model is ${expect.fingerprint}; re-enroll the gallery with this model`,
    );
  }
  if (expect.preprocessing !== undefined) {
    const a = made.preprocessing ? preprocessingKey(made.preprocessing) : 'unknown';
    const b = preprocessingKey(expect.preprocessing);
    if (a !== b) refuse(source, `gallery was enrolled with preprocessing ${a} but the embedder uses ${b}`);
  }
}

/**
 * Parse gallery file bytes. The SHA-256 is checked first; then the header, the sizes and
 * (when given) the expected model.
 * @param source names the file in errors.
 * @throws {IncompatibleFileError} for a file that is not a gallery, is damaged or truncated,
 *   has a newer format version, or was made for another model / preprocessing.
 */
export async function decodeGallery(
  bytes: Uint8Array,
  source = 'gallery',
  opts: { expect?: GalleryExpectation; storage?: GalleryOptions['storage'] } = {},
): Promise<Gallery> {
  if (bytes.length < 16 + 32) refuse(source, `too short to be a gallery file (${bytes.length} bytes)`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== GALLERY_MAGIC) refuse(source, 'not a tfjs-facenet gallery file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version === 0 || version > GALLERY_FORMAT_VERSION) {
    refuse(source, `gallery format version ${version} is not supported (this library reads up to ${GALLERY_FORMAT_VERSION})`);
  }
  const digest = await sha256(bytes.subarray(0, bytes.length - 32));
  const stored = bytes.subarray(bytes.length - 32);
  for (let i = 0; i < 32; i++) {
    if (digest[i] !== stored[i]) refuse(source, 'checksum mismatch: the file is damaged or truncated');
  }
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength + 32 > bytes.length) refuse(source, 'header length exceeds the file size');
  let header: GalleryHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + headerLength)));
  } catch (e) {
    refuse(source, `unreadable header: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || header.format !== 'tfjs-facenet-gallery') {
    refuse(source, 'header does not describe a tfjs-facenet gallery');
  }
  const dim = header.dimension;
  if (!Number.isInteger(dim) || dim < 1) refuse(source, `bad dimension ${dim}`);
  if (!Number.isInteger(header.rows) || header.rows < 0) refuse(source, `bad row count ${header.rows}`);
  if (!Array.isArray(header.identities)) refuse(source, 'header lists no identities');
  for (const ident of header.identities) {
    if (typeof ident?.name !== 'string' || !Number.isInteger(ident.count) || ident.count < 1) {
      refuse(source, `bad identity entry ${JSON.stringify(ident)}`);
    }
    if (ident.sources !== undefined && (!Array.isArray(ident.sources) || ident.sources.length !== ident.count)) {
      refuse(source, `identity "${ident.name}" lists ${ident.sources?.length} sources for ${ident.count} embeddings`);
    }
  }
  if (!(typeof header.threshold === 'number' && header.threshold > 0)) refuse(source, `bad threshold ${header.threshold}`);
  const counted = header.identities.reduce((s, i) => s + i.count, 0);
  if (counted !== header.rows) refuse(source, `identities hold ${counted} embeddings but the header says ${header.rows}`);
  const dataBytes = header.rows * dim * 4;
  if (16 + headerLength + dataBytes + 32 !== bytes.length) {
    refuse(source, `expected ${16 + headerLength + dataBytes + 32} bytes for ${header.rows} × ${dim} embeddings, found ${bytes.length}`);
  }
  let metric: GalleryMetric;
  try {
    metric = checkMetric(header.metric);
  } catch {
    refuse(source, `unknown metric "${header.metric}"`);
  }
  if (opts.expect) checkGalleryCompatible({ ...header, dimension: dim }, opts.expect, source);

  const gallery = Gallery.create({
    dimension: dim,
    metric,
    threshold: header.threshold,
    fingerprint: header.fingerprint,
    preprocessing: header.preprocessing,
    modelLocation: typeof header.modelLocation === 'string' ? header.modelLocation : undefined,
    storage: { initialCapacity: Math.max(1, header.rows), ...opts.storage },
  });
  let off = 16 + headerLength;
  for (const ident of header.identities) {
    const embs: Float32Array[] = [];
    for (let i = 0; i < ident.count; i++) {
      const e = new Float32Array(dim);
      if (LE) new Uint8Array(e.buffer).set(bytes.subarray(off, off + 4 * dim));
      else for (let d = 0; d < dim; d++) e[d] = view.getFloat32(off + 4 * d, true);
      off += 4 * dim;
      embs.push(e);
    }
    if (ident.count > 0) {
      const sources = ident.sources?.map((s) => s ?? undefined);
      gallery.add(ident.name, embs, sources);
    }
  }
  return gallery;
}
