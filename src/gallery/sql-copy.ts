/**
 * Rows of the embeddings table in PostgreSQL's binary `COPY` format, for bulk loads: the
 * database reads each float32 as stored, where the text form (`[0.123…,…]`) would have it
 * parse every number — in PGlite's WebAssembly about ten times the cost of the whole insert.
 *
 * Format (PostgreSQL docs, "COPY … Binary Format"): an 11-byte signature, a 32-bit flags
 * field and a 32-bit header-extension length; then per row a 16-bit field count and, per
 * field, a 32-bit byte length (−1 for NULL) and the value in the type's binary form; then a
 * 16-bit −1. All integers big-endian. pgvector's binary `vector` is a 16-bit dimension, a
 * 16-bit zero and the float32 values.
 */

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]; // "PGCOPY\n\377\r\n\0"

/** One row of `facenet_embedding (identity_id, embedding, source, image_sha256)`. */
export interface EmbeddingRow {
  identityId: bigint | number | string;
  embedding: ArrayLike<number>;
  source: string | null;
  imageSha256: string | null;
}

/** The binary COPY data of `rows` (columns: identity_id, embedding, source, image_sha256). */
export function encodeEmbeddingRows(rows: readonly EmbeddingRow[]): Uint8Array<ArrayBuffer> {
  const enc = new TextEncoder();
  const texts = rows.map((r) => [r.source, r.imageSha256].map((t) => (t === null ? null : enc.encode(t))));
  let size = SIGNATURE.length + 8 + 2;
  rows.forEach((r, i) => {
    size += 2 + (4 + 8) + (4 + 4 + 4 * r.embedding.length);
    for (const t of texts[i]!) size += 4 + (t ? t.length : 0);
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(SIGNATURE, 0);
  let at = SIGNATURE.length + 8; // flags 0, header extension length 0
  rows.forEach((r, i) => {
    const d = r.embedding.length;
    if (d > 16_000) throw new RangeError(`a vector holds at most 16000 values, got ${d}`);
    view.setInt16(at, 4);
    view.setInt32(at + 2, 8);
    view.setBigInt64(at + 6, BigInt(r.identityId));
    view.setInt32(at + 14, 4 + 4 * d);
    view.setInt16(at + 18, d);
    view.setInt16(at + 20, 0);
    at += 22;
    for (let k = 0; k < d; k++, at += 4) view.setFloat32(at, r.embedding[k]!);
    for (const t of texts[i]!) {
      if (t === null) {
        view.setInt32(at, -1);
        at += 4;
      } else {
        view.setInt32(at, t.length);
        out.set(t, at + 4);
        at += 4 + t.length;
      }
    }
  });
  view.setInt16(at, -1);
  return out;
}
