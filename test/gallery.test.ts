/**
 * Gallery logic on synthetic embeddings: storage and scans, identity management, matching
 * (nearest / mean / top-k / unknown), the seed project's threshold, threshold calibration,
 * and the file format (round trip, refusal, corruption).
 */
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { EmbeddingMatrix } from '../src/gallery/matrix.js';
import { Gallery, matchResultOf } from '../src/gallery/gallery.js';
import {
  SEED_THRESHOLD_MEAN_SQUARED,
  SEED_THRESHOLD_SQUARED_EUCLIDEAN,
  defaultThreshold,
  embeddingDistance,
} from '../src/gallery/metric.js';
import { calibrateGallery, calibrateThreshold, galleryPairs } from '../src/recognition/threshold.js';
import { decodeGallery, encodeGallery, GALLERY_FORMAT_VERSION } from '../src/gallery/format.js';
import { loadGallery, saveGallery } from '../src/gallery/file.js';
import { ConfigError, FileNotFoundError, IncompatibleFileError, ShapeError } from '../src/errors.js';
import { DEFAULT_PREPROCESSING } from '../src/face/embedding.js';
import { XorShift32 } from './eval-synthetic.js';

/** A random unit vector (deterministic). */
function unit(r: XorShift32, dim: number): Float32Array {
  const v = r.vec(dim);
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return Float32Array.from(v, (x) => x / n);
}

