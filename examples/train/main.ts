/**
 * Example: the seed project's whole path, one command.
 *
 *   1. align  — MTCNN face crops of a folder-per-identity photo tree (182 px, margin 44,
 *               as davidsandberg/facenet's align_dataset_mtcnn.py; resumable);
 *   2. crops  — for a network input other than 160 px, the crops rescaled so that its
 *               random crop covers the face area that 160 of 182 covers;
 *   3. train  — Inception-ResNet-v1 with softmax + center loss (resumable with --resume);
 *   4. eval   — the LFW verification benchmark on the exported model (reused when done);
 *   5. report — report.md / report.json, ROC curve and training curves (SVG + PNG).
 *
 *   npm run example:train                      # all of CelebA, the `small` preset, full LFW (about an hour on 2 cores)
 *   npm run example:train:smoke                # 4 identities × 10 photos, a tiny model (~1 min)
 *   npx tsx examples/train/main.ts --help
 *
 * Output (default out/train): aligned-182-m44/ (crops), aligned-182-m44-<size>/ (rescaled),
 * run/ (checkpoints/, train-log.jsonl, model/), report/.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  alignDataset,
  BOUNDING_BOXES_FILE,
  checkpointsDir,
  ConfigError,
  evaluateLfw,
  FileNotFoundError,
  formatVerificationReport,
  initBackend,
  latestTrainingCheckpoint,
  loadFacenetEmbedder,
  parseBoundingBoxes,
  train,
  trainLogPath,
  type FacenetEmbedder,
  type LfwEvaluation,
  type TrainConfig,
  type VerificationMetric,
} from 'tfjs-facenet/node';
import { sharedDataDir, writeFileAtomic } from '../common/files.js';
import { configFromFlags, EXAMPLE_PRESETS, parseNumber, type TrainFlags } from './config.js';
import { makeSubset, resizeCrops, trainingCropSize } from './crops.js';
import { buildReport, formatDuration, writeReport } from './report.js';
import { readTrainLog, type TrainLogSummary } from './train-log.js';

interface Flags extends TrainFlags {
  data: string;
  out: string;
  subset?: string;
  aligned?: string;
  alignSize: string;
  alignMargin: string;
  alignWorkers?: string;
  skipAlign?: boolean;
  skipTrain?: boolean;
  evalOnly?: boolean;
  model?: string;
  workers: string;
  maxSteps?: string;
  lfw?: string;
  lfwPairs?: string;
  lfwPairsPerFold?: string;
  distance: string;
  flip?: boolean;
  forceEval?: boolean;
  report?: string;
}

/** Exit status of a run stopped by Ctrl-C (after its checkpoint was saved). */
const INTERRUPTED = 130;

const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Progress lines for a long loop: on a terminal one line rewritten in place, otherwise a
 * line every 10 s and at the end (logs stay short).
 */
function progressLine(label: string): (done: number, total: number, extra?: string) => void {
  const tty = !!process.stderr.isTTY;
  const t0 = performance.now();
  let last = 0;
  return (done, total, extra = '') => {
    const now = performance.now();
    const finished = done >= total;
    if (!finished && now - last < (tty ? 200 : 10_000)) return;
    last = now;
    const rate = done / Math.max(1e-3, (now - t0) / 1000);
    const text = `  ${label} ${done}/${total} (${rate.toFixed(1)}/s)${extra ? ` ${extra}` : ''}`;
    if (tty) process.stderr.write(`\r${text}\x1b[K${finished ? '\n' : ''}`);
    else say(text);
  };
}

/** `"4x10"` → 4 identities with 10 images each. */
function parseSubset(value: string): { identities: number; perIdentity: number } {
  const m = /^(\d+)x(\d+)$/.exec(value.trim());
  if (!m || +m[1] < 2 || +m[2] < 1) throw new ConfigError('--subset', `expected IDENTITIESxIMAGES like 4x10 (at least 2 identities), got '${value}'`);
  return { identities: +m[1], perIdentity: +m[2] };
}

