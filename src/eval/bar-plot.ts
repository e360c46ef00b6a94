/**
 * Stacked horizontal bars as hand-written SVG (no plotting library), in the style of
 * roc-plot.ts: one bar per run, one coloured segment per part (e.g. the stages of a
 * detection and their milliseconds), a legend and the total at the end of each bar.
 */
import { ConfigError, ShapeError } from '../errors.js';

/** One bar: a label and one value per part (in the order of {@link StackedBarOptions.parts}). */
export interface StackedBar {
  label: string;
  values: readonly number[];
}

/** Options of {@link stackedBarSvg}. */
export interface StackedBarOptions {
  /** Names of the parts, in stacking order (left to right). */
  parts: readonly string[];
  title?: string;
  /** Axis label, e.g. "CPU ms per frame". */
  unit?: string;
  /** Pixel width. Default 760. */
  width?: number;
}

const PALETTE = ['#1f77b4', '#aec7e8', '#ff7f0e', '#ffbb78', '#2ca02c', '#98df8a', '#d62728', '#ff9896', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A round axis step giving about `n` ticks up to `max`. */
function niceStep(max: number, n: number): number {
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((k) => k * p).find((s) => s >= raw)!;
}

/**
 * An SVG document with one stacked horizontal bar per entry of `bars`.
 * @throws {ConfigError} without bars or parts, {ShapeError} when a bar's values do not
 *   match the parts, or a value is negative or not finite.
 */
export function stackedBarSvg(bars: readonly StackedBar[], opts: StackedBarOptions): string {
  if (bars.length === 0) throw new ConfigError('bars', 'at least one bar is needed');
  if (opts.parts.length === 0) throw new ConfigError('parts', 'at least one part is needed');
  for (const b of bars) {
    if (b.values.length !== opts.parts.length) throw new ShapeError(`bar '${b.label}'`, `${opts.parts.length} values`, `${b.values.length}`);
    if (!b.values.every((v) => Number.isFinite(v) && v >= 0)) throw new ShapeError(`bar '${b.label}'`, 'finite values ≥ 0', b.values.join(', '));
  }
  const width = opts.width ?? 760;
  const barH = 26;
  const gap = 14;
  const legendRows = Math.ceil(opts.parts.length / 3);
  const m = { left: 230, right: 70, top: opts.title ? 40 : 16, bottom: 44 + legendRows * 20 };
  const pw = width - m.left - m.right;
  const ph = bars.length * (barH + gap) - gap;
  const height = m.top + ph + m.bottom;
  const totals = bars.map((b) => b.values.reduce((a, v) => a + v, 0));
  const max = Math.max(...totals, 1e-9);
  const step = niceStep(max, 6);
  const top = Math.ceil(max / step) * step;
  const x = (v: number) => m.left + (v / top) * pw;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  if (opts.title) out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  for (let v = 0; v <= top + 1e-9; v += step) {
    const px = x(v).toFixed(1);
    out.push(`<line x1="${px}" y1="${m.top}" x2="${px}" y2="${m.top + ph}" stroke="#ddd"/>`);
    out.push(`<text x="${px}" y="${m.top + ph + 16}" text-anchor="middle">${+v.toFixed(6)}</text>`);
  }
  if (opts.unit) out.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 34}" text-anchor="middle">${esc(opts.unit)}</text>`);
  bars.forEach((b, i) => {
    const y = m.top + i * (barH + gap);
    out.push(`<text x="${m.left - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(b.label)}</text>`);
    let acc = 0;
    b.values.forEach((v, k) => {
      if (v > 0) {
        out.push(
          `<rect x="${x(acc).toFixed(1)}" y="${y}" width="${(x(acc + v) - x(acc)).toFixed(1)}" height="${barH}" fill="${PALETTE[k % PALETTE.length]}"><title>${esc(opts.parts[k])}: ${v.toFixed(1)}</title></rect>`,
        );
      }
      acc += v;
    });
    out.push(`<text x="${(x(acc) + 6).toFixed(1)}" y="${y + barH / 2 + 4}">${totals[i].toFixed(1)}</text>`);
  });
  opts.parts.forEach((p, k) => {
    const lx = m.left - 150 + (k % 3) * ((pw + 150) / 3);
    const ly = m.top + ph + 50 + Math.floor(k / 3) * 20;
    out.push(`<rect x="${lx.toFixed(1)}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/>`);
    out.push(`<text x="${(lx + 18).toFixed(1)}" y="${ly}">${esc(p)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