/** `base` plus `noise` times a random unit vector, renormalised. */
function near(r: XorShift32, base: Float32Array, noise: number): Float32Array {
  const u = unit(r, base.length);
  const v = base.map((x, d) => x + noise * u[d]);
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

function naiveDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('EmbeddingMatrix', () => {
  for (const backend of ['wasm-simd', 'js'] as const) {
    it(`${backend}: scans equal naive dot products for 1…9 queries, across growth and compaction`, () => {
      const r = new XorShift32(5);
      const dim = 37; // padded to 48 floats per row
      const m = new EmbeddingMatrix(dim, { backend, initialCapacity: 4 });
      expect(m.backend).toBe(backend);
      expect(m.stride).toBe(48);
      const rows: Float32Array[] = [];
      for (let i = 0; i < 5000; i++) {
        const v = Float32Array.from(r.vec(dim), (x) => x / 300);
        rows.push(v);
        m.append(v);
      }
      const keep = rows.map((_, i) => i % 3 !== 1);
      m.compact(keep);
      const kept = rows.filter((_, i) => keep[i]);
      expect(m.rows).toBe(kept.length);
      expect(Array.from(m.row(10))).toEqual(Array.from(kept[10]));
      for (const nq of [1, 3, 4, 5, 9]) {
        const queries = Array.from({ length: nq }, () => Float32Array.from(r.vec(dim), (x) => x / 300));
        const seen = new Array<number>(nq).fill(0);
        let maxErr = 0;
        m.scan(queries, (r0, count, dots, lanes, q0, n) => {
          for (let j = 0; j < n; j++) {
            seen[q0 + j] += count;
            for (let k = 0; k < count; k++) {
              maxErr = Math.max(maxErr, Math.abs(dots[k * lanes + j] - naiveDot(kept[r0 + k], queries[q0 + j])));
            }
          }
        });
        expect(seen).toEqual(new Array(nq).fill(kept.length));
        expect(maxErr).toBeLessThan(1e-4); // float32 accumulation of ~37 products of size ≤ 3
      }
      // The bandwidth-floor sum reads every stored float once.
      const total = kept.reduce((s, v) => s + v.reduce((a, b) => a + b, 0), 0);
      expect(m.sum()).toBeCloseTo(total, 1);
    });
  }

  it('refuses wrong lengths and non-finite values', () => {
    const m = new EmbeddingMatrix(4);
    expect(() => m.append([1, 2, 3])).toThrow(ShapeError);
    expect(() => m.append([1, 2, NaN, 4])).toThrow(ShapeError);
    expect(() => new EmbeddingMatrix(0)).toThrow(ConfigError);
  });
});

describe('Gallery: identities', () => {
  const r = new XorShift32(11);
  const dim = 16;

  it('add, count, remove, rename, embeddingsOf, sources', () => {
    const g = Gallery.create({ dimension: dim });
    const a = [unit(r, dim), unit(r, dim)];
    const b = unit(r, dim);
    g.add('alice', a, ['a1.png', 'a2.png']);
    g.add('bob', b);
    g.add('alice', unit(r, dim), ['a3.png']);
    expect(g.identities).toEqual(['alice', 'bob']);
    expect([g.count('alice'), g.count('bob'), g.count('carol'), g.size]).toEqual([3, 1, 0, 4]);
    expect(g.sourcesOf('alice')).toEqual(['a1.png', 'a2.png', 'a3.png']);
    expect(Array.from(g.embeddingsOf('alice')[1])).toEqual(Array.from(a[1]));
    g.rename('alice', 'alicia');
    expect(g.has('alice')).toBe(false);
    expect(g.count('alicia')).toBe(3);
    expect(() => g.rename('alicia', 'bob')).toThrow(ConfigError);
    expect(() => g.rename('nobody', 'x')).toThrow(ConfigError);
    expect(g.remove('alicia')).toBe(true);
    expect(g.remove('alicia')).toBe(false);
    expect(g.identities).toEqual(['bob']);
    expect(g.size).toBe(1);
    expect(Array.from(g.embeddingsOf('bob')[0])).toEqual(Array.from(b));
    expect(g.match(b).name).toBe('bob');
  });

  it('bad input is refused and leaves the gallery unchanged', () => {
    const g = Gallery.create({ dimension: dim });
    g.add('x', unit(r, dim));
    expect(() => g.add('', unit(r, dim))).toThrow(ConfigError);
    expect(() => g.add('y', new Float32Array(dim - 1))).toThrow(ShapeError);
    const bad = unit(r, dim);
    bad[3] = Infinity;
    expect(() => g.add('y', [unit(r, dim), bad])).toThrow(ShapeError);
    expect(g.identities).toEqual(['x']);
    expect(g.size).toBe(1);
    expect(() => g.add('x', [unit(r, dim)], ['a', 'b'])).toThrow(ShapeError);
    expect(() => g.match(new Float32Array(3))).toThrow(ShapeError);
    expect(() => g.match(unit(r, dim), { topK: 0 })).toThrow(ConfigError);
  });
});

describe('matchResultOf: scored rows to a MatchResult', () => {
  // Rows as an index or a database returns them: several per identity, in no useful order.
  const rows = [
    { name: 'ann', distance: 0.5 },
    { name: 'bob', distance: 0.2 },
    { name: 'ann', distance: 0.1 },
    { name: 'cat', distance: 0.3 },
    { name: 'bob', distance: 0.4 },
  ];

  it('keeps each identity at its nearest row, nearest identities first, topK of them', () => {
    expect(matchResultOf(rows, 2, 1)).toEqual({
      name: 'ann',
      distance: 0.1,
      candidates: [
        { name: 'ann', distance: 0.1 },
        { name: 'bob', distance: 0.2 },
      ],
    });
    expect(matchResultOf(rows, 5, 1).candidates.map((c) => c.name)).toEqual(['ann', 'bob', 'cat']);
  });

  it('names the best only when strictly below the threshold; nothing scored is unknown at Infinity', () => {
    expect(matchResultOf(rows, 1, 0.1)).toEqual({ name: null, distance: 0.1, candidates: [{ name: 'ann', distance: 0.1 }] });
    expect(matchResultOf(rows, 1, 0.11).name).toBe('ann');
    expect(matchResultOf([], 3, 1)).toEqual({ name: null, distance: Infinity, candidates: [] });
  });
});

describe('Gallery: matching', () => {
  const dim = 64;
  const r = new XorShift32(99);
  // Eight identities, three samples each, spread around a centre.
  const centres = Array.from({ length: 8 }, () => unit(r, dim));
  const names = centres.map((_, i) => `person${i}`);
  const g = Gallery.create({ dimension: dim });
  const samples = centres.map((c) => [near(r, c, 0.3), near(r, c, 0.3), near(r, c, 0.3)]);
  samples.forEach((s, i) => g.add(names[i], s));

  it('nearest: the identity of the closest sample, with the exact distance', () => {
    for (let i = 0; i < 8; i++) {
      const q = near(r, centres[i], 0.3);
      const m = g.match(q);
      // Brute force over all 24 samples.
      let best = Infinity;
      let who = '';
      samples.forEach((s, k) => s.forEach((e) => {
        const d = embeddingDistance('squared-euclidean', q, e);
        if (d < best) [best, who] = [d, names[k]];
      }));
      expect(m.name).toBe(who);
      expect(m.distance).toBeCloseTo(best, 12);
      expect(m.candidates).toEqual([{ name: who, distance: m.distance }]);
    }
  });

  it('top-k: distinct identities sorted by distance, equal to brute force', () => {
    const q = near(r, centres[2], 0.5);
    const m = g.match(q, { topK: 5 });
    const perIdentity = samples
      .map((s, k) => ({ name: names[k], distance: Math.min(...s.map((e) => embeddingDistance('squared-euclidean', q, e))) }))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, 5);
    expect(m.candidates.map((c) => c.name)).toEqual(perIdentity.map((c) => c.name));
    m.candidates.forEach((c, i) => expect(c.distance).toBeCloseTo(perIdentity[i].distance, 12));
    expect(g.match(q, { topK: 50 }).candidates.length).toBe(8); // capped at the number of identities
  });

  it('mean aggregation: distance to the re-normalised centroid', () => {
    const q = near(r, centres[5], 0.3);
    const m = g.match(q, { aggregation: 'mean', topK: 8 });
    for (const c of m.candidates) {
      const s = samples[names.indexOf(c.name)];
      const mean = new Float64Array(dim);
      s.forEach((e) => e.forEach((x, d) => (mean[d] += x / s.length)));
      const n = Math.sqrt(mean.reduce((a, x) => a + x * x, 0));
      const centroid = Array.from(mean, (x) => x / n); // members are unit length
      expect(c.distance).toBeCloseTo(embeddingDistance('squared-euclidean', q, centroid), 6);
    }
    expect(m.name).toBe('person5');
  });

  it('unknown above the threshold; the threshold is strict', () => {
    const stranger = unit(r, dim);
    const m = g.match(stranger);
    expect(m.distance).toBeGreaterThan(1.2); // random 64-d unit vectors are nearly orthogonal (≈ 2 ± 0.25)
    expect(m.name).toBeNull();
    expect(m.candidates.length).toBe(1);
    const e = g.embeddingsOf('person3')[0];
    expect(g.match(e).distance).toBeCloseTo(0, 6);
    const q = near(r, centres[3], 0.3);
    const d = g.match(q).distance;
    expect(g.match(q, { threshold: d }).name).toBeNull(); // distance < threshold, strictly
    expect(g.match(q, { threshold: d + 1e-9 }).name).not.toBeNull();
  });

  it('matchMany equals one match per query (1, 4 and 7 queries)', () => {
    for (const n of [1, 4, 7]) {
      const qs = Array.from({ length: n }, (_, i) => near(r, centres[i % 8], 0.6));
      const many = g.matchMany(qs, { topK: 3 });
      qs.forEach((q, i) => expect(many[i]).toEqual(g.match(q, { topK: 3 })));
    }
  });

  it('cosine and mean-squared galleries rank like squared Euclidean on unit vectors', () => {
    const gc = Gallery.create({ dimension: dim, metric: 'cosine' });
    const gm = Gallery.create({ dimension: dim, metric: 'mean-squared' });
    samples.forEach((s, i) => {
      gc.add(names[i], s);
      gm.add(names[i], s);
    });
    const q = near(r, centres[1], 0.6);
    const se = g.match(q, { topK: 4 });
    const co = gc.match(q, { topK: 4 });
    const ms = gm.match(q, { topK: 4 });
    expect(co.candidates.map((c) => c.name)).toEqual(se.candidates.map((c) => c.name));
    expect(ms.candidates.map((c) => c.name)).toEqual(se.candidates.map((c) => c.name));
    se.candidates.forEach((c, i) => {
      expect(co.candidates[i].distance * 2).toBeCloseTo(c.distance, 6); // |a−b|² = 2(1 − cos)
      expect(ms.candidates[i].distance * dim).toBeCloseTo(c.distance, 9);
    });
  });

  it('an empty gallery answers unknown', () => {
    const e = Gallery.create({ dimension: 4 });
    expect(e.match([1, 0, 0, 0])).toEqual({ name: null, distance: Infinity, candidates: [] });
  });
});

