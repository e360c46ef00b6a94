/**
 * One suite for every GalleryStore: a gallery file, PGlite in this process (`pglite:DIR`),
 * and a PostgreSQL server reached over the wire protocol (`pg` → PGlite served on TCP by
 * @electric-sql/pglite-socket). Distances are worked out by hand on small vectors; a larger
 * random gallery checks that every store answers exactly as the in-memory Gallery does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Gallery } from '../src/gallery/gallery.js';
import { openGalleryStore, galleryStoreKind } from '../src/gallery/open-store.js';
import { hnswBuildMemoryMB, parseVector, SqlGalleryStore, vectorLiteral } from '../src/gallery/sql-store.js';
import type { SqlClient } from '../src/gallery/sql-client.js';
import { encodeEmbeddingRows } from '../src/gallery/sql-copy.js';
import { GALLERY_SCHEMA_VERSION, migrateGallerySchema } from '../src/gallery/sql-schema.js';
import { pgPoolClient, redactConnectionString } from '../src/gallery/sql-pg.js';
import { copyRows, growFilesGeometrically, onMemoryFs, pgliteClient } from '../src/gallery/sql-pglite.js';
import type { GalleryStore } from '../src/gallery/store.js';
import { loadHnswlib } from '../src/gallery/hnsw.js';
import { ConfigError, FileNotFoundError, IncompatibleFileError, ShapeError } from '../src/errors.js';
import { DEFAULT_PREPROCESSING } from '../src/face/embedding.js';
import { XorShift32 } from './eval-synthetic.js';

let work: string;
let server: PGLiteSocketServer;
let served: PGlite;
let serverUrl: string;
let files = 0;
/** The PGlite folder of the suite, kept open by this handle (creating a PGlite database takes seconds). */
let pgliteSpec: string;
let keeper: GalleryStore | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gallery-store-'));
  served = await PGlite.create({ extensions: { vector } });
  server = new PGLiteSocketServer({ db: served, port: 0, host: '127.0.0.1', maxConnections: 32 });
  await server.start();
  serverUrl = `postgres://postgres:secret@${server.getServerConn()}/postgres`;
  pgliteSpec = `pglite:${join(work, 'pglite')}`;
  keeper = await openGalleryStore(pgliteSpec);
}, 900_000); // two PGlite databases: seconds each, minutes on a busy machine

afterAll(async () => {
  await keeper?.close();
  await server?.stop();
  await served?.close();
  await rm(work, { recursive: true, force: true });
});

/** Each kind of store, by the name a user would give it, emptied for every test. */
const KINDS: { kind: string; fresh(): Promise<{ spec: string }> }[] = [
  { kind: 'file', fresh: async () => ({ spec: join(work, `g${++files}.gallery`) }) },
  {
    kind: 'pglite',
    fresh: async () => {
      await keeper!.clear();
      return { spec: pgliteSpec };
    },
  },
  {
    kind: 'postgres',
    fresh: async () => {
      // One served database for the whole file: empty it between tests.
      await served.exec('DROP TABLE IF EXISTS facenet_embedding, facenet_identity, facenet_gallery, facenet_schema CASCADE');
      return { spec: serverUrl };
    },
  },
];

const OPTS = { dimension: 4, fingerprint: 'model-a', preprocessing: { ...DEFAULT_PREPROCESSING } };
const v = (...xs: number[]) => Float32Array.from(xs);

