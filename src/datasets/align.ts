/**
 * Align a whole folder-per-identity dataset, as davidsandberg/facenet's
 * `align_dataset_mtcnn.py` does: every image of `<input>/<identity>/` is searched for faces
 * with MTCNN, the chosen face is cropped with a margin and resized, and the thumbnail is
 * written as `<output>/<identity>/<stem>.png`; `<output>/bounding_boxes.txt` records the
 * crop rectangle of every image (`path x1 y1 x2 y2`, or just the path when no face was found).
 *
 * Differences from the reference, all on the side of robustness:
 * - images are spread over worker threads (one MTCNN per worker);
 * - every PNG is written atomically, and `bounding_boxes.txt` is the resume journal: it
 *   grows by whole lines while the job runs and is rewritten sorted (atomically) at the
 *   end, so an interrupted job resumes where it stopped and never redoes a finished image;
 * - unreadable images and images without a face are listed in the summary; nothing about
 *   a single image is fatal.
 *
 * Node only (the Node built-ins are imported inside the functions, so importing the
 * library in a browser stays safe).
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../runtime/workers.js';
import { ConfigError, FileNotFoundError } from '../errors.js';
import { resolveCropOptions, type FaceSelection } from '../face/crop.js';
import { FACE_CHIP_DEFAULTS, faceChipPoints, templatePoints } from '../face/align.js';
import type { AlignImageConfig, AlignMethod, AlignTask, AlignTaskResult } from './align-task.js';
import type { AlignWorkerData } from './align-worker.js';
import type { LoadMtcnnOptions } from '../mtcnn/detector.js';
import type { Box } from '../face/types.js';
import { listIdentityFolders, type IdentityFolder } from './folders.js';

/** The Node built-ins this module uses, imported on first use. */
async function nodeApi() {
  const [fsp, fs, path, os, atomic] = await Promise.all([
    import('node:fs/promises'),
    import('node:fs'),
    import('node:path'),
    import('node:os'),
    import('../util/atomic.js'),
  ]);
  return {
    ...fsp,
    ...path,
    existsSync: fs.existsSync,
    cpus: os.cpus,
    writeFileAtomic: atomic.writeFileAtomic,
  };
}
type NodeApi = Awaited<ReturnType<typeof nodeApi>>;

/** Name of the record file written in the output folder. */
export const BOUNDING_BOXES_FILE = 'bounding_boxes.txt';

/** Detector settings passed to `loadMtcnn` in every worker. */
export type AlignDetectorOptions = LoadMtcnnOptions;

/** Options of {@link alignDataset}. */
export interface AlignDatasetOptions {
  /** Folder with one sub-folder of images per identity. */
  input: string;
  /** Output folder (created if needed); the same identity sub-folders are made there. */
  output: string;
  /** Side of the square thumbnails in pixels. Default 182 (the reference's default). */
  imageSize?: number;
  /** Margin around the box in source pixels, half on each side. Default 44. */
  margin?: number;
  /**
   * Which face of an image to keep when there are several. Default `'reference'` (largest
   * and most central, as the reference). `'all'` keeps every face (see `detectMultipleFaces`).
   */
  faceSelection?: FaceSelection;
  /**
   * Keep every face, named `<stem>_<i>.png` (the reference's `--detect_multiple_faces`).
   * Same as `faceSelection: 'all'`. Default false.
   */
  detectMultipleFaces?: boolean;
  /**
   * `'crop'` (default): the reference's margin crop of the detected box. `'landmarks'`:
   * similarity alignment of the 5 landmarks onto the ArcFace template (see `alignFace`),
   * with `landmarkMargin`. `'chip'`: dlib's face chip (see `faceChipPoints`), with `chipPadding`.
   */
  method?: AlignMethod;
  /** Method `'landmarks'` only: fraction of the output left around the template. Default 0.1. */
  landmarkMargin?: number;
  /** Method `'chip'` only: dlib's padding, a fraction of the face's extent. Default 0.25. */
  chipPadding?: number;
  /** MTCNN settings (weights, thresholds…) passed to `loadMtcnn`. Default: its defaults. */
  detector?: AlignDetectorOptions;
  /**
   * Worker threads. Default: the number of CPU cores. 0 aligns in the calling thread (also
   * the fallback when the worker script cannot be started).
   */
  workers?: number;
  /** Shuffle identities and images (the reference's `--random_order`). Default false: sorted order. */
  randomOrder?: boolean;
  /** Called after every image (including skipped ones). */
  onProgress?: (event: AlignProgress) => void;
  /**
   * Stops the job: no new image is started, the ones in flight finish, the records are
   * written and the summary comes back with `interrupted: true`.
   */
  signal?: AbortSignal;
}