describe("the seed project's threshold", () => {
  it('THRED = 0.002 on mean((a − b)²) of 512-d embeddings equals squared Euclidean 1.024', () => {
    expect(SEED_THRESHOLD_SQUARED_EUCLIDEAN).toBeCloseTo(1.024, 15);
    expect(defaultThreshold('mean-squared', 512)).toBeCloseTo(SEED_THRESHOLD_MEAN_SQUARED, 18);
    expect(defaultThreshold('squared-euclidean', 512)).toBeCloseTo(1.024, 15);
    expect(defaultThreshold('cosine', 512)).toBeCloseTo(0.512, 15);

    // The seed's test.py, re-done in plain JS: diff = mean(square(e − arr), axis=1);
    // known when min(diff) < THRED, then the class of argmin(diff).
    const dim = 512;
    const r = new XorShift32(2024);
    const enrolled = Array.from({ length: 12 }, () => unit(r, dim));
    const classes = enrolled.map((_, i) => `class${i}`);
    const seedIdentify = (e: Float32Array): string => {
      const diffs = enrolled.map((g) => {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (e[d] - g[d]) ** 2;
        return s / dim;
      });
      const min = Math.min(...diffs);
      return min < 0.002 ? classes[diffs.indexOf(min)] : 'Others';
    };
    const byEuclid = Gallery.create({ dimension: dim }); // default threshold 1.024
    const byMean = Gallery.create({ dimension: dim, metric: 'mean-squared' }); // default 0.002
    enrolled.forEach((e, i) => {
      byEuclid.add(classes[i], e);
      byMean.add(classes[i], e);
    });
    // Queries whose squared distance to their class spreads across 1.024: noise n gives
    // cos ≈ 1/√(1 + n²), so n from 0.8 to 2.8 spans squared distances ≈ 0.44 … 1.45.
    let known = 0;
    for (let i = 0; i < 120; i++) {
      const q = near(r, enrolled[i % 12], 0.8 + (2 * i) / 120);
      const seed = seedIdentify(q);
      expect(byEuclid.match(q).name ?? 'Others').toBe(seed);
      expect(byMean.match(q).name ?? 'Others').toBe(seed);
      if (seed !== 'Others') known++;
    }
    expect(known).toBeGreaterThan(20); // both outcomes occur
    expect(known).toBeLessThan(100);
  });
});

