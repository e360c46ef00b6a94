/** SHA-256 of a byte array, with Web Crypto (browsers; Node ≥ 19 has it as `globalThis.crypto`). */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('SHA-256 needs Web Crypto (globalThis.crypto.subtle), which this runtime lacks');
  return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}
