/**
 * The report of a training run: `report.json` (every number), `report.md` (the same for
 * people), the LFW ROC curve and the training curves, each as SVG and PNG.
 * Building the documents is pure ({@link buildReport}, {@link reportMarkdown},
 * {@link trainingCharts}); {@link writeReport} writes the folder.
 */
import { join } from 'node:path';
import { reportCurve, rocCurveSvg, svgToPng, type LfwEvaluation, type Preprocessing, type VerificationMetric } from 'tfjs-facenet/node';
import { writeFileAtomic } from '../common/files.js';
import { lineChartSvg, type ChartSeries, type LineChartOptions } from './curves.js';
import type { EpochRow, TrainLogSummary } from './train-log.js';

/** The LFW part of the report. Rates are fractions. */
export interface LfwSection {
  pairsFile: string;
  lfwDir: string;
  /** Pairs evaluated (pairs with a missing image or no face left out). */
  pairs: number;
  matchedPairs: number;
  /** Matched (and mismatched) pairs per fold used; null = all of pairs.txt. */
  pairsPerFold: number | null;
  folds: number;
  images: number;
  noFace: number;
  missing: number;
  skippedPairs: number;
  metric: VerificationMetric;
  flip: boolean;
  accuracy: { mean: number; std: number };
  /** Validation rate at the FAR target: mean ± std over folds, and the mean FAR reached. */
  val: { mean: number; std: number; far: number; farTarget: number };
  auc: number;
  eer: number;
  thresholds: number[];
  seconds: number;
}

/** The training part of the report (from the training log). */
export interface TrainingSection {
  config: Record<string, unknown> | null;
  classes: number | null;
  trainImages: number | null;
  validationImages: number | null;
  epochs: number;
  steps: number;
  /** Wall-clock training time over all sessions (resumes included). */
  seconds: number;
  sessions: number;
  stopReason: string | null;
  /** Last epoch's numbers. */
  final: EpochRow | null;
  perEpoch: EpochRow[];
}

/** Everything in report.json (numbers that are not finite, e.g. epochs without validation, are written as null). */
export interface TrainReport {
  createdAt: string;
  backend: string;
  model: { dir: string; fingerprint: string; dimension: number; preprocessing: Preprocessing };
  /** Inputs and preparation; absent for `--eval-only`. */
  data: Record<string, unknown> | null;
  training: TrainingSection | null;
  lfw: LfwSection;
  /** Seconds of each stage run by this invocation (a skipped stage is absent). */
  stages: Record<string, number>;
  /** Files of the report folder. */
  files: Record<string, string>;
}

/** Inputs of {@link buildReport}. */
export interface ReportInputs {
  backend: string;
  model: TrainReport['model'];
  data: Record<string, unknown> | null;
  trainLog: TrainLogSummary | null;
  evaluation: LfwEvaluation;
  lfw: { pairsFile: string; lfwDir: string; pairsPerFold: number | null; flip: boolean };
  stages: Record<string, number>;
  createdAt?: Date;
}

/** The LFW section of an evaluation. */
export function lfwSection(ev: LfwEvaluation, opts: ReportInputs['lfw']): LfwSection {
  const r = ev.report;
  return {
    pairsFile: opts.pairsFile,
    lfwDir: opts.lfwDir,
    pairs: r.nrofPairs,
    matchedPairs: r.nrofMatched,
    pairsPerFold: opts.pairsPerFold,
    folds: r.nrofFolds,
    images: ev.images,
    noFace: ev.noFace.length,
    missing: ev.missing.length,
    skippedPairs: ev.skippedPairs,
    metric: r.metric,
    flip: opts.flip,
    accuracy: { mean: r.accuracy.mean, std: r.accuracy.std },
    val: { mean: r.val.mean, std: r.val.std, far: r.val.far, farTarget: r.val.farTarget },
    auc: r.auc,
    eer: r.eer,
    thresholds: r.accuracy.thresholds,
    seconds: ev.seconds,
  };
}

/** The training section of a log summary. */
export function trainingSection(log: TrainLogSummary): TrainingSection {
  const final = log.rows.length > 0 ? log.rows[log.rows.length - 1] : null;
  return {
    config: log.config,
    classes: log.classes,
    trainImages: log.trainImages,
    validationImages: log.validationImages,
    epochs: final?.epoch ?? 0,
    steps: log.lastStep,
    seconds: log.seconds,
    sessions: log.sessions,
    stopReason: log.stopReason,
    final,
    perEpoch: log.rows,
  };
}

