/**
 * Two `tfjs-facenet enroll` processes writing one database gallery at once, as the guide
 * docs/guides/shared-gallery.md shows: PGlite served over the PostgreSQL wire protocol
 * (@electric-sql/pglite-socket, what `pglite-server` runs) and reached with `postgres://`.
 * Both enrol amy's two portraits and one other person each: amy's portraits must land once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { sharedPath } from './helpers.js';
import { runCli } from './cli-helpers.js';
import { saveTinyModel } from './tiny-embedder.js';
import { openGalleryStore } from '../src/gallery/open-store.js';

let tmp: string;
let db: PGlite;
let server: PGLiteSocketServer;
let url: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'store-processes-'));
  db = await PGlite.create(join(tmp, 'faces-db'), { extensions: { vector } });
  server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  url = `postgres://postgres@${server.getServerConn()}/postgres`;
}, 600_000);

afterAll(async () => {
  await server?.stop();
  await db?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('two enroll processes on one served PGlite gallery', () => {
  it('keep both runs, amy once; a repeat adds nothing; a third process identifies', async () => {
    const modelDir = join(tmp, 'model');
    await saveTinyModel(modelDir, 5);
    const images = (p: string) => [1, 2].map((i) => join(sharedPath('data', 'samples', 'people', p), `${p}${i}.png`));
    const run = (p: string) => runCli(['enroll', '--gallery', url, '--model', modelDir, '--name', 'amy', ...images('amy')]).then(async (first) => ({
      first,
      second: await runCli(['enroll', '--gallery', url, '--model', modelDir, '--name', p, ...images(p)]),
    }));
    const runs = await Promise.all([run('raj'), run('penny')]);
    for (const r of runs) {
      for (const x of [r.first, r.second]) {
        expect(x.stderr).toBe('');
        expect(x.code).toBe(0);
      }
    }
    // Whichever process was second to enrol amy found her portraits already there.
    const amyRuns = runs.map((r) => r.first.stdout.match(/enrolled (\d) image\(s\), 0 failed, (\d) already enrolled/)!.slice(1).map(Number));
    expect(amyRuns.map(([added]) => added).sort()).toEqual([0, 2]);
    const store = await openGalleryStore(url);
    try {
      const ids = await store.identities();
      expect(Object.fromEntries(ids.map((i) => [i.name, i.count]))).toEqual({ amy: 2, raj: 2, penny: 2 });
      const sources = await store.sourcesOf(['amy', 'raj']);
      expect(sources.get('amy')).toEqual(images('amy').map((f) => resolve(f)));
      expect(sources.get('raj')).toEqual(images('raj').map((f) => resolve(f)));
    } finally {
      await store.close();
    }
    const again = await runCli(['enroll', '--gallery', url, '--name', 'raj', ...images('raj')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/3 identities, 6 embeddings/);
    expect(again.stdout).toMatch(/enrolled 0 image\(s\), 0 failed, 2 already enrolled/);
    const id = await runCli(['identify', '--gallery', url, '--json', images('penny')[0]!]);
    expect(id.code).toBe(0);
    const face = JSON.parse(id.stdout.trim()).faces[0];
    expect(face.name).toBe('penny'); // an enrolled photo: distance ≈ 0
    expect(face.distance).toBeLessThan(1e-3);
  }, 900_000);
});
