/**
 * The approximate (HNSW) index against exact search on clustered synthetic embeddings.
 * hnswlib-node is an optional native dependency: when it is not installed, building an
 * index must fail with a clear ConfigError instead.
 */
import { describe, it, expect } from 'vitest';
import { Gallery } from '../src/gallery/gallery.js';
import { HnswGalleryIndex, loadHnswlib } from '../src/gallery/hnsw.js';
import { embeddingDistance } from '../src/gallery/metric.js';
import { ConfigError } from '../src/errors.js';
import { XorShift32 } from './eval-synthetic.js';

function unit(r: XorShift32, dim: number, base?: Float32Array, noise = 0): Float32Array {
  const v = r.vec(dim);
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const out = Float32Array.from(v, (x, d) => (base ? base[d] + (noise * x) / n : x / n));
  const m = Math.sqrt(out.reduce((s, x) => s + x * x, 0));
  return out.map((x) => x / m);
}

describe('HnswGalleryIndex', () => {
  it('matches exact search (recall@1 ≥ 95 %) or, without hnswlib-node, refuses clearly', async () => {
    const dim = 48;
    const r = new XorShift32(1234);
    const g = Gallery.create({ dimension: dim });
    const centres = Array.from({ length: 400 }, () => unit(r, dim));
    centres.forEach((c, i) => g.add(`p${i}`, [unit(r, dim, c, 0.5), unit(r, dim, c, 0.5), unit(r, dim, c, 0.5)]));
    const lib = await loadHnswlib();
    if (!lib) {
      await expect(HnswGalleryIndex.build(g)).rejects.toThrow(ConfigError);
      return;
    }
    const index = await HnswGalleryIndex.build(g, { efSearch: 64 });
    expect(index.size).toBe(1200);
    const queries = Array.from({ length: 200 }, (_, i) => unit(r, dim, centres[(i * 7) % 400], 0.5));
    let hits = 0;
    for (const q of queries) {
      const exact = g.match(q, { topK: 3 });
      const approx = index.match(q, { topK: 3 });
      expect(approx.candidates.length).toBe(3);
      if (approx.candidates[0].name === exact.candidates[0].name) {
        hits++;
        // hnswlib's float32 squared L2 equals the exact distance to float precision.
        expect(approx.distance).toBeCloseTo(exact.distance, 5);
        expect(approx.name).toBe(exact.name);
      }
      for (let i = 1; i < 3; i++) expect(approx.candidates[i].distance).toBeGreaterThanOrEqual(approx.candidates[i - 1].distance);
    }
    expect(hits / queries.length).toBeGreaterThanOrEqual(0.95);
    // Rows added later are found.
    const extra = unit(r, dim);
    index.add('newcomer', extra);
    const m = index.match(extra);
    expect(m.name).toBe('newcomer');
    expect(m.distance).toBeCloseTo(embeddingDistance('squared-euclidean', extra, extra), 6);
  });
});