function parseDistance(value: string): VerificationMetric {
  if (value === 'squared-euclidean' || value === '0') return 'squared-euclidean';
  if (value === 'angular' || value === '1') return 'angular';
  throw new ConfigError('--distance', `must be squared-euclidean (0) or angular (1), got '${value}'`);
}

/** Counts of an aligned folder's bounding_boxes.txt: faces found, images without one. */
async function alignedCounts(dir: string): Promise<{ faces: number; noFace: number } | null> {
  try {
    const records = parseBoundingBoxes(await readFile(join(dir, BOUNDING_BOXES_FILE), 'utf8'));
    const faces = records.filter((r) => r.box).length;
    return { faces, noFace: records.length - faces };
  } catch {
    return null;
  }
}

/** A finished evaluation kept in the report folder, reused when model and options are the same. */
interface EvaluationCache {
  key: Record<string, unknown>;
  evaluation: LfwEvaluation;
}

async function evaluate(
  embedder: FacenetEmbedder,
  opts: { lfwDir: string; pairsFile: string; pairsPerFold?: number; flip: boolean; metric: VerificationMetric; cacheFile: string; force: boolean },
): Promise<{ evaluation: LfwEvaluation; reused: boolean }> {
  const key = {
    fingerprint: embedder.fingerprint,
    preprocessing: embedder.preprocessing,
    lfwDir: opts.lfwDir,
    pairsFile: opts.pairsFile,
    pairsPerFold: opts.pairsPerFold ?? null,
    flip: opts.flip,
    metric: opts.metric,
  };
  if (!opts.force && existsSync(opts.cacheFile)) {
    try {
      const cached = JSON.parse(await readFile(opts.cacheFile, 'utf8')) as EvaluationCache;
      if (JSON.stringify(cached.key) === JSON.stringify(key)) return { evaluation: cached.evaluation, reused: true };
    } catch {
      // An unreadable cache is simply recomputed.
    }
  }
  const progress = progressLine('LFW images');
  const evaluation = await evaluateLfw(embedder, {
    lfwDir: opts.lfwDir,
    pairsFile: opts.pairsFile,
    pairsPerFold: opts.pairsPerFold,
    flip: opts.flip,
    metric: opts.metric,
    onProgress: (done, total) => progress(done, total),
  });
  await writeFileAtomic(opts.cacheFile, JSON.stringify({ key, evaluation } satisfies EvaluationCache) + '\n');
  return { evaluation, reused: false };
}