/** The names of the chart files (without extension) and what they show. */
export const CHART_FILES = ['loss', 'cross-entropy', 'center-loss', 'accuracy', 'learning-rate'] as const;
export type ChartName = (typeof CHART_FILES)[number];

/**
 * The training charts: total loss, cross-entropy, center loss and accuracy (training
 * solid, validation dashed), and the learning rate, one point per epoch.
 */
export function trainingCharts(rows: readonly EpochRow[]): Array<{ name: ChartName; svg: string }> {
  const x = rows.map((r) => r.epoch);
  const pair = (train: keyof EpochRow, val: keyof EpochRow): ChartSeries[] => [
    { label: 'training', x, y: rows.map((r) => r[train]), color: '#1f77b4' },
    { label: 'validation', x, y: rows.map((r) => r[val]), color: '#d62728', dashed: true },
  ];
  const chart = (name: ChartName, series: ChartSeries[], o: LineChartOptions) => ({ name, svg: lineChartSvg(series, o) });
  return [
    chart('loss', pair('loss', 'valLoss'), { title: 'Total loss (training includes weight decay)', yLabel: 'loss' }),
    chart('cross-entropy', pair('crossEntropy', 'valCrossEntropy'), { title: 'Softmax cross-entropy', yLabel: 'cross-entropy' }),
    chart('center-loss', pair('centerLoss', 'valCenterLoss'), { title: 'Center loss', yLabel: 'center loss' }),
    chart('accuracy', pair('accuracy', 'valAccuracy'), { title: 'Classification accuracy', yLabel: 'accuracy', yRange: [0, 1], legend: 'bottom-right' }),
    chart('learning-rate', [{ label: 'learning rate', x, y: rows.map((r) => r.learningRate), color: '#2ca02c' }], {
      title: 'Learning rate (mean over the epoch)',
      yLabel: 'rate',
    }),
  ];
}

/** report.json's content (pure). */
export function buildReport(inp: ReportInputs): TrainReport {
  const files: Record<string, string> = {
    json: 'report.json',
    markdown: 'report.md',
    rocSvg: 'roc.svg',
    rocPng: 'roc.png',
    rocLogSvg: 'roc-log.svg',
    rocLogPng: 'roc-log.png',
  };
  if (inp.trainLog && inp.trainLog.rows.length > 0) {
    for (const c of CHART_FILES) {
      files[`${c}Svg`] = `${c}.svg`;
      files[`${c}Png`] = `${c}.png`;
    }
  }
  return {
    createdAt: (inp.createdAt ?? new Date()).toISOString(),
    backend: inp.backend,
    model: inp.model,
    data: inp.data,
    training: inp.trainLog ? trainingSection(inp.trainLog) : null,
    lfw: lfwSection(inp.evaluation, inp.lfw),
    stages: inp.stages,
    files,
  };
}

const f4 = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');
const f5 = (v: number) => (Number.isFinite(v) ? v.toFixed(5) : '–');

/** Seconds as `1 h 02 min 05 s` / `3 min 20 s` / `12.3 s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h} h ${pad(m)} min ${pad(sec)} s` : `${m} min ${pad(sec)} s`;
}

/**
 * report.md (pure). LFW rates are written with 5 decimals (as the reference's
 * `validate_on_lfw.py` prints them), losses and accuracies per epoch with 4.
 */
