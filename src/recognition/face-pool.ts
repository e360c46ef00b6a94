/**
 * A pool of worker threads for detection and embedding jobs (Node): each worker runs its own
 * TensorFlow.js backend (one tfjs-wasm instance per thread, which has no threads of its own
 * in Node) with its own MTCNN and, on the first embedding job, its own recognition model.
 * Jobs go to whichever worker is free, so on a machine with k cores up to k images are
 * processed at once; a worker may also hold the next file job, whose image the pool decodes
 * in the calling thread while the worker runs the current one. Results come back to the
 * caller that asked, in any order.
 *
 * ```ts
 * const pool = await FacePool.start({ workers: 2, model: 'default' });
 * const all = await Promise.all(files.map((f) => pool.detect(f)));
 * const embeddings = await Promise.all(files.map((f) => pool.embed(f)));
 * await pool.close();
 * ```
 *
 * Results equal what `Mtcnn.detect` / `track` and `FacenetEmbedder.embed` /
 * `embedAllFaces` return in the calling thread with the same settings.
 */
import type { Worker } from 'node:worker_threads';
import * as nodeUrl from 'node:url';
import { ConfigError, DisposedError, FacenetError } from '../errors.js';
import { startWorker, withInitialOldSpace } from '../runtime/workers.js';
import { nodeBuiltins } from '../runtime/node-platform.js';
import type { BackendName } from '../runtime/backend.js';
import type { LoadMtcnnOptions } from '../mtcnn/detector.js';
import type { MtcnnOptions } from '../mtcnn/pipeline-types.js';
import type { Box, FaceDetection } from '../face/types.js';
import type { FaceEmbedding, Preprocessing } from '../face/embedding.js';
import { modelFolder } from './models.js';
import { decodeImageFile, type DecodedImage } from '../image/decode-node.js';

/** Options of {@link FacePool.start}. */
export interface FacePoolOptions {
  /** Worker threads. Default: the number of CPU cores (`os.availableParallelism()`). */
  workers?: number;
  /** Detector of every worker (weights and settings), as for `loadMtcnn`. */
  detector?: LoadMtcnnOptions;
  /**
   * Recognition model for embedding jobs: a shipped model's name (`default`, `dlib`, …) or a
   * model folder. Default: none — then embedding jobs fail with code `POOL_NO_MODEL`.
   */
  model?: string;
  /** Preprocessing changes for the recognition model (as `loadFacenetEmbedder`'s), e.g. a gallery's. */
  preprocessing?: Partial<Preprocessing>;
  /** Backend of every worker. Default: as `initBackend` chooses (wasm in Node without tfjs-node). */
  backend?: BackendName;
  /**
   * Old generation each worker's JavaScript heap starts with, in MB (V8's
   * `--initial-old-space-size`, set only while the workers start). Default 128: a detector's
   * heap sized by V8 itself ran a full garbage collection about every fifth frame. 0: V8's
   * own sizing. A process started with that flag keeps its own value.
   */
  initialHeapMB?: number;
}

/** What {@link FacePool.workerStats} reports of one worker. */
export interface PoolWorkerStats {
  /** Young-generation (minor) and full (major) garbage collections since the worker started. */
  minorCollections: number;
  majorCollections: number;
  /** The worker's JavaScript heap in use, MB. */
  heapUsedMB: number;
}

/**
 * An image for a pool job: a file path (decoded by the pool, ahead of the worker that runs
 * the job) or decoded pixels (copied to the worker).
 */
export type PoolImage = string | { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels?: 3 | 4 };

/** What {@link FacePool.detectImage} returns. */
export interface PoolDetection {
  faces: FaceDetection[];
  /** The image's width and height in its own pixels (what the boxes refer to). */
  width: number;
  height: number;
}

/** @internal A job as sent to a worker. */
export type PoolJob = { id: number } & PoolJobSpec;

/**
 * @internal A job message to a worker: the job and, for a file the pool decoded, its pixels
 * (the job keeps the path, for error messages; boxes go back in the file's own pixels).
 */
export interface PoolJobMessage {
  type: 'job';
  job: PoolJob;
  decoded?: DecodedImage;
}

/** @internal A job before it has an id. */
export type PoolJobSpec =
  | { kind: 'detect'; image: PoolImage; options?: MtcnnOptions }
  | { kind: 'track'; image: PoolImage; previous: Box[]; options?: MtcnnOptions }
  | { kind: 'embed'; image: PoolImage; aligned: boolean }
  | { kind: 'embedAll'; image: PoolImage };

