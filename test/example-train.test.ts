/**
 * examples/train: its pure parts (line charts worked out by hand, training-log summary,
 * configuration from flags, crop sizes), then the whole path end to end on real data —
 * 4 CelebA identities × 10 photos aligned with MTCNN, a tiny Inception-ResNet-v1 trained
 * with softmax + center loss, LFW evaluated on 5 + 5 pairs per fold — followed by a
 * resumed run (alignment and crops skipped, one more epoch) and an --eval-only run.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ConfigError } from 'tfjs-facenet/node';
import { sharedPath } from './helpers.js';
import { runExample } from './example-run.js';
import { CHART_MARGIN, lineChartSvg, niceScale, niceStep } from '../examples/train/curves.js';
import { summarizeTrainLog } from '../examples/train/train-log.js';
import { configFromFlags, parseBlockRepeats, parseBoundaries } from '../examples/train/config.js';
import { makeSubset, trainingCropSize } from '../examples/train/crops.js';
import { formatDuration, type TrainReport } from '../examples/train/report.js';

/** The `points` of every polyline of an SVG document, as [x, y] pairs. */
function polylines(svg: string): Array<Array<[number, number]>> {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    m[1].split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  );
}

describe('examples/train/curves (line charts)', () => {
  it('picks 1/2/5 × 10^k tick steps and widens the range to whole steps', () => {
    expect(niceStep(1)).toBeCloseTo(0.2, 12); // 1/5 = 0.2 → 2 × 10^-1
    expect(niceStep(0.74)).toBeCloseTo(0.2, 12); // 0.148 → 2 × 10^-1
    expect(niceStep(30)).toBe(10); // 6 → 10
    expect(niceStep(12)).toBe(5); // 2.4 → 5
    expect(niceScale(0.13, 0.87)).toEqual({ min: 0, max: 1, step: 0.2, ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
    expect(niceScale(0.5, 1.5)).toEqual({ min: 0.4, max: 1.6, step: 0.2, ticks: [0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6] });
    // Epochs 1…3: step 0.5 would be nice, whole numbers force 1.
    expect(niceScale(1, 3, true)).toEqual({ min: 1, max: 3, step: 1, ticks: [1, 2, 3] });
    // One value: a range around it.
    expect(niceScale(2, 2, true)).toMatchObject({ min: 1, max: 3 });
  });

  it('places a 2-point series where the hand computation says', () => {
    // 640×400 with margins 64/20/40/52: plot area x 64…620 (556 wide), y 40…348 (308 high).
    expect(CHART_MARGIN).toEqual({ left: 64, right: 20, top: 40, bottom: 52 });
    const svg = lineChartSvg([{ label: 'a', x: [1, 2], y: [0, 1] }], { width: 640, height: 400 });
    // x 1…2 → 64…620; y range 0…1 (step 0.2): 0 → 348, 1 → 40.
    expect(polylines(svg)).toEqual([[[64, 348], [620, 40]]]);

    // y 0.5 and 1.5: axis 0.4…1.6. y(0.5) = 40 + (1.6 − 0.5)/1.2 · 308 = 322.333…,
    // y(1.5) = 40 + (1.6 − 1.5)/1.2 · 308 = 65.666…; x 1…3 spans the width.
    const svg2 = lineChartSvg([{ label: 'b', x: [1, 3], y: [0.5, 1.5] }]);
    expect(polylines(svg2)).toEqual([[[64, 322.33], [620, 65.67]]]);

    // Fixed range [0, 1] (accuracies): 0.25 → 40 + 0.75 · 308 = 271; 0.75 → 40 + 0.25 · 308 = 117.
    const svg3 = lineChartSvg([{ label: 'c', x: [1, 2], y: [0.25, 0.75] }], { yRange: [0, 1] });
    expect(polylines(svg3)).toEqual([[[64, 271], [620, 117]]]);
    expect(svg3).toContain('>0.6</text>'); // tick labels without floating-point noise
  });

  it('draws one polyline per series with points, leaves out non-finite points, keeps every legend entry', () => {
    const svg = lineChartSvg([
      { label: 'training', x: [1, 2, 3], y: [3, 2, 1] },
      { label: 'validation <val>', x: [1, 2, 3], y: [NaN, 2.5, 1.5] },
      { label: 'never', x: [1, 2, 3], y: [NaN, NaN, NaN] },
    ]);
    const lines = polylines(svg);
    expect(lines.map((l) => l.length)).toEqual([3, 2]);
    // Both series share the axis 1…3 (y): the validation point at epoch 2 sits at x 342 (midway).
    expect(lines[1][0][0]).toBe(342);
    expect(svg).toContain('validation &lt;val&gt;');
    expect(svg).toContain('>never</text>');
    expect(() => lineChartSvg([])).toThrow(RangeError);
    expect(() => lineChartSvg([{ label: 'x', x: [1], y: [1] }], { yRange: [1, 1] })).toThrow(/yRange/);
  });
});

describe('examples/train: training log, configuration, crop sizes', () => {
  it('summarizes a resumed log: later records of a step win, epochs are step means, time per session', () => {
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const step = (n: number, epoch: number, loss: number, time: number) =>
      JSON.stringify({ type: 'step', step: n, epoch, loss, crossEntropy: loss - 0.5, centerLoss: 1, regularization: 0.5, accuracy: n / 10, learningRate: 0.1, time: t(time) });
    const log = [
      JSON.stringify({ type: 'start', step: 0, classes: 4, trainImages: 32, validationImages: 8, stepsPerEpoch: 2, config: { epochs: 2 }, time: t(0) }),
      step(1, 1, 3, 10),
      step(2, 1, 2, 20),
      JSON.stringify({ type: 'epoch', epoch: 1, step: 2, validation: { loss: 2.5, crossEntropy: 2, centerLoss: 1.5, accuracy: 0.25 }, time: t(22) }),
      step(3, 2, 9, 30), // lost: the run died before its checkpoint
      '{"type":"step","step":4,', // a line cut by the kill
      JSON.stringify({ type: 'start', step: 2, classes: 4, trainImages: 32, validationImages: 8, stepsPerEpoch: 2, config: { epochs: 3 }, time: t(100) }),
      step(3, 2, 1.5, 110),
      step(4, 2, 0.5, 120),
      JSON.stringify({ type: 'epoch', epoch: 2, step: 4, time: t(121) }),
      JSON.stringify({ type: 'stop', reason: 'completed', time: t(125) }),
    ].join('\n') + '\n';
    const s = summarizeTrainLog(log);
    expect(s.badLines).toBe(1);
    expect(s.sessions).toBe(2);
    expect(s.stopReason).toBe('completed');
    expect(s.lastStep).toBe(4);
    expect(s.config).toEqual({ epochs: 3 });
    // Session 1: 0 → 30 s; session 2: 100 → 125 s.
    expect(s.seconds).toBe(55);
    expect(s.rows.map((r) => r.epoch)).toEqual([1, 2]);
    // Epoch 1: steps 1, 2 → loss (3 + 2)/2, accuracy (0.1 + 0.2)/2. Epoch 2: steps 3, 4 of the resumed session.
    expect(s.rows[0]).toMatchObject({ steps: 2, loss: 2.5, crossEntropy: 2, centerLoss: 1, valLoss: 2.5, valAccuracy: 0.25 });
    expect(s.rows[0].accuracy).toBeCloseTo(0.15, 12);
    expect(s.rows[1]).toMatchObject({ steps: 2, loss: 1, crossEntropy: 0.5 });
    expect(s.rows[1].valAccuracy).toBeNaN();
  });

  it('builds the configuration from a preset, a config file and flags, and names bad flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'train-config-'));
    try {
      const file = join(dir, 'c.json');
      await writeFile(file, JSON.stringify({ embeddingSize: 64, learningRate: 0.2 }));
      const c = await configFromFlags(
        { preset: 'tiny', config: file, lr: '0.3', blockRepeats: '2,3,4', widthMultiplier: '0.25', lrBoundaries: '5,8', imageSize: '96' },
        join(dir, 'run'),
      );
      expect(c).toMatchObject({
        imageSize: 96,
        embeddingSize: 64, // file over preset
        learningRate: 0.3, // flag over file
        batchSize: 8, // preset
        modelOptions: { blockRepeats: { block35: 2, block17: 3, block8: 4 }, widthMultiplier: 0.25 },
        schedule: { kind: 'piecewise', boundaries: [5, 8], factor: 0.1 },
      });
      expect(await configFromFlags({ preset: 'small', lrBoundaries: 'none' }, dir)).toMatchObject({ schedule: { kind: 'constant' } });
      expect(parseBoundaries('6,9')).toEqual([6, 9]);
      expect(() => parseBlockRepeats('1,2')).toThrow(ConfigError);
      await expect(configFromFlags({ preset: 'huge' }, dir)).rejects.toThrow(/--preset/);
      await expect(configFromFlags({ preset: 'tiny', epochs: '2.5' }, dir)).rejects.toThrow(/--epochs/);
      await expect(configFromFlags({ preset: 'tiny', resume: true }, join(dir, 'run'))).rejects.toThrow(/checkpoint to resume from/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sizes the crops so that the random crop covers the face area of 160 of 182', () => {
    expect(trainingCropSize(160)).toBe(182);
    expect(trainingCropSize(96)).toBe(109); // 96 · 182 / 160 = 109.2
    expect(trainingCropSize(80)).toBe(91); // 91.0
    expect(trainingCropSize(112, 200)).toBe(140); // 112 · 200 / 160
    expect(formatDuration(3725)).toBe('1 h 02 min 05 s');
    expect(formatDuration(12.34)).toBe('12.3 s');
  });

  it('links a subset of identities with enough images', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'train-subset-'));
    try {
      for (const [id, n] of [['a', 3], ['b', 1], ['c', 2], ['d', 5]] as const) {
        await mkdir(join(dir, 'in', id), { recursive: true });
        for (let i = 0; i < n; i++) await writeFile(join(dir, 'in', id, `${i}.jpg`), 'x');
      }
      const s = await makeSubset(join(dir, 'in'), join(dir, 'out'), 2, 2);
      expect(s).toEqual({ identities: ['a', 'c'], images: 4 });
      expect(await readdir(join(dir, 'out', 'a'))).toEqual(['0.jpg', '1.jpg']);
      expect(await readlink(join(dir, 'out', 'c', '1.jpg'))).toBe(join('..', '..', 'in', 'c', '1.jpg'));
      // Idempotent.
      expect(await makeSubset(join(dir, 'in'), join(dir, 'out'), 2, 2)).toEqual(s);
      await expect(makeSubset(join(dir, 'in'), join(dir, 'out2'), 4, 2)).rejects.toThrow(/--subset/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// Four CelebA identities (30 photos each); the first 10 photos of each.
const IDS = ['07226', '07233', '07238', '07240'];
const PER_ID = 10;
const EPOCHS = 3;
const CHARTS = ['loss', 'cross-entropy', 'center-loss', 'accuracy', 'learning-rate'];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'example-train-'));
  for (const id of IDS) {
    const src = sharedPath('data', 'celeba', id);
    const files = (await readdir(src)).filter((f) => f.endsWith('.jpg')).sort().slice(0, PER_ID);
    await mkdir(join(tmp, 'photos', id), { recursive: true });
    for (const f of files) await cp(join(src, f), join(tmp, 'photos', id, f));
  }
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('examples/train end to end', () => {
  const readReport = async (): Promise<TrainReport> => JSON.parse(await readFile(join(tmp, 'out', 'report', 'report.json'), 'utf8')) as TrainReport;
  const common = () => [
    '--data', join(tmp, 'photos'),
    '--out', join(tmp, 'out'),
    '--align-workers', '0',
    '--lfw', sharedPath('data', 'lfw'),
    '--lfw-pairs', sharedPath('data', 'lfw-pairs.txt'),
    '--lfw-pairs-per-fold', '5',
  ];

  it('aligns, trains, evaluates on LFW and writes the report', async () => {
    const { code, stderr } = await runExample('train/main.ts', [...common(), '--preset', 'tiny', '--epochs', String(EPOCHS)]).done;
    expect(code, stderr).toBe(0);
    for (const stage of ['[1/5] align', '[2/5] crops', '[3/5] train', '[4/5] eval', '[5/5] report']) expect(stderr).toContain(stage);

    const r = await readReport();
    // LFW: 5 matched + 5 mismatched pairs in each of 10 folds.
    const l = r.lfw;
    expect(l.pairs + l.skippedPairs).toBe(100);
    expect(l.pairs).toBeGreaterThanOrEqual(90);
    expect(l.folds).toBe(10);
    expect(l.pairsPerFold).toBe(5);
    for (const v of [l.accuracy.mean, l.val.mean, l.val.far, l.auc, l.eer]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(l.accuracy.std).toBeGreaterThanOrEqual(0);
    expect(l.accuracy.std).toBeLessThanOrEqual(0.5);
    expect(l.val.std).toBeGreaterThanOrEqual(0);
    expect(l.val.farTarget).toBe(1e-3);
    expect(l.thresholds).toHaveLength(10);
    if (l.skippedPairs === 0) {
      // Every fold has 10 pairs, so every fold accuracy is k/10 and their mean a multiple of 0.01.
      expect(Math.abs(l.accuracy.mean * 100 - Math.round(l.accuracy.mean * 100))).toBeLessThan(1e-9);
    }

    // Data: all 40 photos aligned (CelebA portraits), crops for the 80 px input of the tiny preset.
    expect(r.data).toMatchObject({ cropSize: 91, aligned: { imageSize: 182, margin: 44 } });
    const aligned = (r.data!.aligned as { faces: number; noFace: number });
    expect(aligned.faces + aligned.noFace).toBe(IDS.length * PER_ID);
    expect(aligned.faces).toBeGreaterThanOrEqual(IDS.length * PER_ID - 2);
    const crop = await sharp(join(r.data!.trainDir as string, IDS[0], (await readdir(join(r.data!.trainDir as string, IDS[0])))[0])).metadata();
    expect([crop.width, crop.height]).toEqual([91, 91]);

    // Training.
    const t = r.training!;
    expect(t.classes).toBe(4);
    expect(t.trainImages! + t.validationImages!).toBe(aligned.faces);
    expect(t.epochs).toBe(EPOCHS);
    expect(t.perEpoch.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(t.stopReason).toBe('completed');
    expect(t.sessions).toBe(1);
    expect(t.seconds).toBeGreaterThan(0);
    expect(t.config).toMatchObject({ imageSize: 80, embeddingSize: 32, modelOptions: { widthMultiplier: 0.125 } });
    for (const e of t.perEpoch) {
      expect(e.loss).toBeGreaterThan(0);
      expect(e.accuracy).toBeGreaterThanOrEqual(0);
      expect(e.accuracy).toBeLessThanOrEqual(1);
      expect(e.valAccuracy).toBeGreaterThanOrEqual(0);
    }
    expect(r.model.dimension).toBe(32);
    expect(r.model.preprocessing).toMatchObject({ imageSize: 80, standardization: 'fixed' });
    expect(Object.keys(r.stages).sort()).toEqual(['align', 'crops', 'eval', 'train']);

    // Every file of the report exists and decodes; the curves have one point per epoch.
    const dir = join(tmp, 'out', 'report');
    for (const name of ['roc', 'roc-log', ...CHARTS]) {
      const svgMeta = await sharp(join(dir, `${name}.svg`)).metadata();
      const pngMeta = await sharp(join(dir, `${name}.png`)).metadata();
      expect(svgMeta.format).toBe('svg');
      expect(pngMeta.format).toBe('png');
      expect([pngMeta.width, pngMeta.height]).toEqual(name.startsWith('roc') ? [640, 480] : [640, 400]);
    }
    for (const name of CHARTS) {
      const lines = polylines(await readFile(join(dir, `${name}.svg`), 'utf8'));
      expect(lines).toHaveLength(name === 'learning-rate' ? 1 : 2);
      for (const line of lines) expect(line).toHaveLength(EPOCHS);
    }

    // report.md states report.json's numbers.
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    for (const v of [l.accuracy.mean, l.accuracy.std, l.val.mean, l.val.std, l.val.far, l.auc, l.eer]) expect(md).toContain(v.toFixed(5));
    expect(md).toContain(`${t.seconds.toFixed(1)} s`);
    expect(md).toContain(`${l.pairs} pairs`);
    const last = t.perEpoch[EPOCHS - 1];
    expect(md).toContain(`| ${EPOCHS} | ${last.loss.toFixed(4)} | ${last.crossEntropy.toFixed(4)} | ${last.centerLoss.toFixed(4)} | ${last.accuracy.toFixed(4)} |`);
    for (const name of ['roc', ...CHARTS]) expect(md).toContain(`(${name}.png)`);
  });

  it('resumes: alignment and crops are skipped, training continues for one more epoch', async () => {
    const before = await readReport();
    // Without --resume the run refuses to mix a new run into the old one.
    const refused = await runExample('train/main.ts', [...common(), '--preset', 'tiny', '--epochs', String(EPOCHS)]).done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--resume');

    const { code, stderr } = await runExample('train/main.ts', [...common(), '--resume', '--epochs', String(EPOCHS + 1)]).done;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`0 aligned now, ${IDS.length * PER_ID} done before`);
    expect(stderr).toContain(`0 resized now, ${(before.data!.aligned as { faces: number }).faces} done before`);
    const r = await readReport();
    expect(r.training!.sessions).toBe(2);
    expect(r.training!.perEpoch.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    // The first three epochs are those of the first run.
    expect(r.training!.perEpoch.slice(0, EPOCHS)).toEqual(before.training!.perEpoch);
    expect(r.model.fingerprint).not.toBe(before.model.fingerprint);
    for (const line of polylines(await readFile(join(tmp, 'out', 'report', 'loss.svg'), 'utf8'))) expect(line).toHaveLength(EPOCHS + 1);
  });

  it('--eval-only reuses the evaluation of the same model', async () => {
    const before = await readReport();
    const { code, stderr } = await runExample('train/main.ts', [...common(), '--eval-only']).done;
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('reusing the evaluation');
    const r = await readReport();
    expect(r.lfw).toEqual(before.lfw);
    expect(r.data).toBeNull();
    expect(r.stages).toEqual({});
    expect(r.training!.perEpoch).toEqual(before.training!.perEpoch);
  });
});