async function main(flags: Flags): Promise<void> {
  const backend = await initBackend();
  const out = resolve(flags.out);
  const runDir = join(out, 'run');
  const reportDir = resolve(flags.report ?? join(out, 'report'));
  const stages: Record<string, number> = {};
  const ctrl = new AbortController();
  const onSignal = () => {
    if (ctrl.signal.aborted) process.exit(INTERRUPTED);
    say('\nstopping: the current stage finishes its step and saves (Ctrl-C again to quit at once)');
    ctrl.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timed = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      stages[stage] = (performance.now() - t0) / 1000;
    }
  };
  say(`backend ${backend.name}; output in ${out}`);

  let modelDir: string;
  let data: Record<string, unknown> | null = null;
  if (flags.evalOnly) {
    modelDir = resolve(flags.model ?? join(runDir, 'model'));
    if (!existsSync(join(modelDir, 'model.json'))) throw new FileNotFoundError(join(modelDir, 'model.json'), 'model to evaluate (--model)');
  } else {
    if (flags.model !== undefined) throw new ConfigError('--model', 'is only used with --eval-only (training writes <out>/run/model)');
    // Checked before any work: a new run must not mix its checkpoints and log into an old one.
    if (!flags.resume && !flags.skipTrain && (await latestTrainingCheckpoint(checkpointsDir(runDir)))) {
      throw new ConfigError('--resume', `${runDir} already has checkpoints: pass --resume to continue that run, --skip-train to use its model, or another --out`);
    }
    const config: Partial<TrainConfig> = await configFromFlags(flags, runDir);
    const imageSize = config.imageSize ?? 160;
    const alignSize = parseNumber('--align-size', flags.alignSize, { integer: true, min: 8 })!;
    const alignMargin = parseNumber('--align-margin', flags.alignMargin, { min: 0 })!;
    const alignedDir = resolve(flags.aligned ?? join(out, `aligned-${alignSize}-m${alignMargin}`));

    // ---- 1. align ----
    let input = resolve(flags.data);
    let subset: Record<string, unknown> | undefined;
    if (flags.skipAlign) {
      if (!existsSync(alignedDir)) throw new FileNotFoundError(alignedDir, 'aligned dataset (--skip-align needs an aligned folder; see --aligned)');
      say(`[1/5] align: skipped, using ${alignedDir}`);
    } else {
      if (flags.subset !== undefined) {
        const { identities, perIdentity } = parseSubset(flags.subset);
        const subsetDir = join(out, `subset-${identities}x${perIdentity}`);
        const s = await makeSubset(input, subsetDir, identities, perIdentity);
        subset = { dir: subsetDir, identities: s.identities, images: s.images };
        say(`subset: ${s.identities.length} identities × ${perIdentity} images of ${input} linked in ${subsetDir}`);
        input = subsetDir;
      }
      say(`[1/5] align: ${input} → ${alignedDir} (${alignSize} px, margin ${alignMargin})`);
      const progress = progressLine('images');
      const summary = await timed('align', () =>
        alignDataset({
          input,
          output: alignedDir,
          imageSize: alignSize,
          margin: alignMargin,
          workers: parseNumber('--align-workers', flags.alignWorkers, { integer: true, min: 0 }),
          signal: ctrl.signal,
          onProgress: (e) => progress(e.done, e.total),
        }),
      );
      for (const f of summary.failed) say(`  not aligned: ${f.file}: ${f.error}`);
      say(
        `  ${summary.total} images: ${summary.aligned} aligned now, ${summary.skipped} done before, ${summary.noFace.length} without a face, ` +
          `${summary.failed.length} failed (${summary.workers} workers, ${formatDuration(summary.seconds)})`,
      );
      if (summary.interrupted) {
        say('interrupted: run the same command again to continue');
        process.exitCode = INTERRUPTED;
        return;
      }
    }

    // ---- 2. crops for the network input ----
    const cropSize = trainingCropSize(imageSize, alignSize);
    let trainDir = alignedDir;
    if (cropSize !== alignSize) {
      // Inside the output folder even when --aligned points elsewhere (that folder may be read-only).
      trainDir = join(out, `${basename(alignedDir)}-${cropSize}`);
      say(`[2/5] crops: ${alignSize} → ${cropSize} px for a ${imageSize} px input → ${trainDir}`);
      const progress = progressLine('crops');
      const r = await timed('crops', () => resizeCrops({ input: alignedDir, output: trainDir, size: cropSize, onProgress: progress }));
      for (const f of r.failed) say(`  not resized: ${f.file}: ${f.error}`);
      say(`  ${r.total} crops: ${r.resized} resized now, ${r.skipped} done before, ${r.failed.length} failed`);
    } else {
      say(`[2/5] crops: the ${alignSize} px crops suit a ${imageSize} px input as they are`);
    }
    data = {
      input: resolve(flags.data),
      ...(subset ? { subset } : {}),
      aligned: { dir: alignedDir, imageSize: alignSize, margin: alignMargin, ...(await alignedCounts(alignedDir)) },
      trainDir,
      cropSize,
    };

    // ---- 3. train ----
    modelDir = join(runDir, 'model');
    if (flags.skipTrain) {
      if (!existsSync(join(modelDir, 'model.json'))) throw new FileNotFoundError(join(modelDir, 'model.json'), 'trained model (--skip-train)');
      say(`[3/5] train: skipped, using ${modelDir}`);
    } else {
      const full = { ...config, dataDir: trainDir, outDir: runDir } as TrainConfig;
      say(`[3/5] train: ${flags.resume ? 'resuming' : 'starting'} in ${runDir}`);
      say(`  ${JSON.stringify({ ...config, dataDir: undefined, outDir: undefined })}`);
      const tty = !!process.stderr.isTTY;
      let lastLine = performance.now();
      const result = await timed('train', () =>
        train(full, {
          resume: flags.resume ?? false,
          signal: ctrl.signal,
          workers: parseNumber('--workers', flags.workers, { integer: true, min: 0 }),
          maxSteps: parseNumber('--max-steps', flags.maxSteps, { integer: true, min: 0 }),
          progress: tty,
          onWarning: (m) => say(`  warning: ${m}`),
          onStep: (s) => {
            // Without a terminal (no progress bar), a line every 30 s.
            if (tty || performance.now() - lastLine < 30_000) return;
            lastLine = performance.now();
            say(`  step ${s.step} (epoch ${s.epoch}) loss ${s.loss.toFixed(4)} acc ${s.accuracy.toFixed(3)} ${s.imagesPerSecond.toFixed(1)} img/s`);
          },
          onEpoch: (e) => {
            const v = e.validation ? `  val loss ${e.validation.loss.toFixed(4)} acc ${e.validation.accuracy.toFixed(4)}` : '';
            say(`  epoch ${e.epoch}  step ${e.step}  loss ${e.loss.toFixed(4)}  acc ${e.accuracy.toFixed(4)}${v}  ${e.seconds.toFixed(1)} s`);
          },
        }),
      );
      if (result.stopReason === 'aborted' || result.stopReason === 'max-steps') {
        say(`training stopped (${result.stopReason}) at step ${result.step}; checkpoint ${result.checkpoint}. Continue with the same command plus --resume`);
        if (result.stopReason === 'aborted') process.exitCode = INTERRUPTED;
        return;
      }
      if (!result.modelDir) throw new FileNotFoundError(modelDir, 'exported model (see the warnings above)');
      say(`  ${result.stopReason}: ${result.step} updates, ${result.epoch} epochs; model ${result.modelDir}`);
    }
  }

  // ---- 4. LFW ----
  const lfwDir = resolve(flags.lfw ?? join(sharedDataDir(), 'data', 'lfw'));
  const pairsFile = resolve(flags.lfwPairs ?? join(sharedDataDir(), 'data', 'lfw-pairs.txt'));
  const pairsPerFold = parseNumber('--lfw-pairs-per-fold', flags.lfwPairsPerFold, { integer: true, min: 1 });
  const metric = parseDistance(flags.distance);
  const flip = !!flags.flip;
  const embedder = await loadFacenetEmbedder({ modelDir });
  let evaluation: LfwEvaluation;
  try {
    say(`[4/5] eval: LFW (${pairsPerFold !== undefined ? `${pairsPerFold} + ${pairsPerFold} pairs per fold` : 'all pairs'}) with ${modelDir}`);
    const t0 = performance.now();
    const r = await evaluate(embedder, { lfwDir, pairsFile, pairsPerFold, flip, metric, cacheFile: join(reportDir, 'lfw-evaluation.json'), force: !!flags.forceEval });
    evaluation = r.evaluation;
    if (r.reused) say('  reusing the evaluation of this model in the report folder (--force-eval to redo it)');
    else stages.eval = (performance.now() - t0) / 1000;
    say(formatVerificationReport(evaluation.report).replace(/^/gm, '  '));
  } finally {
    embedder.dispose();
  }

  // ---- 5. report ----
  say(`[5/5] report: ${reportDir}`);
  const logFile = trainLogPath(dirname(modelDir));
  const trainLog: TrainLogSummary | null = existsSync(logFile) ? await readTrainLog(logFile) : null;
  const report = buildReport({
    backend: backend.name,
    model: { dir: modelDir, fingerprint: embedder.fingerprint, dimension: embedder.dimension, preprocessing: { ...embedder.preprocessing } },
    data,
    trainLog,
    evaluation,
    lfw: { lfwDir, pairsFile, pairsPerFold: pairsPerFold ?? null, flip },
    stages,
  });
  await writeReport(reportDir, report, evaluation);
  say(
    `  LFW accuracy ${report.lfw.accuracy.mean.toFixed(4)} ± ${report.lfw.accuracy.std.toFixed(4)}, ` +
      `VAL ${report.lfw.val.mean.toFixed(4)} @ FAR ${report.lfw.val.far.toFixed(4)}; wrote ${Object.keys(report.files).length} files`,
  );
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

