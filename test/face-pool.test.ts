/**
 * FacePool: detection and embedding jobs in worker threads give exactly what the calling
 * thread gives, failures come back typed and the pool goes on, and closing stops the workers.
 * Tiny scale (2 workers, a few real images): correctness, not speed (see bench/pool.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, FacenetError, FileNotFoundError } from '../src/errors.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import { loadMtcnn, type Mtcnn } from '../src/mtcnn/index.js';
import { FacePool, postMovingPixels, type PoolJobMessage, type PoolWorkerStats } from '../src/recognition/face-pool.js';
import { loadEmbedder } from '../src/recognition/models.js';
import type { FacenetEmbedder } from '../src/recognition/embedder.js';
import { setupBackend, sharedDir, sharedPath } from './helpers.js';

const groups = ['bbt2.jpg', 'bbt3.jpg', 'bbt5.jpg'].map((f) => sharedPath('data', 'samples', 'groups', f));
const portraits = ['amy/amy1.png', 'penny/penny1.png', 'leonard/leonard1.png'].map((f) => sharedPath('data', 'samples', 'people', f));

let pool: FacePool;
let mtcnn: Mtcnn;
let embedder: FacenetEmbedder;

beforeAll(async () => {
  await setupBackend();
  mtcnn = await loadMtcnn();
  embedder = await loadEmbedder('facenet-celeba');
  pool = await FacePool.start({ workers: 2, model: 'facenet-celeba' });
});

afterAll(async () => {
  await pool?.close();
  mtcnn?.dispose();
  embedder?.dispose();
});

describe('FacePool', () => {
  it('runs two workers, and detects exactly what the calling thread detects (files and pixels)', async () => {
    expect(pool.size).toBe(2);
    const fromFiles = await Promise.all(groups.map((f) => pool.detect(f)));
    for (let i = 0; i < groups.length; i++) {
      expect(fromFiles[i].length).toBeGreaterThan(0);
      expect(fromFiles[i]).toEqual(await mtcnn.detect(groups[i]));
    }
    const raw = await decodeImageFile(groups[0]);
    const pixels = { data: raw.data as Uint8Array, width: raw.width, height: raw.height };
    expect(await pool.detect(pixels)).toEqual(await mtcnn.detect(pixels));
    // Per-call options reach the worker: a larger minimum face size finds no more faces.
    const big = await pool.detect(groups[1], { minFaceSize: 400 });
    expect(big).toEqual(await mtcnn.detect(groups[1], { minFaceSize: 400 }));
    expect(big.length).toBeLessThan(fromFiles[1].length);
  });

  it('tracks from earlier boxes exactly as Mtcnn.track does', async () => {
    const faces = await mtcnn.detect(groups[2]);
    const boxes = faces.map((f) => f.box);
    expect(await pool.track(groups[2], boxes)).toEqual(await mtcnn.track(groups[2], boxes));
  });

  it('embeds the main face exactly as the embedder does, jobs spread over both workers', async () => {
    const jobs = [...portraits, ...portraits];
    const got = await Promise.all(jobs.map((f) => pool.embed(f)));
    const want = await embedder.embed(jobs);
    expect(got.map((e) => Array.from(e))).toEqual(want.map((e) => Array.from(e)));
    expect(got[0].length).toBe(128);
    const all = await pool.embedAllFaces(groups[0]);
    const allHere = await embedder.embedAllFaces(groups[0]);
    expect(all.map((f) => f.detection)).toEqual(allHere.map((f) => f.detection));
    expect(all.map((f) => Array.from(f.embedding))).toEqual(allHere.map((f) => Array.from(f.embedding)));
  });

  it('reports a bad image as a typed error naming it and goes on with the next job', async () => {
    const missing = join(sharedDir(), 'data', 'samples', 'no-such-image.jpg');
    const results = await Promise.allSettled([pool.detect(missing), pool.detect(groups[0]), pool.embed(missing)]);
    expect(results[0].status).toBe('rejected');
    const err = (results[0] as PromiseRejectedResult).reason;
    // Decoded by the pool in this thread: the library's own error class, not a copy from a worker.
    expect(err).toBeInstanceOf(FileNotFoundError);
    expect((err as FacenetError).code).toBe('FILE_NOT_FOUND');
    expect((err as Error).message).toContain('no-such-image.jpg');
    expect(results[1].status).toBe('fulfilled');
    expect(results[2].status).toBe('rejected');
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'FILE_NOT_FOUND' });
    // The failed decodes (one of them ahead of its job's turn) left both workers alive.
    expect((await pool.workerStats()).length).toBe(2);
    // A file without a face: the worker's error names the file, which it got as pixels.
    const dir = await mkdtemp(join(tmpdir(), 'face-pool-'));
    try {
      const blank = join(dir, 'blank.png');
      await sharp({ create: { width: 160, height: 160, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(blank);
      const noFace = await pool.embed(blank).catch((e: unknown) => e);
      expect(noFace).toMatchObject({ code: 'NO_FACE' });
      expect((noFace as Error).message).toContain(blank);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives the jobs a dead worker had not started to the other worker', async () => {
    const two = await FacePool.start({ workers: 2 });
    const raw = await Promise.all(groups.slice(0, 2).map((f) => decodeImageFile(f)));
    const pixels = raw.map((r) => ({ data: r.data as Uint8Array, width: r.width, height: r.height }));
    try {
      // First one job to each worker (pixels: sent at once), then a second, file job to each:
      // worker 0 runs job 0 and holds job 2.
      const jobs = [pixels[0]!, pixels[1]!, groups[2], groups[0]].map((f) => two.detect(f));
      const first = (two as unknown as { workers: { worker: { terminate(): Promise<number> } }[] }).workers[0];
      await first.worker.terminate();
      const settled = await Promise.allSettled(jobs);
      expect(settled[0].status).toBe('rejected');
      expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'WORKER' });
      expect(settled.slice(1).map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      expect((settled[2] as PromiseFulfilledResult<unknown>).value).toEqual(await mtcnn.detect(groups[2]));
    } finally {
      await two.close();
    }
  });

  it('hands each worker the job it runs and the next file job; the rest wait in the pool', async () => {
    const one = await FacePool.start({ workers: 1 });
    try {
      const jobs = [groups[0], groups[1], groups[2], groups[0]].map((f) => one.detect(f));
      expect(one.waiting).toBe(2);
      const got = await Promise.all(jobs);
      expect(one.waiting).toBe(0);
      expect(got[3]).toEqual(got[0]);
      expect(got[1]).toEqual(await mtcnn.detect(groups[1]));
      // Decoded pixels wait in the pool: the worker holds only the one it runs.
      const raw = await decodeImageFile(groups[0]);
      const pixels = { data: raw.data as Uint8Array, width: raw.width, height: raw.height };
      const frames = [pixels, pixels, pixels].map((p) => one.detect(p));
      expect(one.waiting).toBe(2);
      await Promise.all(frames);
    } finally {
      await one.close();
    }
  });

  it('without a model, embedding jobs fail with POOL_NO_MODEL; after close() jobs are refused', async () => {
    const bare = await FacePool.start({ workers: 1 });
    await expect(bare.embed(portraits[0])).rejects.toMatchObject({ code: 'POOL_NO_MODEL' });
    // Even for a file that cannot be read: the missing model is the fault, checked first.
    await expect(bare.embed(join(sharedDir(), 'no-such-image.jpg'))).rejects.toMatchObject({ code: 'POOL_NO_MODEL' });
    expect((await bare.detect(portraits[0])).length).toBe(1);
    await bare.close();
    await expect(bare.detect(portraits[0])).rejects.toBeInstanceOf(DisposedError);
    await expect(FacePool.start({ workers: 0 })).rejects.toMatchObject({ code: 'CONFIG' });
  });

  it("reports each worker's garbage collections and heap; checks initialHeapMB", async () => {
    const frames = await Promise.all(groups.map((f) => decodeImageFile(f)));
    const one = await FacePool.start({ workers: 1, initialHeapMB: 0 });
    try {
      await one.detect(frames[0]!);
      const [before] = await one.workerStats();
      const collections = (s: PoolWorkerStats) => s.minorCollections + s.majorCollections;
      // How many frames fill the young generation depends on the heap V8 chose: detect until a
      // collection is counted, up to 60 frames (10 were not always enough).
      let after = before!;
      for (let i = 0; i < 60 && collections(after) === collections(before!); i++) {
        await one.detect(frames[i % frames.length]!);
        [after] = (await one.workerStats()) as [PoolWorkerStats];
      }
      expect(after.heapUsedMB).toBeGreaterThan(1);
      expect(collections(after)).toBeGreaterThan(collections(before!));
    } finally {
      await one.close();
    }
    await expect(one.workerStats()).rejects.toBeInstanceOf(DisposedError);
    await expect(FacePool.start({ workers: 1, initialHeapMB: -1 })).rejects.toMatchObject({ code: 'CONFIG' });
  });
});

describe('postMovingPixels', () => {
  const lfwFile = sharedPath('data', 'lfw', 'Aaron_Eckhart', 'Aaron_Eckhart_0001.jpg');

  it('moves pixels the pool decoded itself: the worker gets them, this thread keeps no copy', async () => {
    const decoded = await decodeImageFile(lfwFile); // a small JPEG: decoded in WebAssembly
    const expected = Uint8Array.from(decoded.data);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<PoolJobMessage>((resolve) => port2.once('message', resolve));
    postMovingPixels(port1, { type: 'job', job: { id: 1, kind: 'embed', image: lfwFile, aligned: false }, decoded });
    const got = await received;
    port1.close();
    expect(decoded.data.buffer.byteLength).toBe(0); // detached: moved, not copied
    expect(Buffer.compare(Buffer.from(got.decoded!.data), Buffer.from(expected))).toBe(0);
  });

  it('sends a copy when the transfer is refused (Node 21 and later refuse sharp’s buffers)', async () => {
    const decoded = await decodeImageFile(groups[0]!); // large: decoded by sharp
    const sent: unknown[][] = [];
    const refusing = {
      postMessage(message: unknown, transfer?: readonly unknown[]) {
        if (transfer?.length) throw new DOMException('Cannot transfer object of unsupported type.', 'DataCloneError');
        sent.push([message, transfer]);
      },
    };
    postMovingPixels(refusing as Pick<Worker, 'postMessage'>, { type: 'job', job: { id: 2, kind: 'detect', image: groups[0]! }, decoded });
    expect(sent).toHaveLength(1);
    expect(decoded.data.byteLength).toBe(decoded.width * decoded.height * 3);
    const failing = { postMessage() { throw new TypeError('port closed'); } };
    expect(() => postMovingPixels(failing as unknown as Pick<Worker, 'postMessage'>, { type: 'job', job: { id: 2, kind: 'detect', image: groups[0]! }, decoded })).toThrow(TypeError);
  });
});
