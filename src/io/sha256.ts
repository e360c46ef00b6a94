/**
 * SHA-256 of a byte array: Web Crypto where there is one (browsers, Node ≥ 19), else
 * `node:crypto`.
 */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    const { createHash } = await import('node:crypto');
    return new Uint8Array(createHash('sha256').update(bytes).digest());
  }
  return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