describe('threshold calibration', () => {
  it('hand-worked: the k-th smallest impostor distance', () => {
    const d = [0.5, 0.1, 0.8, 0.6, 1.0, 0.9, 1.2];
    const same = [false, true, false, true, false, true, false];
    // Impostors 0.5 0.8 1.0 1.2 (4); target 0.25 allows 1 false accept → threshold 0.8:
    // accepts impostor 0.5 (FAR 1/4) and genuine 0.1, 0.6 (TAR 2/3).
    expect(calibrateThreshold(d, same, { targetFar: 0.25 })).toEqual({
      threshold: 0.8,
      targetFar: 0.25,
      far: 0.25,
      tar: 2 / 3,
      genuinePairs: 3,
      impostorPairs: 4,
    });
    // Target 0: threshold 0.5, no impostor accepted, only genuine 0.1.
    const c0 = calibrateThreshold(d, same, { targetFar: 0 });
    expect([c0.threshold, c0.far, c0.tar]).toEqual([0.5, 0, 1 / 3]);
    // Ties: impostors 0.5 0.5 0.7, one false accept allowed → threshold 0.5, FAR 0 (both ties rejected).
    const ct = calibrateThreshold([0.5, 0.5, 0.7], [false, false, false], { targetFar: 0.34 });
    expect([ct.threshold, ct.far]).toEqual([0.5, 0]);
    // 1e-3 of 3000 impostors allows exactly 3 (0.001 × 3000 = 2.9999999999999996 in floats).
    const many = Array.from({ length: 3000 }, (_, i) => i + 1);
    expect(calibrateThreshold(many, many.map(() => false), { targetFar: 1e-3 }).threshold).toBe(4);
    expect(() => calibrateThreshold([1], [true])).toThrow(ConfigError);
    expect(() => calibrateThreshold([1], [false], { targetFar: 1 })).toThrow(ConfigError);
  });

  it('calibrates a gallery on its own pairs', () => {
    const r = new XorShift32(7);
    const dim = 32;
    const g = Gallery.create({ dimension: dim });
    for (let i = 0; i < 10; i++) {
      const c = unit(r, dim);
      g.add(`p${i}`, [near(r, c, 0.4), near(r, c, 0.4), near(r, c, 0.4), near(r, c, 0.4)]);
    }
    const { distances, issame } = galleryPairs(g);
    expect(distances.length).toBe((40 * 39) / 2);
    expect(issame.filter(Boolean).length).toBe(10 * 6);
    const c = calibrateGallery(g, { targetFar: 0.01 });
    expect(c.impostorPairs).toBe(780 - 60);
    expect(c.far).toBeLessThanOrEqual(0.01);
    expect(g.threshold).toBe(c.threshold);
    // 7 false accepts allowed of 720: the threshold is the 8th smallest impostor distance.
    const imp = Array.from(distances).filter((_, i) => !issame[i]).sort((a, b) => a - b);
    expect(c.threshold).toBe(imp[7]);
    expect(c.tar).toBeGreaterThan(0.9); // noise 0.4 keeps same-person pairs well inside
  });
});

