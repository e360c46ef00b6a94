/**
 * ROC curves as hand-written SVG (no plotting library), and the verification summary
 * as text. Pure string building; {@link svgToPng} (Node) rasterises with sharp.
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { VerificationReport } from './verification.js';

/** One curve of an ROC plot. */
export interface RocCurve {
  label: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  /** Mark this equal-error-rate point on the curve (optional). */
  eer?: number;
  /** CSS colour; default from a fixed palette. */
  color?: string;
}

/** Options of {@link rocCurveSvg}. */
export interface RocPlotOptions {
  /** Pixel width. Default 640. */
  width?: number;
  /** Pixel height. Default 480. */
  height?: number;
  /** Title above the plot. Default "ROC". */
  title?: string;
  /**
   * FPR axis scale. `'log'` spreads the low-FAR region that face verification cares about
   * (from `minFpr` to 1); points with FPR below `minFpr` are clipped to it. Default `'linear'`.
   */
  fprScale?: 'linear' | 'log';
  /** Left end of a log FPR axis. Default 1e-4. */
  minFpr?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmt(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/**
 * An SVG document plotting one or more ROC curves (TPR against FPR) with axes, grid,
 * the chance diagonal (linear scale), a legend and optional EER markers.
 */
export function rocCurveSvg(curves: RocCurve[], opts: RocPlotOptions = {}): string {
  if (curves.length === 0) throw new ConfigError('curves', 'at least one ROC curve is needed');
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const scale = opts.fprScale ?? 'linear';
  const minFpr = opts.minFpr ?? 1e-4;
  if (!(width >= 200 && height >= 150)) throw new ConfigError('width/height', 'the plot needs at least 200×150 pixels');
  if (scale === 'log' && !(minFpr > 0 && minFpr < 1)) throw new ConfigError('minFpr', 'must be in (0, 1)');
  const m = { left: 64, right: 20, top: 40, bottom: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const lo = Math.log10(minFpr);
  const xOf = (fpr: number): number => {
    const u = scale === 'log' ? (Math.log10(Math.max(fpr, minFpr)) - lo) / -lo : fpr;
    return m.left + u * pw;
  };
  const yOf = (tpr: number): number => m.top + (1 - tpr) * ph;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title ?? 'ROC')}</text>`,
  );
  // Grid and tick labels.
  const xTicks =
    scale === 'log'
      ? Array.from({ length: -lo + 1 }, (_, i) => 10 ** (lo + i))
      : [0, 0.2, 0.4, 0.6, 0.8, 1];
  for (const t of xTicks) {
    const x = fmt(xOf(t));
    parts.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e0e0e0"/>`);
    const exponent = Math.round(Math.log10(t));
    const label = scale === 'log' ? (exponent === 0 ? '1' : `1e${exponent}`) : String(t);
    parts.push(`<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${label}</text>`);
  }
  for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    const y = fmt(yOf(t));
    parts.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${t}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(
    `<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">False positive rate${scale === 'log' ? ' (log scale)' : ''}</text>`,
    `<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">True positive rate</text>`,
  );
  if (scale === 'linear') {
    parts.push(
      `<line x1="${fmt(xOf(0))}" y1="${fmt(yOf(0))}" x2="${fmt(xOf(1))}" y2="${fmt(yOf(1))}" stroke="#999" stroke-dasharray="4 4"/>`,
    );
  }
  // Legend at the bottom right, as wide as its longest label (≈ 7 px per character at 12 px).
  const legendWidth = 35 + 7 * Math.max(...curves.map((c) => c.label.length));
  const legendX = Math.max(m.left + 10, m.left + pw - 10 - legendWidth);
  curves.forEach((c, k) => {
    if (c.fpr.length !== c.tpr.length || c.fpr.length === 0) {
      throw new ShapeError(`curves[${k}].tpr`, `${c.fpr.length} points (as many as fpr, ≥ 1)`, String(c.tpr.length));
    }
    const color = c.color ?? PALETTE[k % PALETTE.length];
    const pts: string[] = [];
    for (let i = 0; i < c.fpr.length; i++) pts.push(`${fmt(xOf(c.fpr[i]))},${fmt(yOf(c.tpr[i]))}`);
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (c.eer !== undefined && Number.isFinite(c.eer)) {
      parts.push(
        `<circle cx="${fmt(xOf(c.eer))}" cy="${fmt(yOf(1 - c.eer))}" r="4" fill="${color}"><title>EER ${c.eer.toFixed(4)}</title></circle>`,
      );
    }
    const ly = m.top + ph - 12 - (curves.length - 1 - k) * 18;
    parts.push(
      `<line x1="${legendX}" y1="${ly}" x2="${legendX + 25}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${legendX + 30}" y="${ly}" dominant-baseline="middle">${esc(c.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Rasterise an SVG document to PNG bytes with sharp (librsvg). Node only. */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  const { loadSharp } = await import('../image/decode-node.js');
  const sharp = await loadSharp();
  return sharp(Buffer.from(svg, 'utf8')).png().toBuffer();
}

/** The ROC curve of a report, labelled with its AUC, ready for {@link rocCurveSvg}. */
export function reportCurve(report: VerificationReport, label = 'LFW'): RocCurve {
  return { label: `${label} (AUC ${report.auc.toFixed(3)})`, fpr: report.roc.fpr, tpr: report.roc.tpr, eer: report.eer };
}

/**
 * The report as text, in the reference's wording (`validate_on_lfw.py`):
 * accuracy mean ± std, validation rate ± std @ FAR, AUC, EER.
 */
export function formatVerificationReport(report: VerificationReport): string {
  const f5 = (v: number): string => v.toFixed(5);
  return [
    `Pairs: ${report.nrofPairs} (${report.nrofMatched} matched), ${report.nrofFolds} folds, distance ${report.metric}${report.subtractMean ? ', mean subtracted' : ''}`,
    `Accuracy: ${f5(report.accuracy.mean)}+-${f5(report.accuracy.std)}`,
    `Validation rate: ${f5(report.val.mean)}+-${f5(report.val.std)} @ FAR=${f5(report.val.far)} (target ${report.val.farTarget})`,
    `Area Under Curve (AUC): ${report.auc.toFixed(3)}`,
    `Equal Error Rate (EER): ${report.eer.toFixed(3)}`,
    `Thresholds per fold: ${report.accuracy.thresholds.map((t) => t.toFixed(2)).join(' ')}`,
  ].join('\n');
}
