/**
 * The weights downloader against a local HTTP server (127.0.0.1, random port) that serves
 * the real files from ../shared/weights under their upstream paths
 * (`/<owner>/<repo>/<commit>/<path>`). No other host is contacted.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEIGHT_SETS, WEIGHT_SET_NAMES, weightFileUrl, type WeightSetName } from '../src/weights/catalog.js';
import { downloadWeights, resolveWeightsDir, verifyWeights, type DownloadProgress } from '../src/weights/download.js';
import { ChecksumError, DownloadError, FileNotFoundError, ConfigError } from '../src/errors.js';
import { sharedPath } from './helpers.js';
// runCli is asynchronous, so this process's download server keeps answering meanwhile.
import { runCli as cli } from './cli-helpers.js';

type Mode = 'ok' | 'corrupt' | '404' | 'cut';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** URL path (as upstream lays it out) → the shared copy of that file. */
const routes = new Map<string, string>();
for (const name of WEIGHT_SET_NAMES) {
  const set = WEIGHT_SETS[name];
  for (const f of set.files) {
    const url = weightFileUrl(f, 'http://x');
    if (url) routes.set(new URL(url).pathname, sharedPath('weights', set.folder, f.name));
  }
}

let server: Server;
let baseUrl: string;
/** How the server answers each path (default `ok`). */
const modes = new Map<string, Mode>();
/** Requests received per path. */
const hits = new Map<string, number>();
const totalHits = () => [...hits.values()].reduce((a, b) => a + b, 0);