export function reportMarkdown(r: TrainReport): string {
  const l = r.lfw;
  const lines: string[] = [
    '# FaceNet training report',
    '',
    `Created ${r.createdAt} on the ${r.backend} backend.`,
    '',
    '## LFW verification',
    '',
    `${l.pairs} pairs (${l.matchedPairs} matched) in ${l.folds} folds` +
      (l.pairsPerFold !== null ? ` — a quick subset: ${l.pairsPerFold} matched + ${l.pairsPerFold} mismatched pairs per fold` : ' — the full benchmark') +
      `; ${l.images} images, no face found in ${l.noFace}, missing ${l.missing}, pairs left out ${l.skippedPairs}. ` +
      `Distance ${l.metric}${l.flip ? ', flipped images concatenated' : ''}.`,
    '',
    '| metric | value |',
    '|---|---|',
    `| Accuracy | ${f5(l.accuracy.mean)} ± ${f5(l.accuracy.std)} |`,
    `| Validation rate (VAL) @ FAR=${l.val.farTarget} | ${f5(l.val.mean)} ± ${f5(l.val.std)} |`,
    `| FAR reached | ${f5(l.val.far)} |`,
    `| Area under the ROC curve (AUC) | ${f5(l.auc)} |`,
    `| Equal error rate (EER) | ${f5(l.eer)} |`,
    `| Evaluation time | ${formatDuration(l.seconds)} |`,
    '',
    `Best thresholds per fold: ${l.thresholds.map((t) => t.toFixed(2)).join(' ')}`,
    '',
    '![ROC curve](roc.png) ![ROC curve, log FPR](roc-log.png)',
    '',
    '## Model',
    '',
    `- Directory: \`${r.model.dir}\``,
    `- Fingerprint: \`${r.model.fingerprint}\``,
    `- Embedding dimension: ${r.model.dimension}`,
    `- Preprocessing: ${JSON.stringify(r.model.preprocessing)}`,
    '',
  ];
  const t = r.training;
  if (t) {
    lines.push(
      '## Training',
      '',
      `- Identities: ${t.classes ?? '–'}; training images: ${t.trainImages ?? '–'}; validation images: ${t.validationImages ?? '–'}`,
      `- Epochs: ${t.epochs}; updates: ${t.steps}; sessions: ${t.sessions} (1 + resumes); stopped: ${t.stopReason ?? 'not cleanly'}`,
      `- Training time: ${formatDuration(t.seconds)} (${t.seconds.toFixed(1)} s)`,
    );
    if (t.final) {
      lines.push(
        `- Final epoch: loss ${f4(t.final.loss)}, cross-entropy ${f4(t.final.crossEntropy)}, center loss ${f4(t.final.centerLoss)}, ` +
          `accuracy ${f4(t.final.accuracy)}, validation accuracy ${f4(t.final.valAccuracy)}`,
      );
    }
    lines.push('', '| epoch | loss | cross-entropy | center loss | accuracy | val loss | val accuracy | learning rate |', '|---|---|---|---|---|---|---|---|');
    for (const e of t.perEpoch) {
      lines.push(
        `| ${e.epoch} | ${f4(e.loss)} | ${f4(e.crossEntropy)} | ${f4(e.centerLoss)} | ${f4(e.accuracy)} | ${f4(e.valLoss)} | ${f4(e.valAccuracy)} | ${e.learningRate.toPrecision(3)} |`,
      );
    }
    if (t.perEpoch.length > 0) {
      lines.push('', ...CHART_FILES.map((c) => `![${c}](${c}.png)`));
    }
    lines.push('', '### Configuration', '', '```json', JSON.stringify(t.config, null, 2), '```', '');
  }
  if (r.data) lines.push('## Data', '', '```json', JSON.stringify(r.data, null, 2), '```', '');
  const stages = Object.entries(r.stages);
  if (stages.length > 0) {
    lines.push('## Stages run by this invocation', '', '| stage | time |', '|---|---|');
    for (const [name, s] of stages) lines.push(`| ${name} | ${formatDuration(s)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Write report.json, report.md and every chart (SVG + PNG) into `dir`. */
export async function writeReport(dir: string, report: TrainReport, evaluation: LfwEvaluation): Promise<void> {
  const title = `LFW ROC — accuracy ${(100 * report.lfw.accuracy.mean).toFixed(2)} %`;
  const curve = reportCurve(evaluation.report, 'LFW');
  const svgs: Array<[string, string]> = [
    ['roc', rocCurveSvg([curve], { title })],
    ['roc-log', rocCurveSvg([curve], { title, fprScale: 'log', minFpr: 1e-3 })],
  ];
  if (report.training && report.training.perEpoch.length > 0) {
    for (const c of trainingCharts(report.training.perEpoch)) svgs.push([c.name, c.svg]);
  }
  for (const [name, svg] of svgs) {
    await writeFileAtomic(join(dir, `${name}.svg`), svg);
    await writeFileAtomic(join(dir, `${name}.png`), await svgToPng(svg));
  }
  await writeFileAtomic(join(dir, 'report.md'), reportMarkdown(report));
  await writeFileAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
}