/** @internal What a worker sends back for a job. */
export type PoolJobResult =
  | { kind: 'detect'; faces: FaceDetection[]; width: number; height: number }
  | { kind: 'track'; faces: FaceDetection[] }
  | { kind: 'embed'; embedding: Float32Array }
  | { kind: 'embedAll'; faces: FaceEmbedding[] };

/** @internal An error thrown in a worker, as sent back. */
export interface PoolError {
  code?: string;
  name: string;
  message: string;
}

/** @internal `workerData` of a pool worker. */
export interface PoolWorkerData {
  detector?: LoadMtcnnOptions;
  modelDir?: string;
  preprocessing?: Partial<Preprocessing>;
  backend?: BackendName;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'stats'; stats: PoolWorkerStats }
  | { type: 'init-error'; error: PoolError }
  | { type: 'result'; id: number; result: PoolJobResult }
  | { type: 'failed'; id: number; error: PoolError };

interface Pending {
  job: PoolJob;
  resolve: (r: PoolJobResult) => void;
  reject: (e: Error) => void;
  /** Handed back once already, by a worker that died before starting it. */
  requeued?: boolean;
  /** The job's image file, decoding since the job was handed to a worker (see {@link decodesAhead}). */
  decoding?: Promise<DecodedImage>;
  /** Sent to the worker that holds it (a job still decoding waits in the pool's thread). */
  sent?: boolean;
}

/**
 * A worker's error in the calling thread: library errors keep their code (and class name,
 * as `name`), so callers that report {@link FacenetError}s and go on keep doing so.
 */
function fromWorkerError(e: PoolError): Error {
  if (e.code) {
    const err = new FacenetError(e.code, e.message);
    err.name = e.name;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** The worker script: the bundled `face-pool-worker.js` beside this module, or the TypeScript source through tsx. */
function startPoolWorker(data: PoolWorkerData): Worker {
  const worker = startWorker(import.meta.url, { bundled: './face-pool-worker.js', source: './face-pool-worker.ts' }, data);
  if (!worker) throw new FacenetError('WORKER_MISSING', `face pool worker not found next to ${nodeUrl.fileURLToPath(import.meta.url)}`);
  return worker;
}

/** Wait for a new worker's `ready` (or its failure to start). */
function whenReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ready') done(null);
      else if (m.type === 'init-error') done(fromWorkerError(m.error));
    };
    const onError = (e: Error) => done(e);
    const onExit = (code: number) => done(new FacenetError('WORKER', `face pool worker exited (code ${code}) while starting`));
    const done = (e: Error | null) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (e) reject(e);
      else resolve();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** {@link FacePoolOptions.initialHeapMB}'s default. */
const DEFAULT_INITIAL_HEAP_MB = 128;

/**
 * Jobs a worker holds at once: the one it runs and, when it is a file job, the next, whose
 * image the pool decodes meanwhile (so the worker starts it without waiting for the main
 * thread's next message). Decoded pixels gain nothing from waiting in a worker, so they wait
 * in the pool, free to go to whichever worker is done first.
 */
const JOBS_PER_WORKER = 2;

/**
 * Whether the pool decodes this job's image file before the worker gets the job. In this
 * thread, not the worker: decoding is a chain of callbacks (open, read, and for all but small
 * JPEG files sharp's header and pixels), each run by its thread's event loop, and a worker's
 * loop turns only between jobs —
 * a worker decoding its next image advanced it one step per job and then waited ≈ 2 ms for
 * the rest. Not `track` jobs (`Mtcnn.track` decodes) nor embedding jobs of a pool without a
 * model (they fail with POOL_NO_MODEL, not with the file's error).
 */
const decodesAhead = (job: PoolJob, hasModel: boolean): boolean =>
  job.kind !== 'track' && typeof job.image === 'string' && (job.kind === 'detect' || hasModel);

/**
 * Post `message` to `worker`, moving the buffer behind its decoded pixels rather than copying
 * it: the pool decoded them itself and keeps no other view of them. Moving also takes their
 * memory off this thread's account, where every decoded image otherwise counted toward V8's
 * next full collection. A buffer Node will not move (sharp's own memory) is copied: Node 20
 * copies it by itself, later versions refuse the transfer, and the message then goes as a copy.
 */
export function postMovingPixels(worker: Pick<Worker, 'postMessage'>, message: PoolJobMessage): void {
  const buffer = message.decoded?.data.buffer;
  if (!(buffer instanceof ArrayBuffer)) return worker.postMessage(message);
  try {
    worker.postMessage(message, [buffer]);
  } catch (e) {
    if ((e as Error).name !== 'DataCloneError') throw e;
    worker.postMessage(message);
  }
}

/** One worker and the jobs it holds, oldest (running) first. */
class PoolWorker {
  readonly jobs: Pending[] = [];
  dead: Error | null = null;
  /** Jobs reach the worker in the order it was given them, each once its image is decoded. */
  private sending: Promise<void> = Promise.resolve();

  /**
   * @param onFree called when a job ends.
   * @param onDeath called once when the worker dies, with the jobs it held but had not
   *   started (the one it was running fails with the worker's error).
   */
  constructor(
    readonly worker: Worker,
    private readonly onFree: () => void,
    private readonly onDeath: (notStarted: Pending[], error: Error) => void,
  ) {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'result' && m.type !== 'failed') return;
      const i = this.jobs.findIndex((p) => p.job.id === m.id);
      if (i < 0) return;
      const [p] = this.jobs.splice(i, 1);
      if (m.type === 'result') p.resolve(m.result);
      else p.reject(fromWorkerError(m.error));
      this.onFree();
    });
    const die = (e: Error) => {
      if (this.dead) return;
      this.dead = e;
      const held = this.jobs.splice(0);
      const running = held[0]?.sent ? held.shift() : undefined;
      running?.reject(e);
      for (const p of held) p.sent = false;
      this.onDeath(held, e);
    };
    worker.on('error', (e) => die(new FacenetError('WORKER', `face pool worker failed: ${e.message}`)));
    worker.on('exit', (code) => die(new FacenetError('WORKER', `face pool worker exited (code ${code})`)));
  }

  run(p: Pending): void {
    this.jobs.push(p);
    this.sending = this.sending.then(async () => {
      let decoded: DecodedImage | undefined;
      try {
        decoded = await p.decoding;
      } catch (e) {
        // An unreadable file fails its own job here; the worker never sees it.
        const i = this.jobs.indexOf(p);
        if (i < 0) return;
        this.jobs.splice(i, 1);
        p.reject(e as Error);
        this.onFree();
        return;
      }
      this.send(p, decoded);
    });
  }

  private send(p: Pending, decoded: DecodedImage | undefined): void {
    if (this.dead || !this.jobs.includes(p)) return; // handed back (requeued) by a dead worker
    const message: PoolJobMessage = decoded ? { type: 'job', job: p.job, decoded } : { type: 'job', job: p.job };
    p.sent = true;
    p.decoding = undefined; // the worker has the pixels now (a job handed back is decoded again)
    postMovingPixels(this.worker, message);
  }

  /** The worker's heap figures (answered at once, beside any running job). */
  stats(): Promise<PoolWorkerStats> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== 'stats') return;
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
        resolve(m.stats);
      };
      const onExit = () => {
        this.worker.off('message', onMessage);
        reject(this.dead ?? new FacenetError('WORKER', 'face pool worker exited'));
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', onExit);
      this.worker.postMessage({ type: 'stats' });
    });
  }
}