const presets = Object.entries(EXAMPLE_PRESETS).map(([k, p]) => `${k}: ${p.description}`).join('; ');
const program = new Command('train')
  .description('align a photo tree with MTCNN, train FaceNet (softmax + center loss), evaluate on LFW, write a report')
  .option('--data <dir>', 'photos, one sub-folder per identity', join(sharedDataDir(), 'data', 'celeba'))
  .option('--out <dir>', 'output folder (aligned crops, run/, report/)', 'out/train')
  .option('--subset <NxM>', 'use only N identities with M photos each (linked into <out>/subset-NxM): quick runs')
  .option('--aligned <dir>', 'aligned crops folder (default <out>/aligned-<size>-m<margin>)')
  .option('--align-size <px>', 'side of the aligned crops', '182')
  .option('--align-margin <px>', 'margin around the detected box, in source pixels', '44')
  .option('--align-workers <n>', 'alignment worker threads (default: one per core; 0 = main thread)')
  .option('--skip-align', 'use the aligned folder as it is')
  .option('--preset <name>', `training preset (${presets})`, 'small')
  .option('--config <file>', 'JSON file of training options (TrainConfig fields), over the preset')
  .option('--resume', 'continue the run in <out>/run from its newest checkpoint (its configuration is the base)')
  .option('--skip-train', 'use the model already in <out>/run/model')
  .option('--image-size <px>', 'network input size')
  .option('--block-repeats <a,b,c>', 'repeats of the block35, block17 and block8 stages (reference 5,10,5)')
  .option('--width-multiplier <x>', 'channel width factor (reference 1)')
  .option('--embedding-size <n>', 'embedding dimension')
  .option('--epochs <n>', 'epochs to train')
  .option('--batch-size <n>', 'images per micro-batch')
  .option('--accumulate <n>', 'micro-batches per update')
  .option('--lr <rate>', 'base learning rate')
  .option('--lr-boundaries <epochs>', "piecewise schedule: epochs where the rate drops, e.g. 6,9 ('none' = constant)")
  .option('--lr-factor <x>', 'piecewise schedule: factor at each boundary (default 0.1)')
  .option('--lr-file <file>', 'learning-rate schedule file ("epoch: rate" lines)')
  .option('--center-loss-factor <x>', 'center loss weight')
  .option('--val-split <x>', 'fraction of each identity held out for validation')
  .option('--seed <n>', 'random seed')
  .option('--workers <n>', 'data-parallel training worker threads (0 = main thread)', '0')
  .option('--max-steps <n>', 'stop training after this many updates (resume later with --resume)')
  .option('--eval-only', 'only evaluate a model and write the report')
  .option('--model <dir>', 'with --eval-only: the model to evaluate (default <out>/run/model)')
  .option('--lfw <dir>', 'LFW images (default <shared>/data/lfw)')
  .option('--lfw-pairs <file>', 'pairs.txt (default <shared>/data/lfw-pairs.txt)')
  .option('--lfw-pairs-per-fold <n>', 'only n matched + n mismatched pairs per fold (quick runs)')
  .option('--distance <metric>', 'squared-euclidean (0) or angular (1)', 'squared-euclidean')
  .option('--flip', 'concatenate each embedding with its mirror image\'s (--use_flipped_images)')
  .option('--force-eval', 'evaluate again even when the report folder has this evaluation')
  .option('--report <dir>', 'report folder (default <out>/report)')
  .action(main);

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`train: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});