describe.each(KINDS)('GalleryStore: $kind', ({ kind, fresh }) => {
  const open = async (): Promise<GalleryStore> => openGalleryStore((await fresh()).spec);

  it('is empty until created; create is idempotent and checks what is stored', async () => {
    const { spec } = await fresh();
    expect(galleryStoreKind(spec)).toBe(kind);
    const store = await openGalleryStore(spec);
    try {
      expect(await store.info()).toBeNull();
      await expect(store.open()).rejects.toThrow(FileNotFoundError);
      await expect(store.enroll([{ name: 'a', embeddings: [v(1, 0, 0, 0)] }])).rejects.toThrow(FileNotFoundError);
      const info = await store.create(OPTS);
      // The seed threshold: squared Euclidean 1.024.
      expect(info).toMatchObject({ dimension: 4, metric: 'squared-euclidean', threshold: 1.024, fingerprint: 'model-a' });
      expect(await store.create(OPTS)).toEqual(info);
      await expect(store.create({ ...OPTS, fingerprint: 'model-b' })).rejects.toThrow(/enrolled with model model-a but the current model is model-b/);
      await expect(store.create({ ...OPTS, dimension: 8 })).rejects.toThrow(IncompatibleFileError);
      await expect(store.create({ ...OPTS, metric: 'cosine' })).rejects.toThrow(/squared-euclidean distances, not cosine/);
      // Opening checks the model exactly as loading a gallery file does.
      expect(await store.open({ fingerprint: 'model-a', dimension: 4 })).toEqual(info);
      await expect(store.open({ dimension: 128 })).rejects.toThrow(/holds 4-d embeddings but the embedder makes 128-d ones/);
      await expect(store.open({ fingerprint: 'other' })).rejects.toThrow(IncompatibleFileError);
    } finally {
      await store.close();
    }
    // Persisted: a second handle sees it.
    const again = await openGalleryStore(spec);
    try {
      expect(await again.info()).toMatchObject({ dimension: 4, fingerprint: 'model-a', preprocessing: DEFAULT_PREPROCESSING });
    } finally {
      await again.close();
    }
  });

  it('enrols, matches with hand-worked distances, removes and renames', async () => {
    const store = await open();
    try {
      await store.create(OPTS);
      await store.enroll([
        { name: 'alice', embeddings: [v(1, 0, 0, 0), v(0.8, 0.6, 0, 0)], sources: ['a1.jpg', 'a2.jpg'] },
        { name: 'bob', embeddings: [v(0, 1, 0, 0)] },
      ]);
      await store.enroll([{ name: 'carol', embeddings: [v(0, 0, 1, 0)] }, { name: 'bob', embeddings: [v(0, 0.6, 0.8, 0)] }]);
      expect(await store.identities()).toEqual([
        { name: 'alice', count: 2 },
        { name: 'bob', count: 2 },
        { name: 'carol', count: 1 },
      ]);
      // q = (0.6, 0.8, 0, 0): |q − (0.8,0.6,0,0)|² = 0.04 + 0.04 = 0.08; |q − (0,1,0,0)|² = 0.36 + 0.04 = 0.40;
      // |q − (0,0,1,0)|² = 0.36 + 0.64 + 1 = 2.
      const q = v(0.6, 0.8, 0, 0);
      const top = await store.match(q, { topK: 3 });
      expect(top.name).toBe('alice');
      expect(top.candidates.map((c) => c.name)).toEqual(['alice', 'bob', 'carol']);
      expect(top.candidates[0]!.distance).toBeCloseTo(0.08, 6);
      expect(top.candidates[1]!.distance).toBeCloseTo(0.4, 6);
      expect(top.candidates[2]!.distance).toBeCloseTo(2, 6);
      // Below the threshold 0.05 nobody is close enough.
      expect((await store.match(q, { threshold: 0.05 })).name).toBeNull();
      await store.setThreshold(0.05);
      expect((await store.info())!.threshold).toBe(0.05);
      expect((await store.match(q)).name).toBeNull();
      await expect(store.setThreshold(-1)).rejects.toThrow(ConfigError);

      await expect(store.rename('alice', 'bob')).rejects.toThrow(/"bob" already exists/);
      await expect(store.rename('nobody', 'x')).rejects.toThrow(/no identity named "nobody"/);
      await store.rename('alice', 'alicia');
      expect(await store.remove('bob')).toBe(true);
      expect(await store.remove('bob')).toBe(false);
      expect(await store.identities()).toEqual([
        { name: 'alicia', count: 2 },
        { name: 'carol', count: 1 },
      ]);
      const after = await store.match(q, { topK: 2, threshold: 1.024 });
      expect(after.name).toBe('alicia');
      expect(after.candidates[1]).toEqual({ name: 'carol', distance: expect.closeTo(2, 6) });

      const loaded = await store.load();
      expect(loaded.identities).toEqual(['alicia', 'carol']);
      expect(loaded.sourcesOf('alicia')).toEqual(['a1.jpg', 'a2.jpg']);
      expect(loaded.embeddingsOf('alicia')).toEqual([v(1, 0, 0, 0), v(0.8, 0.6, 0, 0)]);
      expect(loaded.threshold).toBe(0.05);
      expect(loaded.fingerprint).toBe('model-a');
    } finally {
      await store.close();
    }
  });

  it('update: creates, removes, renames, enrols (leaving out sources already held) and sets the threshold at once, or changes nothing', async () => {
    const store = await open();
    try {
      await expect(store.update({ enroll: [{ name: 'a', embeddings: [v(1, 0, 0, 0)] }] })).rejects.toThrow(FileNotFoundError);
      const first = await store.update({
        create: OPTS,
        enroll: [
          { name: 'amy', embeddings: [v(1, 0, 0, 0), v(0.8, 0.6, 0, 0), v(1, 0, 0, 0)], sources: ['/p/amy1.png', '/p/amy2.png', '/p/amy1.png'] },
          { name: 'raj', embeddings: [v(0, 1, 0, 0)], sources: ['/p/raj1.png'], imageHashes: ['cd'.repeat(32)] },
        ],
        skipEnrolledSources: true,
      });
      expect(first.info).toMatchObject({ dimension: 4, fingerprint: 'model-a', threshold: 1.024 });
      // amy1.png twice in one update: kept once.
      expect(first.added).toEqual([
        { name: 'amy', source: '/p/amy1.png' },
        { name: 'amy', source: '/p/amy2.png' },
        { name: 'raj', source: '/p/raj1.png' },
      ]);
      expect(first.skipped).toEqual([{ name: 'amy', source: '/p/amy1.png' }]);
      expect(await store.sourcesOf(['amy', 'nobody'])).toEqual(new Map([['amy', ['/p/amy1.png', '/p/amy2.png']]]));
      // A repeat adds only what is new; the same file under another identity is another embedding.
      const second = await store.update({
        create: OPTS,
        remove: ['raj'],
        rename: [{ from: 'amy', to: 'amelia' }],
        enroll: [
          { name: 'amelia', embeddings: [v(1, 0, 0, 0), v(0, 0, 1, 0)], sources: ['/p/amy1.png', '/p/amy3.png'] },
          { name: 'raj', embeddings: [v(0, 1, 0, 0)], sources: ['/p/amy1.png'] },
        ],
        skipEnrolledSources: true,
        threshold: 0.5,
      });
      expect(second.skipped).toEqual([{ name: 'amelia', source: '/p/amy1.png' }]);
      expect(second.added).toEqual([
        { name: 'amelia', source: '/p/amy3.png' },
        { name: 'raj', source: '/p/amy1.png' },
      ]);
      expect(second.info.threshold).toBe(0.5);
      expect(await store.identities()).toEqual([
        { name: 'amelia', count: 3 },
        { name: 'raj', count: 1 },
      ]);
      // Any part failing changes nothing: an unknown identity to remove, a taken name, another model.
      const before = await store.load();
      await expect(store.update({ enroll: [{ name: 'z', embeddings: [v(0, 0, 0, 1)] }], remove: ['nobody'] })).rejects.toThrow(/no identity named "nobody"/);
      await expect(store.update({ enroll: [{ name: 'z', embeddings: [v(0, 0, 0, 1)] }], rename: [{ from: 'raj', to: 'amelia' }] })).rejects.toThrow(ConfigError);
      await expect(store.update({ create: { ...OPTS, fingerprint: 'model-b' }, enroll: [{ name: 'z', embeddings: [v(0, 0, 0, 1)] }] })).rejects.toThrow(IncompatibleFileError);
      await expect(store.update({ threshold: 0 })).rejects.toThrow(ConfigError);
      const after = await store.load();
      expect(after.identities).toEqual(before.identities);
      expect(after.size).toBe(4);
      expect(after.threshold).toBe(0.5);
      // Without skipEnrolledSources every embedding is added.
      const all = await store.update({ enroll: [{ name: 'raj', embeddings: [v(0, 1, 0, 0)], sources: ['/p/amy1.png'] }] });
      expect(all.skipped).toEqual([]);
      expect((await store.identities()).find((i) => i.name === 'raj')?.count).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('concurrent updates enrolling the same files: each file once per identity', async () => {
    const { spec } = await fresh();
    const handles = [await openGalleryStore(spec), await openGalleryStore(spec), await openGalleryStore(spec)];
    try {
      // Every writer creates the gallery if needed and enrols the same five images of 'shared'
      // and one of its own; only one copy of each shared image may land.
      const results = await Promise.all(
        handles.flatMap((store, h) =>
          [0, 1].map((k) =>
            store.update({
              create: OPTS,
              enroll: [
                { name: 'shared', embeddings: [0, 1, 2, 3, 4].map((i) => v(1, i, 0, 0)), sources: [0, 1, 2, 3, 4].map((i) => `/s/${i}.png`) },
                { name: `own${h}`, embeddings: [v(0, 0, h, k)], sources: [`/o/${h}-${k}.png`] },
              ],
              skipEnrolledSources: true,
            }),
          ),
        ),
      );
      expect(results.reduce((s, r) => s + r.added.filter((a) => a.name === 'shared').length, 0)).toBe(5);
      expect(results.reduce((s, r) => s + r.skipped.length, 0)).toBe(5 * 5);
      const ids = await handles[0]!.identities();
      expect(ids.find((i) => i.name === 'shared')?.count).toBe(5);
      expect(ids.filter((i) => i.name.startsWith('own')).map((i) => i.count)).toEqual([2, 2, 2]);
    } finally {
      for (const h of handles) await h.close();
    }
  });

  it('refuses bad embeddings and names before writing anything', async () => {
    const store = await open();
    try {
      await store.create(OPTS);
      await expect(store.enroll([{ name: 'a', embeddings: [v(1, 0, 0, 0)] }, { name: 'b', embeddings: [v(1, 0, 0)] }])).rejects.toThrow(
        /embedding 0 of b: expected length 4, got 3/,
      );
      await expect(store.enroll([{ name: 'a', embeddings: [v(1, 0, NaN, 0)] }])).rejects.toThrow(ShapeError);
      await expect(store.enroll([{ name: ' ', embeddings: [v(1, 0, 0, 0)] }])).rejects.toThrow(ConfigError);
      await expect(store.enroll([{ name: 'a', embeddings: [v(1, 0, 0, 0)], sources: [] }])).rejects.toThrow(ShapeError);
      await expect(store.match(v(1, 0, 0))).rejects.toThrow(ShapeError);
      expect(await store.identities()).toEqual([]);
      // An empty gallery knows nobody.
      expect(await store.match(v(1, 0, 0, 0))).toEqual({ name: null, distance: Infinity, candidates: [] });
    } finally {
      await store.close();
    }
  });

  it('answers exactly as the in-memory Gallery on 600 random 32-d embeddings, and round-trips by replace/load', async () => {
    const r = new XorShift32(13);
    const unit = () => {
      const x = r.vec(32);
      const n = Math.hypot(...x);
      return Float32Array.from(x, (e) => e / n);
    };
    const reference = Gallery.create({ dimension: 32, fingerprint: 'model-r', preprocessing: null });
    for (let p = 0; p < 60; p++) reference.add(`p${p}`, Array.from({ length: 10 }, unit), Array.from({ length: 10 }, (_, i) => `p${p}/${i}.jpg`));
    const store = await open();
    try {
      await store.replace(reference);
      const loaded = await store.load();
      expect(loaded.identities).toEqual(reference.identities);
      expect(loaded.embeddingsOf('p17')).toEqual(reference.embeddingsOf('p17'));
      expect(loaded.sourcesOf('p59')).toEqual(reference.sourcesOf('p59'));
      for (let i = 0; i < 20; i++) {
        const q = unit();
        const want = reference.match(q, { topK: 3 });
        const got = await store.match(q, { topK: 3 });
        expect(got.candidates.map((c) => c.name)).toEqual(want.candidates.map((c) => c.name));
        got.candidates.forEach((c, j) => expect(c.distance).toBeCloseTo(want.candidates[j]!.distance, 12));
        expect((await store.match(q)).candidates[0]).toEqual(got.candidates[0]);
      }
    } finally {
      await store.close();
    }
  });

  it('approximate matches need an index, then find the same nearest identity on separated data', async () => {
    if (kind === 'file' && !(await loadHnswlib())) return; // hnswlib-node is optional
    const store = await open();
    try {
      await store.create({ ...OPTS, dimension: 8 });
      await expect(store.match(new Float32Array(8).fill(0.1), { approximate: true })).rejects.toThrow(/createIndex/);
      const basis = (i: number, s = 1) => Float32Array.from({ length: 8 }, (_, d) => (d === i ? s : 0));
      await store.enroll(Array.from({ length: 8 }, (_, i) => ({ name: `n${i}`, embeddings: [basis(i), basis(i, 0.9)] })));
      await store.createIndex({ m: 8, efConstruction: 32 });
      for (let i = 0; i < 8; i++) {
        // Nearest is basis(i) at squared distance (1 − 0.95)² = 0.0025.
        const got = await store.match(basis(i, 0.95), { approximate: true });
        expect(got.name).toBe(`n${i}`);
        expect(got.distance).toBeCloseTo(0.0025, 6);
      }
      // Exact matching still scans everything with the index present.
      expect((await store.match(basis(3, 0.95), { topK: 8 })).candidates).toHaveLength(8);
    } finally {
      await store.close();
    }
  });

  it('matches a gallery another handle replaced with another dimension and metric since its last match', async () => {
    const { spec } = await fresh();
    const first = await openGalleryStore(spec);
    const second = await openGalleryStore(spec);
    try {
      await first.create(OPTS);
      await first.enroll([{ name: 'four', embeddings: [v(1, 0, 0, 0)] }]);
      expect((await first.match(v(0, 1, 0, 0))).distance).toBeCloseTo(2, 6);
      await second.clear();
      await second.create({ dimension: 3, metric: 'cosine', fingerprint: 'model-b', preprocessing: null });
      await second.enroll([{ name: 'three', embeddings: [v(0, 3, 4)] }]);
      // cosine distance 1 − (0·1 + 3·1 + 4·0) / (5·√2) = 1 − 0.3·√2
      const got = await first.match(v(1, 1, 0));
      expect(got.candidates).toHaveLength(1);
      expect(got.candidates[0]!.name).toBe('three');
      expect(got.distance).toBeCloseTo(1 - 0.3 * Math.SQRT2, 6);
      await expect(first.match(v(0, 1, 0, 0))).rejects.toThrow(ShapeError);
      await second.clear();
      await expect(first.match(v(1, 1, 0))).rejects.toThrow(FileNotFoundError);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('several writers at once lose nothing', async () => {
    const { spec } = await fresh();
    const first = await openGalleryStore(spec);
    await first.create(OPTS);
    // Two handles (for the database stores: two connection pools, as two processes would have).
    const second = await openGalleryStore(spec);
    try {
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 12; i++) {
        const store = i % 2 ? first : second;
        // Everyone adds to 'shared' (created by whichever writer is first) and to their own identity.
        writes.push(store.enroll([{ name: 'shared', embeddings: [v(1, 0, 0, i)] }, { name: `w${i}`, embeddings: [v(0, 1, i, 0), v(0, 0, 1, i)] }]));
      }
      await Promise.all(writes);
      const ids = await first.identities();
      expect(ids.find((x) => x.name === 'shared')?.count).toBe(12);
      expect(ids).toHaveLength(13);
      expect(ids.reduce((s, x) => s + x.count, 0)).toBe(12 + 24);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe.each(KINDS.filter((k) => k.kind !== 'file'))('SqlGalleryStore approximate matches: $kind', ({ fresh }) => {
  it('search with the store\'s HNSW candidate list', async () => {
    const { spec } = await fresh();
    const r = new XorShift32(13);
    const people = Array.from({ length: 2000 }, (_, i) => ({ name: `p${i}`, embeddings: [r.vec(8)] }));
    const writer = await openGalleryStore(spec);
    // One row per identity and 50 wanted: the search must run with a candidate list of at
    // least 50 (the store's max(efSearch, rows wanted)); pgvector's default of 40 would return 40.
    const store = await openGalleryStore(spec, { efSearch: 10, rowsPerIdentity: 1 });
    try {
      await writer.create({ ...OPTS, dimension: 8 });
      await writer.enroll(people);
      await writer.createIndex({ m: 8, efConstruction: 64 });
      const q = r.vec(8);
      // Twice: the first match is checked in a transaction, the second goes as one script.
      const got = [await store.match(q, { approximate: true, topK: 50 }), await store.match(q, { approximate: true, topK: 50 })];
      const exact = await store.match(q, { topK: 2000 });
      const exactDistance = new Map(exact.candidates.map((c) => [c.name, c.distance]));
      for (const g of got) {
        expect(g.candidates).toHaveLength(50);
        for (const c of g.candidates) expect(c.distance).toBe(exactDistance.get(c.name));
      }
    } finally {
      await store.close();
      await writer.close();
    }
  });
});

describe('database store details', () => {
  it('writes float32 values that read back bit for bit', () => {
    const x = Float32Array.from([0.1, -1 / 3, 1e-30, 3.4e38, 0]);
    expect(parseVector(vectorLiteral(x))).toEqual(x);
    expect(vectorLiteral(v(0.5, -2))).toBe('[0.5,-2]');
  });

  it('encodes bulk-load rows in PostgreSQL binary COPY format (worked out byte by byte)', () => {
    const bytes = encodeEmbeddingRows([{ identityId: 258, embedding: v(1, -2), source: 'é', imageSha256: null }]);
    const expected = [
      ...[0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00], // PGCOPY\n\377\r\n\0
      ...[0, 0, 0, 0, 0, 0, 0, 0], // flags, header extension length
      ...[0, 4], // four fields
      ...[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2], // int8 258
      ...[0, 0, 0, 12, 0, 2, 0, 0, 0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0], // vector: dim 2, unused 0, 1.0f, -2.0f
      ...[0, 0, 0, 2, 0xc3, 0xa9], // text 'é' in UTF-8
      ...[0xff, 0xff, 0xff, 0xff], // NULL
      ...[0xff, 0xff], // trailer
    ];
    expect([...bytes]).toEqual(expected);
  });

  it.each([
    ['direct', Infinity],
    ['staged', -1],
  ])('PGlite bulk loads (%s COPY): several in one transaction, one outside, none after a rollback', async (_, stageAbove) => {
    await served.exec('CREATE EXTENSION IF NOT EXISTS vector; DROP TABLE IF EXISTS copy_probe');
    await served.exec('CREATE TABLE copy_probe (identity_id bigint, embedding vector(2), source text, image_sha256 text)');
    const cols = ['identity_id', 'embedding', 'source', 'image_sha256'];
    const rows = (id: number) => encodeEmbeddingRows([{ identityId: id, embedding: v(id, -id), source: `s${id}`, imageSha256: null }]);
    await served.transaction((tx) => copyRows(tx, 'copy_probe', cols, rows(1), stageAbove));
    await served.transaction(async (tx) => {
      await copyRows(tx, 'copy_probe', cols, rows(2), stageAbove);
      await copyRows(tx, 'copy_probe', cols, rows(3), stageAbove);
    });
    const failed = served.transaction(async (tx) => {
      await copyRows(tx, 'copy_probe', cols, rows(4), stageAbove);
      throw new Error('roll back');
    });
    await expect(failed).rejects.toThrow('roll back');
    const kept = await served.query<{ identity_id: string; embedding: string; source: string }>(
      'SELECT identity_id::text, embedding::text, source FROM copy_probe ORDER BY identity_id',
    );
    expect(kept.rows).toEqual([1, 2, 3].map((id) => ({ identity_id: String(id), embedding: `[${id},${-id}]`, source: `s${id}` })));
    const staged = await served.query<{ t: string | null }>("SELECT to_regclass('pg_temp.facenet_copy_stage')::text AS t");
    expect(staged.rows).toEqual([{ t: null }]);
    await served.exec('DROP TABLE copy_probe');
  });

  it('PGlite in memory: a file grown by truncation keeps a large enough buffer, reads back as written, zeros past the end', () => {
    const fs = served.Module.FS;
    expect(growFilesGeometrically(served)).toBe(true);
    expect(growFilesGeometrically(served)).toBe(true); // idempotent
    expect(growFilesGeometrically({} as never)).toBe(false);
    const path = '/tmp/mend-probe';
    const written = Uint8Array.from({ length: 2_000_000 }, (_, i) => (i % 251) + 1);
    fs.writeFile(path, written);
    fs.truncate(path, 1000);
    fs.truncate(path, 2_008_192); // like PostgreSQL extending a table by one page
    const node = fs.lookupPath(path).node as unknown as { contents: Uint8Array; mtime: number };
    const buffer = node.contents;
    const modified = node.mtime;
    fs.truncate(path, 2_016_384); // and again: the grown buffer has room (unmended: copied anew)
    expect(node.contents).toBe(buffer);
    // The truncate counts as a change (IndexedDB persistence saves files whose mtime moved).
    expect(node.mtime).toBeGreaterThan(modified);
    const read = fs.readFile(path) as Uint8Array;
    expect(read.length).toBe(2_016_384);
    expect(read.subarray(0, 1000)).toEqual(written.subarray(0, 1000));
    expect(read.subarray(1000).every((b) => b === 0)).toBe(true);
    fs.unlink(path);
  });

  it.each(['pglite', 'postgres'])('%s: a match after the first goes as one script; a gallery changed under it is checked again', async (kind) => {
    await served.exec('DROP TABLE IF EXISTS facenet_embedding, facenet_identity, facenet_gallery, facenet_schema CASCADE');
    const { default: pg } = await import('pg');
    const connect = (): SqlClient => (kind === 'pglite' ? pgliteClient(served, 'served', false) : pgPoolClient(new pg.Pool({ connectionString: serverUrl, max: 2 }), 'server'));
    // Count what a match sends: statements on their own, transactions, scripts.
    const sent = { queries: 0, transactions: 0, scripts: 0 };
    const inner = connect();
    const counted: SqlClient = {
      location: inner.location,
      query: (sql, params) => (sent.queries++, inner.query(sql, params)),
      transaction: (work) => (sent.transactions++, inner.transaction(work)),
      script: (sql) => (sent.scripts++, inner.script!(sql)),
      close: () => inner.close(),
    };
    const store = await SqlGalleryStore.open(counted);
    const other = await SqlGalleryStore.open(connect());
    try {
      await store.create(OPTS);
      await store.enroll([{ name: 'x', embeddings: [v(1, 0, 0, 0)] }, { name: 'y', embeddings: [v(0, 1, 0, 0), v(0, 0, 1, 0)] }]);
      await store.createIndex({ m: 4, efConstruction: 8 });
      const matchSends = async (query: Float32Array, approximate: boolean) => {
        const before = { ...sent };
        const got = await store.match(query, { approximate, topK: 2 });
        return { got, queries: sent.queries - before.queries, transactions: sent.transactions - before.transactions, scripts: sent.scripts - before.scripts };
      };
      // Hand-worked: (0.5, 0.5, 0, 0) is 0.5 from x and from y's first embedding.
      const first = await matchSends(v(0.5, 0.5, 0, 0), true);
      expect(first).toMatchObject({ queries: 0, transactions: 1, scripts: 0 });
      expect(first.got.candidates.map((c) => c.distance)).toEqual([0.5, 0.5]);
      for (const approximate of [true, false]) {
        const later = await matchSends(v(0, 0, 0.9, 0), approximate);
        expect(later).toMatchObject({ queries: 0, transactions: 0, scripts: 1 });
        expect(later.got.name).toBe('y'); // (1 − 0.9)² = 0.01
        expect(later.got.distance).toBeCloseTo(0.01, 6);
      }
      // A query the gallery cannot take: the checked path says what is wrong.
      await expect(store.match(v(Number.NaN, 0, 0, 0))).rejects.toThrow(ShapeError);
      await expect(store.match(v(1, 0, 0))).rejects.toThrow(ShapeError);
      // Another handle replaces the gallery, now without an index: the script sees it and the checked path refuses.
      await other.clear();
      await other.create({ ...OPTS, metric: 'cosine' });
      await other.enroll([{ name: 'z', embeddings: [v(0, 0, 0, 2)] }]);
      const before = { ...sent };
      await expect(store.match(v(0, 0, 0, 1), { approximate: true })).rejects.toThrow(/createIndex/);
      expect({ scripts: sent.scripts - before.scripts, transactions: sent.transactions - before.transactions }).toEqual({ scripts: 1, transactions: 1 });
      // The checked path learnt the new shape: an exact match goes as one script again.
      const exact = await matchSends(v(0, 0, 1, 1), false); // cosine: 1 − 2 / (2·√2)
      expect(exact).toMatchObject({ transactions: 0, scripts: 1 });
      expect(exact.got.distance).toBeCloseTo(1 - Math.SQRT1_2, 6);
    } finally {
      await store.close();
      await other.close();
    }
  });

  it('stages bulk loads only where PGlite keeps files in memory', () => {
    for (const dir of [undefined, 'memory://', 'idb://faces', 'memfs2opfs://faces']) expect(onMemoryFs(dir)).toBe(true);
    for (const dir of ['/var/faces', 'file:///var/faces', 'opfs-ahp://faces']) expect(onMemoryFs(dir)).toBe(false);
  });

  it('records its schema version, refuses a newer one and migrates an empty database once', async () => {
    await served.exec('DROP TABLE IF EXISTS facenet_embedding, facenet_identity, facenet_gallery, facenet_schema CASCADE');
    const { default: pg } = await import('pg');
    const client = pgPoolClient(new pg.Pool({ connectionString: serverUrl, max: 2 }), 'server');
    try {
      expect(await migrateGallerySchema(client)).toEqual({ from: 0, to: GALLERY_SCHEMA_VERSION });
      expect(await migrateGallerySchema(client)).toEqual({ from: GALLERY_SCHEMA_VERSION, to: GALLERY_SCHEMA_VERSION });
      await client.query('INSERT INTO facenet_schema (version) VALUES ($1)', [GALLERY_SCHEMA_VERSION + 1]);
      await expect(migrateGallerySchema(client)).rejects.toThrow(/schema version 2 is newer than this library's \(1\)/);
      await expect(openGalleryStore(serverUrl)).rejects.toThrow(IncompatibleFileError);
    } finally {
      await client.close();
    }
  });

  it('a pglite: folder keeps the gallery after every handle is closed', async () => {
    const store = await openGalleryStore(pgliteSpec);
    await store.clear();
    await store.create(OPTS);
    await store.enroll([{ name: 'kept', embeddings: [v(0, 0, 0, 1)], sources: ['k.jpg'], imageHashes: ['ab'.repeat(32)] }]);
    await store.close();
    await keeper!.close(); // the last handle: the database is closed
    keeper = undefined;
    const reopened = await openGalleryStore(pgliteSpec);
    try {
      expect(await reopened.identities()).toEqual([{ name: 'kept', count: 1 }]);
      expect((await reopened.load()).sourcesOf('kept')).toEqual(['k.jpg']);
    } finally {
      await reopened.close();
    }
  });

  it('names stores without their password, and refuses an empty pglite: folder', async () => {
    expect(redactConnectionString('postgres://me:pw@db.example:5432/faces')).toBe('postgres://me@db.example:5432/faces');
    expect(galleryStoreKind('postgresql://x/y')).toBe('postgres');
    expect(galleryStoreKind('faces.gallery')).toBe('file');
    await expect(openGalleryStore('pglite:')).rejects.toThrow(/pglite: needs a folder/);
  });
});

describe('hnswBuildMemoryMB', () => {
  it('gives the graph its estimated size (hand-worked), at least 64 MB and at most 1 GB', () => {
    // 4·128 + 8 + (2·16·16/15)·10 + 96 = 957.33 bytes per element; × 100,000 × 1.25 = 114.1 MB.
    expect(hnswBuildMemoryMB(100_000, 128, 16)).toBe(115);
    expect(hnswBuildMemoryMB(0, 128, 16)).toBe(64);
    expect(hnswBuildMemoryMB(10_000, 128, 16)).toBe(64);
    expect(hnswBuildMemoryMB(1_000_000, 512, 16)).toBe(1024);
    // A database configured with more keeps its own setting; one with less gets the estimate.
    expect(hnswBuildMemoryMB(1_000_000, 128, 16, 2048)).toBe(2048);
    expect(hnswBuildMemoryMB(100_000, 128, 16, 64)).toBe(115);
  });
});