/** Worker threads running detection and embedding jobs; see the module docs. */
export class FacePool {
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly hasModel: boolean,
  ) {}

  /**
   * Start the workers and wait until each has loaded its backend and detector.
   * @throws {ConfigError} for a bad worker count, {ModelNotFoundError} for an unknown model,
   *   or the first worker's start-up error (e.g. unreadable weights); started workers are
   *   stopped again then.
   */
  static async start(opts: FacePoolOptions = {}): Promise<FacePool> {
    const count = opts.workers ?? nodeBuiltins('starting a face pool').os.availableParallelism();
    if (!(Number.isInteger(count) && count >= 1)) throw new ConfigError('workers', `must be a positive integer, got ${String(opts.workers)}`);
    const data: PoolWorkerData = {
      detector: opts.detector,
      modelDir: opts.model === undefined ? undefined : await modelFolder(opts.model),
      preprocessing: opts.preprocessing,
      backend: opts.backend,
    };
    const heapMB = opts.initialHeapMB ?? DEFAULT_INITIAL_HEAP_MB;
    if (!(Number.isFinite(heapMB) && heapMB >= 0)) throw new ConfigError('initialHeapMB', `must be a number ≥ 0, got ${String(opts.initialHeapMB)}`);
    const started: Worker[] = [];
    try {
      await withInitialOldSpace(heapMB, async () => {
        for (let i = 0; i < count; i++) started.push(startPoolWorker(data));
        await Promise.all(started.map(whenReady));
      });
    } catch (e) {
      await Promise.all(started.map((w) => w.terminate()));
      throw e;
    }
    const pool: FacePool = new FacePool([], data.modelDir !== undefined);
    for (const w of started) pool.workers.push(new PoolWorker(w, () => pool.dispatch(), (jobs, e) => pool.requeue(jobs, e)));
    return pool;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /** Jobs not yet handed to a worker (not counting those a worker holds). */
  get waiting(): number {
    return this.queue.length;
  }

  /** `Mtcnn.detect` of one image, in a worker (boxes in the image's own pixels). */
  async detect(image: PoolImage, options?: MtcnnOptions): Promise<FaceDetection[]> {
    return (await this.detectImage(image, options)).faces;
  }

  /**
   * {@link detect}, with the size of the image (a file's own size, as displayed: EXIF
   * orientation applied), so that a caller handing over file paths need not decode them.
   */
  async detectImage(image: PoolImage, options?: MtcnnOptions): Promise<PoolDetection> {
    const r = (await this.submit({ kind: 'detect', image, options })) as PoolDetection & { kind: 'detect' };
    return { faces: r.faces, width: r.width, height: r.height };
  }

  /** `Mtcnn.track` of one frame from earlier boxes, in a worker. */
  async track(image: PoolImage, previous: readonly Readonly<Box>[], options?: MtcnnOptions): Promise<FaceDetection[]> {
    const r = await this.submit({ kind: 'track', image, previous: previous.map((b) => [...b] as Box), options });
    return (r as { faces: FaceDetection[] }).faces;
  }

  /**
   * The embedding of the image's main face (`FacenetEmbedder.embed`), or with `aligned` of
   * the whole image taken as an aligned face crop.
   * @throws {NoFaceError}-coded `FacenetError` (`NO_FACE`) when no face is found.
   */
  async embed(image: PoolImage, opts: { aligned?: boolean } = {}): Promise<Float32Array> {
    const r = await this.submit({ kind: 'embed', image, aligned: !!opts.aligned });
    return (r as { embedding: Float32Array }).embedding;
  }

  /** Every face of the image with its embedding (`FacenetEmbedder.embedAllFaces`). */
  async embedAllFaces(image: PoolImage): Promise<FaceEmbedding[]> {
    const r = await this.submit({ kind: 'embedAll', image });
    return (r as { faces: FaceEmbedding[] }).faces;
  }

  /** Each worker's garbage collections and heap, e.g. to watch a long run. */
  workerStats(): Promise<PoolWorkerStats[]> {
    if (this.closed) return Promise.reject(new DisposedError('FacePool'));
    return Promise.all(this.workers.map((w) => w.stats()));
  }

  /**
   * Let the running and queued jobs finish, then stop the workers (each disposes its
   * models). Jobs submitted afterwards fail with {@link DisposedError}.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.queue.length > 0 || this.workers.some((w) => w.jobs.length > 0)) {
      await new Promise((r) => setTimeout(r, 5));
      if (this.workers.every((w) => w.dead)) break;
    }
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.dead) return resolve();
            w.worker.once('exit', () => resolve());
            w.worker.postMessage({ type: 'stop' });
          }),
      ),
    );
  }

  private submit(job: PoolJobSpec): Promise<PoolJobResult> {
    if (this.closed) return Promise.reject(new DisposedError('FacePool'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Hand queued jobs to workers: one to each idle worker, then, while the next queued job is
   * one it decodes ahead, a second to each (see {@link JOBS_PER_WORKER}); with every worker
   * dead, fail what is left.
   */
  private dispatch(): void {
    for (let held = 0; held < JOBS_PER_WORKER; held++) {
      for (const w of this.workers) {
        if (this.queue.length === 0) return;
        if (held > 0 && !decodesAhead(this.queue[0].job, this.hasModel)) return;
        if (!w.dead && w.jobs.length <= held) w.run(this.startDecoding(this.queue.shift()!));
      }
    }
    if (this.workers.length > 0 && this.workers.every((w) => w.dead)) {
      const err = this.workers[0].dead!;
      for (const p of this.queue.splice(0)) p.reject(err);
    }
  }

  /** Start decoding `p`'s image file if the pool decodes it (once: a requeued job keeps its decode). */
  private startDecoding(p: Pending): Pending {
    if (!p.decoding && decodesAhead(p.job, this.hasModel)) {
      p.decoding = decodeImageFile(p.job.image as string);
      p.decoding.catch(() => undefined); // reported with the job, not as an unhandled rejection
    }
    return p;
  }

  /**
   * Jobs a dead worker held without starting go back to the front of the queue, once: a job
   * handed back before fails with the worker's error (it may be what kills workers).
   */
  private requeue(notStarted: Pending[], error: Error): void {
    for (const p of notStarted.reverse()) {
      if (p.requeued) p.reject(error);
      else {
        p.requeued = true;
        this.queue.unshift(p);
      }
    }
    this.dispatch();
  }
}