/** Progress of {@link alignDataset} after one image. */
export interface AlignProgress {
  done: number;
  total: number;
  /** Source image (absolute path). */
  file: string;
  status: 'aligned' | 'skipped' | 'noFace' | 'failed';
  /** Thumbnails written for this image. */
  faces: number;
}

/** What {@link alignDataset} did. Paths are absolute. */
export interface AlignDatasetSummary {
  /** Images found (files with an image extension in identity folders). */
  total: number;
  /** Images aligned by this run. */
  aligned: number;
  /** Thumbnails written by this run (more than `aligned` when keeping every face). */
  faces: number;
  /** Images already done by an earlier run (thumbnail present or recorded as faceless). */
  skipped: number;
  /** Images in which this run found no face. */
  noFace: string[];
  /** Images that could not be read or processed, with the reason. */
  failed: { file: string; error: string }[];
  /** Files in identity folders that are not images (by extension), untouched. */
  ignored: string[];
  /** True when stopped by `signal` before all images were processed. */
  interrupted: boolean;
  /** Worker threads used (0 = in-process). */
  workers: number;
  /** Wall-clock seconds. */
  seconds: number;
}

/** One identity folder of a dataset (absolute image paths, sorted). */
export type DatasetClass = IdentityFolder;

/**
 * List a folder-per-identity dataset: sub-folders of `input` (sorted by name), each with its
 * image files (sorted). Hidden files and folders are left out; non-image files are returned
 * separately in `ignored`.
 * @throws {FileNotFoundError} when `input` is not a folder.
 */
export async function listDataset(input: string): Promise<{ classes: DatasetClass[]; ignored: string[] }> {
  const { resolve } = await nodeApi();
  const { classes, ignored } = await listIdentityFolders(resolve(input));
  return { classes, ignored };
}

/** One parsed line of `bounding_boxes.txt`. */
export interface BoundingBoxRecord {
  path: string;
  /** Absent for an image without a face. */
  box?: Box;
}

/**
 * The output stem of every image of one folder, unique and independent of processing order:
 * the first image (in sorted order) of each stem keeps it, as the reference names outputs;
 * others with the same stem (`img.bmp`, `img.tiff` beside `img.jpg`) get the extension
 * added (`img_tiff`), then a number if that too is taken.
 */
