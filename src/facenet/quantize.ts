/**
 * Smaller model files: the weights of saved `tf.io` model artifacts stored as float16 or
 * 8-bit affine-quantized (`value = q · scale + min`), recorded in the weights manifest's
 * `quantization` field so that `tf.io` dequantizes them when loading. Pure (no I/O).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';

/** How one weight is stored: as float32 (undefined), float16, or 8-bit (range chosen per tensor unless given). */
export type WeightStorage = undefined | 'float16' | 'uint8' | { dtype: 'uint8'; scale: number; min: number };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of a number, rounded to nearest even (overflow → ±∞). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflow to ±0
    mant |= 0x800000; // subnormal: shift in the implicit bit
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/**
 * The artifacts with each float32 weight re-encoded as `storageOf(name)` says. Non-float32
 * weights and weights already quantized are kept as they are.
 * @throws {ConfigError} for an 8-bit range that does not cover a weight's values.
 */
export function quantizeArtifacts(artifacts: tf.io.ModelArtifacts, storageOf: (weightName: string) => WeightStorage): tf.io.ModelArtifacts {
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.concatenateArrayBuffers(artifacts.weightData);
  const parts: Uint8Array[] = [];
  const outSpecs: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = (spec.quantization ? (spec.quantization.dtype === 'uint8' ? 1 : 2) : spec.dtype === 'bool' ? 1 : 4) * n;
    const raw = new Uint8Array(data, offset, bytes);
    offset += bytes;
    const storage = spec.dtype === 'float32' && !spec.quantization ? storageOf(spec.name) : undefined;
    if (storage === undefined) {
      parts.push(raw);
      outSpecs.push(spec);
      continue;
    }
    const values = new Float32Array(raw.slice().buffer);
    if (storage === 'float16') {
      const half = new Uint16Array(n);
      for (let i = 0; i < n; i++) half[i] = float16Bits(values[i]);
      parts.push(new Uint8Array(half.buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
      continue;
    }
    let { min, scale } = typeof storage === 'object' ? storage : { min: NaN, scale: NaN };
    if (storage === 'uint8') {
      let lo = Infinity, hi = -Infinity;
      for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
      min = n ? lo : 0;
      scale = n && hi > lo ? (hi - lo) / 255 : 1;
    }
    const q = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const level = Math.round((values[i] - min) / scale);
      if (level < 0 || level > 255) throw new ConfigError('quantization', `weight ${spec.name}: value ${values[i]} is outside the 8-bit range [${min}, ${min + 255 * scale}]`);
      q[i] = level;
    }
    parts.push(q);
    outSpecs.push({ ...spec, quantization: { dtype: 'uint8', min, scale } });
  }
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.byteLength; }
  return { ...artifacts, weightSpecs: outSpecs, weightData: out.buffer };
}