/** The corrupted body served in `corrupt` mode: byte 100 flipped. */
function corrupted(bytes: Buffer): Buffer {
  const c = Buffer.from(bytes);
  c[100] ^= 0xff;
  return c;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://local').pathname);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = routes.get(path);
    const mode = modes.get(path) ?? 'ok';
    if (!file || mode === '404') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404: Not Found');
      return;
    }
    const bytes = readFileSync(file);
    if (mode === 'cut') {
      // Promise the whole file, send half of it, then drop the connection.
      res.writeHead(200, { 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, bytes.length >> 1), () => {
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    const body = mode === 'corrupt' ? corrupted(bytes) : bytes;
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  modes.clear();
  hits.clear();
});

const tempDirs: string[] = [];
const newCache = () => {
  const d = mkdtempSync(join(tmpdir(), 'facenet-weights-'));
  tempDirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
const pathOf = (set: WeightSetName, i: number) => new URL(weightFileUrl(WEIGHT_SETS[set].files[i], baseUrl)!).pathname;
/** Every file under `dir`, recursively, relative names. */
const listAll = (dir: string): string[] =>
  existsSync(dir) ? (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name).slice(dir.length + 1))
    .sort() : [];

describe('weights catalog', () => {
  it('pins sizes and checksums that match the shared copies', async () => {
    for (const name of WEIGHT_SET_NAMES) {
      const checks = await verifyWeights(name, sharedPath('weights', WEIGHT_SETS[name].folder));
      expect(checks.map((c) => [c.name, c.status])).toEqual(WEIGHT_SETS[name].files.map((f) => [f.name, 'ok']));
    }
  });

  it('builds upstream raw URLs pinned to a commit', () => {
    expect(weightFileUrl(WEIGHT_SETS.caffe.files[0])).toBe(
      'https://raw.githubusercontent.com/davidsandberg/facenet/096ed770f163957c1e56efa7feeb194773920f6e/src/align/det1.npy',
    );
    expect(weightFileUrl(WEIGHT_SETS.faceapi.files[1], 'http://mirror/')).toBe(
      'http://mirror/justadudewhohacks/face-api.js/a86f011d72124e5fb93e59d5c4ab98f699dd5c9c/weights/mtcnn_model-shard1',
    );
  });
});

describe('downloadWeights', () => {
  it('downloads and verifies every set, then serves them from the cache without refetching', async () => {
    const cacheDir = newCache();
    const sourced = WEIGHT_SET_NAMES.flatMap((n) => WEIGHT_SETS[n].files.filter((f) => f.source));
    for (const set of WEIGHT_SET_NAMES) {
      const events: DownloadProgress[] = [];
      const r = await downloadWeights({ set, cacheDir, baseUrl, onProgress: (p) => events.push(p) });
      expect(r.dir).toBe(join(cacheDir, WEIGHT_SETS[set].folder));
      expect(r.files.every((f) => f.fetched)).toBe(true);
      for (const f of WEIGHT_SETS[set].files) {
        const got = readFileSync(join(r.dir, f.name));
        expect(got.equals(readFileSync(sharedPath('weights', WEIGHT_SETS[set].folder, f.name)))).toBe(true);
      }
      expect(events.filter((e) => e.phase === 'done').map((e) => e.file)).toEqual(WEIGHT_SETS[set].files.map((f) => f.name));
      const lastBytes = events.filter((e) => e.phase === 'bytes').at(-1)!;
      expect(lastBytes.receivedBytes).toBe(lastBytes.totalBytes);
    }
    // One request per published file (the seed's checkpoint pointers are written locally).
    expect(totalHits()).toBe(sourced.length);
    expect(sourced.length).toBe(11);
    // No temp files left behind.
    expect(listAll(cacheDir).filter((n) => n.includes('.part'))).toEqual([]);

    hits.clear();
    for (const set of WEIGHT_SET_NAMES) {
      const events: DownloadProgress[] = [];
      const r = await downloadWeights({ set, cacheDir, baseUrl, onProgress: (p) => events.push(p) });
      expect(r.files.some((f) => f.fetched)).toBe(false);
      expect(new Set(events.map((e) => e.phase))).toEqual(new Set(['cached']));
    }
    expect(totalHits()).toBe(0);
  });

  it('re-fetches only a cached file that no longer verifies', async () => {
    const cacheDir = newCache();
    await downloadWeights({ set: 'caffe', cacheDir, baseUrl });
    writeFileSync(join(cacheDir, 'mtcnn-caffe', 'det1.npy'), 'damaged');
    hits.clear();
    const r = await downloadWeights({ set: 'caffe', cacheDir, baseUrl });
    expect(r.files.map((f) => f.fetched)).toEqual([true, false, false]);
    expect([...hits.keys()]).toEqual([pathOf('caffe', 0)]);
    expect(sha256(readFileSync(join(cacheDir, 'mtcnn-caffe', 'det1.npy')))).toBe(WEIGHT_SETS.caffe.files[0].sha256);
  });

  it('rejects corrupted bytes with a ChecksumError and leaves no file in the cache', async () => {
    const cacheDir = newCache();
    modes.set(pathOf('caffe', 1), 'corrupt');
    const err = await downloadWeights({ set: 'caffe', cacheDir, baseUrl }).catch((e) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    const expectedBad = sha256(corrupted(readFileSync(sharedPath('weights/mtcnn-caffe/det2.npy'))));
    expect(err.file).toBe('mtcnn-caffe/det2.npy');
    expect(err.expected).toBe('716b8b83e42476791c9096f14dbb09fefc88bf5c7ec876b1683f9acd52b3f39c');
    expect(err.actual).toBe(expectedBad);
    expect(err.message).toContain('det2.npy');
    expect(err.message).toContain(expectedBad);
    // det1 (before the bad file) landed; det2 left nothing, not even a temp file.
    expect(listAll(cacheDir)).toEqual([join('mtcnn-caffe', 'det1.npy')]);
  });

  it('reports an HTTP 404 as a DownloadError naming the URL and status', async () => {
    const cacheDir = newCache();
    modes.set(pathOf('faceapi', 0), '404');
    const err = await downloadWeights({ set: 'faceapi', cacheDir, baseUrl }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    const url = weightFileUrl(WEIGHT_SETS.faceapi.files[0], baseUrl)!;
    expect(err.url).toBe(url);
    expect(err.status).toBe(404);
    expect(err.message).toContain(url);
    expect(err.message).toContain('404');
    expect(listAll(cacheDir)).toEqual([]);
    // Not even the set's empty folder is left behind (it would look like an installed set).
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('turns a connection cut mid-body into a DownloadError and leaves no partial file', async () => {
    const cacheDir = newCache();
    modes.set(pathOf('seed', 7), 'cut'); // ONet-14.data, 3.1 MB
    const err = await downloadWeights({ set: 'seed', cacheDir, baseUrl }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.url).toBe(weightFileUrl(WEIGHT_SETS.seed.files[7], baseUrl));
    expect(err.status).toBeUndefined();
    const files = listAll(cacheDir);
    expect(files.some((n) => n.includes('ONet-14.data') || n.includes('.part'))).toBe(false);
    // Files before the cut one are in place and complete.
    expect(files).toContain(join('mtcnn-seed', 'ONet', 'ONet-14.index'));
  });

  it('rejects an unknown set name', async () => {
    await expect(downloadWeights({ set: 'vgg' as WeightSetName, cacheDir: newCache(), baseUrl })).rejects.toBeInstanceOf(
      ConfigError,
    );
  });
});

describe('resolveWeightsDir', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });
  beforeEach(() => {
    delete process.env.TFJS_FACENET_WEIGHTS;
    process.env.TFJS_FACENET_SHARED = saved.TFJS_FACENET_SHARED;
    if (saved.TFJS_FACENET_SHARED === undefined) delete process.env.TFJS_FACENET_SHARED;
  });
  const sharedWeights = () => sharedPath('weights');

  it('takes an explicit weights root or set folder first', async () => {
    expect(await resolveWeightsDir('caffe', { weightsDir: sharedWeights() })).toBe(join(sharedWeights(), 'mtcnn-caffe'));
    const setDir = join(sharedWeights(), 'mtcnn-seed');
    expect(await resolveWeightsDir('seed', { weightsDir: setDir })).toBe(setDir);
  });

  it('fails naming the folder when an explicit one lacks the set', async () => {
    const empty = newCache();
    const err = await resolveWeightsDir('caffe', { weightsDir: empty }).catch((e) => e);
    expect(err).toBeInstanceOf(FileNotFoundError);
    expect(err.path).toBe(empty);
    process.env.TFJS_FACENET_WEIGHTS = empty;
    await expect(resolveWeightsDir('faceapi')).rejects.toThrow(/TFJS_FACENET_WEIGHTS/);
  });

  it('uses TFJS_FACENET_WEIGHTS, then the shared folder, then the cache', async () => {
    process.env.TFJS_FACENET_WEIGHTS = sharedWeights();
    expect(await resolveWeightsDir('faceapi', { cacheDir: '/nonexistent' })).toBe(join(sharedWeights(), 'mtcnn-faceapi'));
    delete process.env.TFJS_FACENET_WEIGHTS;
    expect(await resolveWeightsDir('faceapi', { cacheDir: '/nonexistent' })).toBe(join(sharedWeights(), 'mtcnn-faceapi'));

    // With no shared folder, the cache is used once the set is downloaded there.
    process.env.TFJS_FACENET_SHARED = newCache();
    const cacheDir = newCache();
    const err = await resolveWeightsDir('caffe', { cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(FileNotFoundError);
    expect(err.message).toContain('tfjs-facenet weights download caffe');
    await downloadWeights({ set: 'caffe', cacheDir, baseUrl });
    expect(await resolveWeightsDir('caffe', { cacheDir })).toBe(join(cacheDir, 'mtcnn-caffe'));
  });

  it('finds a set only when every file is present', async () => {
    process.env.TFJS_FACENET_SHARED = newCache();
    const cacheDir = newCache();
    await downloadWeights({ set: 'caffe', cacheDir, baseUrl });
    rmSync(join(cacheDir, 'mtcnn-caffe', 'det3.npy'));
    await expect(resolveWeightsDir('caffe', { cacheDir })).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('falls back to the faceapi set shipped in the package, and to no ../shared unless TFJS_FACENET_SHARED names it', async () => {
    const cacheDir = newCache();
    delete process.env.TFJS_FACENET_SHARED;
    const shipped = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'models', 'mtcnn');
    expect(await resolveWeightsDir('faceapi', { cacheDir })).toBe(shipped);
    // The shipped copy is the catalog's set, byte for byte.
    expect((await verifyWeights('faceapi', shipped)).map((c) => c.status)).toEqual(['ok', 'ok']);
    // The tests' data folder holds caffe, but without the setting it is not looked at.
    const err = await resolveWeightsDir('caffe', { cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(FileNotFoundError);
    expect(err.message).not.toContain('shared');
  });
});

describe('verifyWeights', () => {
  it('tells missing, wrong-size and wrong-checksum files apart', async () => {
    const dir = join(newCache(), 'mtcnn-caffe');
    mkdirSync(dir);
    const det1 = readFileSync(sharedPath('weights/mtcnn-caffe/det1.npy'));
    writeFileSync(join(dir, 'det1.npy'), det1);
    writeFileSync(join(dir, 'det2.npy'), det1); // wrong size
    writeFileSync(join(dir, 'det3.npy'), Buffer.alloc(1557360)); // right size, zeros
    const checks = await verifyWeights('caffe', dir);
    expect(checks.map((c) => c.status)).toEqual(['ok', 'size', 'checksum']);
    expect(checks[1].actual).toBe('27368');
    expect(checks[2].actual).toBe(sha256(Buffer.alloc(1557360)));
    rmSync(join(dir, 'det1.npy'));
    expect((await verifyWeights('caffe', dir))[0].status).toBe('missing');
  });
});

describe('tfjs-facenet weights (CLI)', () => {
  it('downloads, locates and verifies a set; a 404 exits 3 (nothing could be done) with the URL', async () => {
    const cacheDir = newCache();
    const emptyShared = newCache();
    const env = { TFJS_FACENET_SHARED: emptyShared };
    const dl = await cli(['weights', 'download', 'faceapi', '--cache', cacheDir, '--base-url', baseUrl], env);
    expect(dl.stderr).toBe('');
    expect(dl.code).toBe(0);
    expect(dl.stdout).toContain(`faceapi: ${join(cacheDir, 'mtcnn-faceapi')} (2 files`);
    expect(dl.stdout).toContain('2 fetched, 0 already cached');

    const where = await cli(['weights', 'path', 'faceapi', '--cache', cacheDir], env);
    expect(where.stdout.split('\n')[0]).toBe(`faceapi\t${join(cacheDir, 'mtcnn-faceapi')}`);

    const ok = await cli(['weights', 'verify', 'faceapi', '--cache', cacheDir], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('2/2 ok');
    writeFileSync(join(cacheDir, 'mtcnn-faceapi', 'mtcnn_model-shard1'), 'x');
    const bad = await cli(['weights', 'verify', 'faceapi', '--cache', cacheDir], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('mtcnn_model-shard1: size (1 bytes)');

    modes.set(pathOf('caffe', 0), '404');
    const missing = await cli(['weights', 'download', 'caffe', '--cache', cacheDir, '--base-url', baseUrl], env);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(weightFileUrl(WEIGHT_SETS.caffe.files[0], baseUrl)!);
    expect(missing.stderr).toContain('HTTP 404');
  });
});