export function uniqueOutputStems(
  images: readonly string[],
  stemOf: (file: string) => string,
  extOf: (file: string) => string,
): Map<string, string> {
  const sorted = [...images].sort();
  const out = new Map<string, string>();
  const used = new Set<string>();
  const later: string[] = [];
  for (const f of sorted) {
    const stem = stemOf(f);
    if (used.has(stem)) later.push(f);
    else {
      used.add(stem);
      out.set(f, stem);
    }
  }
  for (const f of later) {
    const base = `${stemOf(f)}_${extOf(f).replace(/^\./, '').toLowerCase()}`;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}_${n}`;
    used.add(name);
    out.set(f, name);
  }
  return out;
}

// On POSIX a file name may hold a line break, which would split a journal line: such paths
// are written with C-style escapes (backslash doubled, \n, \r). Windows paths cannot hold
// control characters and use the backslash as separator, so they are written as they are.
const ESCAPE_PATHS = typeof process === 'undefined' || process.platform !== 'win32';

function escapePath(path: string): string {
  return ESCAPE_PATHS ? path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : path;
}

function unescapePath(text: string): string {
  return ESCAPE_PATHS ? text.replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\')) : text;
}

/** Format one `bounding_boxes.txt` line (without the newline); line breaks in the path are escaped. */
export function formatBoundingBoxLine(r: BoundingBoxRecord): string {
  const path = escapePath(r.path);
  return r.box ? `${path} ${r.box.map((v) => Math.trunc(v)).join(' ')}` : path;
}

/**
 * Parse `bounding_boxes.txt`. A line is `path x1 y1 x2 y2` or just `path` (no face). A last
 * line without a newline (an interrupted append) and blank lines are ignored.
 */
export function parseBoundingBoxes(text: string): BoundingBoxRecord[] {
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline: empty, or an incomplete line
  const out: BoundingBoxRecord[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const m = /^(.*\S)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s*$/.exec(line);
    if (m) out.push({ path: unescapePath(m[1]), box: [+m[2], +m[3], +m[4], +m[5]] });
    else out.push({ path: unescapePath(line.trimEnd()) });
  }
  return out;
}

/** `identity/file.png` of an output path: records are matched on it, wherever the output folder is. */
function recordKey(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts.slice(-2).join('/');
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Temporary files that `writeFileAtomic` leaves behind when a process is killed mid-write. */
const STALE_TMP = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

type Processor = {
  /** Process tasks pulled from `next()` until it returns undefined. */
  run(next: () => AlignTask | undefined, done: (r: AlignTaskResult) => Promise<void>): Promise<void>;
  workers: number;
  close(): Promise<void>;
};

async function inProcessProcessor(detector: AlignDetectorOptions | undefined, config: AlignImageConfig): Promise<Processor> {
  const [{ initBackend }, { loadMtcnn }, { alignImageFile }] = await Promise.all([
    import('../runtime/backend.js'),
    import('../mtcnn/detector.js'),
    import('./align-task.js'),
  ]);
  await initBackend();
  const mtcnn = await loadMtcnn(detector);
  return {
    workers: 0,
    async run(next, done) {
      for (let t = next(); t; t = next()) await done(await alignImageFile(mtcnn, t, config));
    },
    async close() {
      mtcnn.dispose();
    },
  };
}

/** Start `n` workers; resolves once all are ready, or undefined when the script cannot start. */
async function workerProcessor(count: number, data: AlignWorkerData): Promise<Processor | undefined> {
  const script = { bundled: './align-worker.js', source: './align-worker.ts' };
  const start = () =>
    new Promise<Worker>((resolveReady, rejectReady) => {
      const w = startWorker(import.meta.url, script, data);
      if (!w) return rejectReady(new Error('align worker script not found'));
      const onMessage = (m: { type: string; error?: string }) => {
        if (m.type === 'ready') {
          cleanup();
          resolveReady(w);
        } else if (m.type === 'init-error') {
          cleanup();
          void w.terminate();
          rejectReady(new Error(m.error ?? 'unknown error'));
        }
      };
      const onError = (e: Error) => {
        cleanup();
        rejectReady(e);
      };
      const onExit = (code: number) => {
        cleanup();
        rejectReady(new Error(`align worker exited with code ${code} before it was ready`));
      };
      const cleanup = () => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
    });
  const started = await Promise.allSettled(Array.from({ length: count }, start));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  // None started: either the script cannot run here, or the detector cannot be set up (bad
  // weights option…). Either way the in-process path takes over and, in the second case,
  // raises the detector's own typed error.
  if (workers.length === 0) return undefined;
  const alive = new Set(workers);
  return {
    workers: workers.length,
    async run(next, done) {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolveLoop) => {
              let current: AlignTask | undefined;
              const feed = () => {
                current = next();
                if (!current) {
                  w.off('message', onMessage);
                  w.off('error', onError);
                  w.off('exit', onExit);
                  resolveLoop();
                  return;
                }
                w.postMessage({ type: 'task', task: current });
              };
              const onMessage = (m: { type: string; result?: AlignTaskResult }) => {
                if (m.type !== 'result' || !m.result) return;
                void done(m.result).then(feed);
              };
              const fail = (why: string) => {
                // The worker died (out of memory…): its image is reported as failed and the
                // other workers carry on with the rest.
                alive.delete(w);
                w.off('message', onMessage);
                w.off('error', onError);
                w.off('exit', onExit);
                const t = current;
                current = undefined;
                const finish = () => resolveLoop();
                if (t) void done({ id: t.id, outputs: [], error: `align worker crashed: ${why}` }).then(finish);
                else finish();
              };
              const onError = (e: Error) => fail(e.message);
              const onExit = (code: number) => fail(`exit code ${code}`);
              w.on('message', onMessage);
              w.on('error', onError);
              w.on('exit', onExit);
              feed();
            }),
        ),
      );
    },
    async close() {
      await Promise.all(
        [...alive].map(
          (w) =>
            new Promise<void>((res) => {
              w.once('exit', () => res());
              w.postMessage({ type: 'stop' });
              // A worker that does not stop promptly is terminated.
              setTimeout(() => void w.terminate(), 10_000).unref();
            }),
        ),
      );
    },
  };
}

/**
 * Align every image of a folder-per-identity dataset (see the module documentation).
 * Resumable: images recorded in `<output>/bounding_boxes.txt` by an earlier run (with their
 * thumbnails still present) are skipped.
 *
 * @throws {FileNotFoundError} when `input` is not a folder; {@link ConfigError} for bad
 *   options; the detector's own errors when its weights cannot be loaded. Problems with
 *   single images never throw: they are in the summary.
 */
export async function alignDataset(opts: AlignDatasetOptions): Promise<AlignDatasetSummary> {
  const t0 = performance.now();
  const node = await nodeApi();
  const { join, resolve, basename, extname, existsSync, readdir, readFile, appendFile, rm, mkdir, writeFileAtomic } = node;
  const crop = resolveCropOptions({ imageSize: opts.imageSize, margin: opts.margin });
  const method: AlignMethod = opts.method ?? 'crop';
  if (method !== 'crop' && method !== 'landmarks' && method !== 'chip') {
    throw new ConfigError('method', `must be 'crop', 'landmarks' or 'chip', got '${String(method)}'`);
  }
  const landmarkMargin = opts.landmarkMargin ?? 0.1;
  templatePoints({ imageSize: crop.imageSize, margin: landmarkMargin }); // validates
  const chipPadding = opts.chipPadding ?? FACE_CHIP_DEFAULTS.padding;
  faceChipPoints(crop.imageSize, chipPadding); // validates
  const multipleFaces = opts.detectMultipleFaces === true || opts.faceSelection === 'all';
  const faceSelection: FaceSelection = multipleFaces ? 'all' : (opts.faceSelection ?? 'reference');
  if (!['reference', 'score', 'all'].includes(faceSelection)) {
    throw new ConfigError('faceSelection', `must be 'reference', 'score' or 'all', got '${String(faceSelection)}'`);
  }
  const workersWanted = opts.workers ?? node.cpus().length;
  if (!Number.isInteger(workersWanted) || workersWanted < 0) {
    throw new ConfigError('workers', `must be a non-negative integer, got ${workersWanted}`);
  }
  const config: AlignImageConfig = {
    imageSize: crop.imageSize,
    margin: crop.margin,
    landmarkMargin,
    chipPadding,
    faceSelection,
    multipleFaces,
    method,
  };

  const { classes, ignored } = await listDataset(opts.input);
  const outRoot = resolve(opts.output);
  if (outRoot === resolve(opts.input)) throw new ConfigError('output', 'must differ from the input folder');
  await mkdir(outRoot, { recursive: true });
  const bbPath = join(outRoot, BOUNDING_BOXES_FILE);

  // Earlier records: key `identity/file.png` → record.
  const records = new Map<string, BoundingBoxRecord>();
  if (existsSync(bbPath)) {
    for (const r of parseBoundingBoxes(await readFile(bbPath, 'utf8'))) records.set(recordKey(r.path), r);
  }

  // Plan: which images still need work.
  const order = opts.randomOrder ? shuffle([...classes]) : classes;
  const tasks: AlignTask[] = [];
  const sources: string[] = [];
  let skipped = 0;
  let done = 0;
  const total = classes.reduce((n, c) => n + c.images.length, 0);
  const summary: AlignDatasetSummary = {
    total,
    aligned: 0,
    faces: 0,
    skipped: 0,
    noFace: [],
    failed: [],
    ignored,
    interrupted: false,
    workers: 0,
    seconds: 0,
  };
  const progress = (file: string, status: AlignProgress['status'], faces: number) => {
    done++;
    opts.onProgress?.({ done, total, file, status, faces });
  };
  const skippedFiles: string[] = [];
  for (const cls of order) {
    const outDir = join(outRoot, cls.name);
    if (existsSync(outDir)) {
      for (const f of await readdir(outDir)) if (STALE_TMP.test(f)) await rm(join(outDir, f), { force: true });
    }
    const outputStems = uniqueOutputStems(cls.images, (f) => basename(f, extname(f)), (f) => extname(f));
    const images = opts.randomOrder ? shuffle([...cls.images]) : cls.images;
    for (const source of images) {
      const stem = outputStems.get(source)!;
      const single = `${cls.name}/${stem}.png`;
      const first = `${cls.name}/${stem}_0.png`;
      const rec = records.get(multipleFaces ? first : single) ?? records.get(single);
      const finished =
        rec !== undefined &&
        (rec.box === undefined
          ? true // recorded as faceless
          : existsSync(join(outRoot, multipleFaces ? first : single)));
      if (finished) {
        skipped++;
        skippedFiles.push(source);
        continue;
      }
      tasks.push({ id: tasks.length, source, outputBase: join(outDir, stem) });
      sources.push(source);
    }
  }
  summary.skipped = skipped;
  for (const f of skippedFiles) progress(f, 'skipped', 0);

  // Journal: whole lines appended in order, one write per image.
  let journal = Promise.resolve();
  const record = (lines: string[]) => {
    const text = lines.map((l) => l + '\n').join('');
    journal = journal.then(() => appendFile(bbPath, text));
    return journal;
  };

  const onResult = async (r: AlignTaskResult) => {
    const source = sources[r.id];
    if (r.error !== undefined) {
      summary.failed.push({ file: source, error: r.error });
      progress(source, 'failed', 0);
      return;
    }
    const base = tasks[r.id].outputBase;
    if (r.noFace) {
      summary.noFace.push(source);
      await record([formatBoundingBoxLine({ path: join(opts.output, recordKey(`${base}.png`)) })]);
      progress(source, 'noFace', 0);
      return;
    }
    await record(r.outputs.map((o) => formatBoundingBoxLine({ path: join(opts.output, recordKey(o.path)), box: o.box })));
    summary.aligned++;
    summary.faces += r.outputs.length;
    progress(source, 'aligned', r.outputs.length);
  };

  let nextIndex = 0;
  const next = (): AlignTask | undefined => {
    if (opts.signal?.aborted) {
      if (nextIndex < tasks.length) summary.interrupted = true;
      return undefined;
    }
    return tasks[nextIndex++];
  };

  if (tasks.length > 0 && opts.signal?.aborted) summary.interrupted = true;
  else if (tasks.length > 0) {
    const data: AlignWorkerData = { detector: opts.detector, config };
    const nWorkers = Math.min(workersWanted, tasks.length);
    const processor =
      (nWorkers > 0 ? await workerProcessor(nWorkers, data) : undefined) ??
      (await inProcessProcessor(opts.detector, config));
    summary.workers = processor.workers;
    try {
      await processor.run(next, onResult);
    } finally {
      await processor.close();
    }
    if (nextIndex < tasks.length && !opts.signal?.aborted) {
      // Every worker crashed: finish in this thread.
      const rest = await inProcessProcessor(opts.detector, config);
      try {
        await rest.run(next, onResult);
      } finally {
        await rest.close();
      }
    }
  }
  await journal;

  // Final record file: earlier records plus this run's, deduplicated, sorted, written atomically.
  if (existsSync(bbPath)) {
    const merged = new Map<string, BoundingBoxRecord>();
    for (const r of parseBoundingBoxes(await readFile(bbPath, 'utf8'))) merged.set(recordKey(r.path), r);
    const lines = [...merged.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    await writeFileAtomic(bbPath, lines.map((r) => formatBoundingBoxLine(r) + '\n').join(''));
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}