describe('gallery file', () => {
  const dim = 24;
  const r = new XorShift32(3);
  const make = (): Gallery => {
    const g = Gallery.create({ dimension: dim, fingerprint: 'abc123', preprocessing: { ...DEFAULT_PREPROCESSING }, threshold: 0.9 });
    g.add('amy', [unit(r, dim), unit(r, dim)], ['amy1.png', 'amy2.png']);
    g.add('raj', unit(r, dim));
    g.add('amy', unit(r, dim)); // rows of one identity need not be contiguous in memory
    return g;
  };

  it('round trip keeps identities, embeddings, sources, metric, threshold and model info', async () => {
    const g = make();
    const back = await decodeGallery(await encodeGallery(g), 'mem');
    expect(back.identities).toEqual(['amy', 'raj']);
    expect(back.dimension).toBe(dim);
    expect(back.threshold).toBe(0.9);
    expect(back.metric).toBe('squared-euclidean');
    expect(back.fingerprint).toBe('abc123');
    expect(back.preprocessing).toEqual(DEFAULT_PREPROCESSING);
    expect(back.sourcesOf('amy')).toEqual(['amy1.png', 'amy2.png', undefined]);
    expect(back.embeddingsOf('amy').map((e) => Array.from(e))).toEqual(g.embeddingsOf('amy').map((e) => Array.from(e)));
    expect(back.embeddingsOf('raj').map((e) => Array.from(e))).toEqual(g.embeddingsOf('raj').map((e) => Array.from(e)));
  });

  it('a well-checksummed file with a bad header is refused, not half-read', async () => {
    const bytes = await encodeGallery(make());
    const hlen = new DataView(bytes.buffer).getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + hlen)));
    const craft = (h: object): Uint8Array => {
      let json = new TextEncoder().encode(JSON.stringify(h));
      json = Uint8Array.from({ length: Math.ceil(json.length / 4) * 4 }, (_, i) => json[i] ?? 0x20);
      const body = new Uint8Array(16 + json.length + (bytes.length - 32 - 16 - hlen));
      body.set(bytes.subarray(0, 16));
      new DataView(body.buffer).setUint32(12, json.length, true);
      body.set(json, 16);
      body.set(bytes.subarray(16 + hlen, bytes.length - 32), 16 + json.length);
      const out = new Uint8Array(body.length + 32);
      out.set(body);
      out.set(createHash('sha256').update(body).digest(), body.length);
      return out;
    };
    // The crafted original decodes: the helper itself is right.
    expect((await decodeGallery(craft(header))).size).toBe(4);
    const cases: [object, RegExp][] = [
      [{ ...header, threshold: -1 }, /bad threshold/],
      [{ ...header, identities: [{ name: 'amy', count: 0 }] }, /bad identity entry/],
      [{ ...header, rows: 5, identities: [...header.identities.slice(0, 1), { name: 'raj', count: 2 }] }, /expected \d+ bytes/],
      [{ ...header, metric: 'manhattan' }, /unknown metric/],
      [{ ...header, format: 'zip' }, /does not describe/],
    ];
    for (const [h, msg] of cases) await expect(decodeGallery(craft(h), 'crafted')).rejects.toThrow(msg);
  });

  it('save is atomic, load checks the model, damage and truncation are detected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gallery-'));
    try {
      const path = join(dir, 'people.gallery');
      await writeFile(path, 'old contents');
      await saveGallery(make(), path);
      expect(await readdir(dir)).toEqual(['people.gallery']); // no temporary file left
      const bytes = await readFile(path);
      expect(bytes.subarray(0, 8).toString('latin1')).toBe('TFFNGLRY');
      expect(bytes.readUInt32LE(8)).toBe(GALLERY_FORMAT_VERSION);

      const ok = await loadGallery(path, { expect: { fingerprint: 'abc123', preprocessing: { ...DEFAULT_PREPROCESSING }, dimension: dim } });
      expect(ok.size).toBe(4);

      const refusals: [string, Parameters<typeof loadGallery>[1], RegExp][] = [
        ['another model', { expect: { fingerprint: 'fff' } }, /enrolled with model abc123 but the current model is fff/],
        ['another preprocessing', { expect: { preprocessing: { ...DEFAULT_PREPROCESSING, margin: 44 } } }, /preprocessing/],
        ['another dimension', { expect: { dimension: 512 } }, /24-d embeddings but the embedder makes 512-d/],
      ];
      for (const [, opts, msg] of refusals) {
        const err = await loadGallery(path, opts).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IncompatibleFileError);
        expect((err as Error).message).toMatch(msg);
        expect((err as IncompatibleFileError).path).toBe(path);
      }

      const damaged = Buffer.from(bytes);
      damaged[16 + 40] ^= 0x01; // one bit in the header JSON
      await writeFile(path, damaged);
      await expect(loadGallery(path)).rejects.toThrow(/checksum mismatch/);
      const damaged2 = Buffer.from(bytes);
      damaged2[damaged2.length - 100] ^= 0x80; // one bit in an embedding
      await writeFile(path, damaged2);
      await expect(loadGallery(path)).rejects.toThrow(IncompatibleFileError);
      await writeFile(path, bytes.subarray(0, bytes.length - 7));
      await expect(loadGallery(path)).rejects.toThrow(/damaged or truncated/);
      await writeFile(path, bytes.subarray(0, 20));
      await expect(loadGallery(path)).rejects.toThrow(/too short/);
      const notGallery = Buffer.from(bytes);
      notGallery.write('PK\u0003\u0004', 0, 'latin1');
      await writeFile(path, notGallery);
      await expect(loadGallery(path)).rejects.toThrow(/bad magic/);
      const future = Buffer.from(bytes);
      future.writeUInt32LE(2, 8);
      await writeFile(path, future);
      await expect(loadGallery(path)).rejects.toThrow(/version 2 is not supported/);
      await expect(loadGallery(join(dir, 'missing.gallery'))).rejects.toBeInstanceOf(FileNotFoundError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
