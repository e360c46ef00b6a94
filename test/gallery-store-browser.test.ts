/**
 * A database gallery in the browser, as the shared-gallery guide shows it: `SqlGalleryStore`
 * over PGlite in IndexedDB (`idb://`), in Debian's Chromium (headless, Playwright). The page
 * imports the library's main entry (bundled by esbuild) and PGlite with pgvector as published
 * (served from node_modules through an import map). It enrols people and a bulk load larger
 * than the in-memory file system's old staging threshold, matches, is reloaded, and must find
 * the same gallery in IndexedDB and give the same answers.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The page's script: one step of the test per call, each opening and closing the database. */
const APP = `
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { SqlGalleryStore, pgliteClient } from './src/index.ts';

const DIMENSION = 128;
/** A unit vector from a seed (xorshift32), the same in every run. */
function unitVector(seed) {
  let x = seed * 2654435761 >>> 0 || 1;
  const v = new Float32Array(DIMENSION);
  for (let i = 0; i < DIMENSION; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    v[i] = x / 4294967296 - 0.5;
  }
  const n = Math.hypot(...v);
  return v.map((a) => a / n);
}

/** \`count\` people named prefix-0, prefix-1, …, each with \`perPerson\` embeddings seeded from \`firstSeed\` on. */
function syntheticPeople(prefix, count, perPerson, firstSeed) {
  const out = [];
  for (let p = 0; p < count; p++) {
    const embeddings = [];
    for (let k = 0; k < perPerson; k++) embeddings.push(unitVector(firstSeed + p * perPerson + k));
    out.push({ name: prefix + '-' + p, embeddings });
  }
  return out;
}

window.galleryStep = async (step, people, bulkPeople, perPerson) => {
  // As the shared-gallery guide has it: a database not yet ready when the client gets it.
  const db = new PGlite('idb://tfjs-facenet-gallery-test', { extensions: { vector } });
  const store = await SqlGalleryStore.open(pgliteClient(db));
  const mended = Boolean(db.Module.FS.filesystems.MEMFS[Symbol.for('tfjs-facenet.memfs-grows-geometrically')]);
  if (step === 'enroll') {
    await store.create({ dimension: DIMENSION });
    await store.enroll(people.map((name, i) => ({ name, embeddings: [unitVector(i + 1)] })));
    // Many rows in one transaction (four COPYs of 10,000), past 16 MB of table.
    await store.enroll(syntheticPeople('bulk', bulkPeople, perPerson, 1000));
  }
  if (step === 'more') {
    // Rows added after the reload go where PostgreSQL's free-space map points, into the table as it came back.
    await store.enroll(syntheticPeople('more', 20, perPerson, 900000));
  }
  const identities = await store.identities();
  const matched = [];
  for (let i = 0; i < people.length; i++) matched.push((await store.match(unitVector(i + 1), { threshold: 0.01 })).name);
  const bytes = (await db.query("SELECT pg_relation_size('facenet_embedding')::float8 AS b")).rows[0].b;
  await store.close();
  return { mended, matched, count: identities.length, rows: identities.reduce((n, x) => n + x.count, 0), bytes };
};
window.ready = true;
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>gallery store</title>
<script type="importmap">{ "imports": {
  "@electric-sql/pglite": "/pglite/index.js",
  "@electric-sql/pglite-pgvector": "/pgvector/index.js"
} }</script>
<script type="module" src="/app.js"></script>`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.data': 'application/octet-stream',
  '.gz': 'application/gzip',
  '.map': 'application/json',
};

let server: Server;
let browser: Browser;
let page: Page;
let origin: string;

beforeAll(async () => {
  const bundle = await build({
    stdin: { contents: APP, resolveDir: ROOT, sourcefile: 'gallery-app.js', loader: 'js' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    external: ['@electric-sql/pglite', '@electric-sql/pglite-pgvector'],
    logLevel: 'silent',
  });
  const app = bundle.outputFiles[0]!.contents;
  const served: Record<string, string> = {
    '/pglite/': join(ROOT, 'node_modules/@electric-sql/pglite/dist'),
    '/pgvector/': join(ROOT, 'node_modules/@electric-sql/pglite-pgvector/dist'),
  };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const reply = (status: number, type: string, body: Uint8Array | string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/') return reply(200, 'text/html', PAGE);
    if (path === '/app.js') return reply(200, 'text/javascript', app);
    const prefix = Object.keys(served).find((p) => path.startsWith(p));
    if (!prefix) return reply(404, 'text/plain', 'not found');
    const file = normalize(join(served[prefix]!, path.slice(prefix.length)));
    if (!file.startsWith(served[prefix]!)) return reply(403, 'text/plain', 'outside');
    readFile(file).then(
      (body) => reply(200, TYPES[extname(file)] ?? 'application/octet-stream', body),
      () => reply(404, 'text/plain', 'not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  origin = `http://127.0.0.1:${address.port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function load(): Promise<void> {
  await page.goto(origin);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, undefined, { timeout: 120_000 });
}

interface StepResult {
  mended: boolean;
  matched: (string | null)[];
  count: number;
  rows: number;
  bytes: number;
}

function step(name: 'enroll' | 'reopen' | 'more'): Promise<StepResult> {
  const people = ['amy', 'leonard', 'penny'];
  return page.evaluate(
    ([s, p]) => (window as unknown as { galleryStep(...a: unknown[]): Promise<StepResult> }).galleryStep(s, p, 400, 100),
    [name, people] as const,
  );
}

describe('SqlGalleryStore over PGlite in IndexedDB, in Chromium', () => {
  it('enrols, matches, and finds the same gallery after a reload', async () => {
    await load();
    const first = await step('enroll');
    expect(first.mended).toBe(true);
    expect(first.matched).toEqual(['amy', 'leonard', 'penny']);
    expect(first.count).toBe(403);
    expect(first.rows).toBe(3 + 400 * 100);
    expect(first.bytes).toBeGreaterThan(16 * 2 ** 20);
    await load(); // a new page: nothing in memory, the database comes back from IndexedDB
    const again = await step('reopen');
    expect(again).toEqual(first);
    const more = await step('more');
    expect(more.rows).toBe(first.rows + 20 * 100);
    expect(more.matched).toEqual(first.matched);
  }, 600_000);
});
