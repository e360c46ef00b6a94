/**
 * Line charts of training curves as hand-written SVG: pure functions from numbers to SVG
 * text (no plotting library, no DOM). The training example rasterises them with sharp.
 *
 * Geometry: the plot area is the image minus {@link CHART_MARGIN}; the axes span the
 * "nice" range of the data (multiples of a 1 / 2 / 5 × 10^k tick step covering every
 * value) unless the caller fixes them, and a value v maps linearly to
 * `left + (v − min) / (max − min) · plotWidth` (x) and `top + (max − v) / (max − min) · plotHeight` (y).
 */

/** One line of a chart. Points whose x or y is not finite are left out. */
export interface ChartSeries {
  label: string;
  x: readonly number[];
  y: readonly number[];
  /** CSS colour; default from a fixed palette by position. */
  color?: string;
  /** Dashed line (e.g. validation against training). Default false. */
  dashed?: boolean;
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  /** Pixel width. Default 640. */
  width?: number;
  /** Pixel height. Default 400. */
  height?: number;
  /** Title above the plot. Default none. */
  title?: string;
  /** Label under the x axis. Default "epoch". */
  xLabel?: string;
  /** Label beside the y axis. Default none. */
  yLabel?: string;
  /** Fixed y range (e.g. `[0, 1]` for accuracies). Default: the nice range of the data. */
  yRange?: readonly [number, number];
  /** Fixed x range. Default: the nice range of the data. */
  xRange?: readonly [number, number];
  /** Only whole-number ticks on x (epochs). Default true. */
  integerX?: boolean;
  /** Draw a dot at every point when a series has at most this many. Default 40. */
  maxMarkers?: number;
  /** Corner of the legend: where the curves are not (falling losses: top right; rising accuracies: bottom right). Default 'top-right'. */
  legend?: 'top-right' | 'bottom-right';
}

/** Space around the plot area, in pixels. */
export const CHART_MARGIN = Object.freeze({ left: 64, right: 20, top: 40, bottom: 52 });

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** Axis range and ticks. */
export interface AxisScale {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** The 1 / 2 / 5 × 10^k step that cuts `span` into about `count` intervals. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * power;
}

/** Decimal rounding that removes floating-point noise from tick values (0.30000000000000004 → 0.3). */
function clean(v: number): number {
  return Number.parseFloat(v.toPrecision(12));
}

/**
 * The axis of values `lo … hi`: a nice tick step, the range widened to whole steps. A
 * single value gets a range around it; `integer` forces steps ≥ 1 that are whole numbers.
 */
export function niceScale(lo: number, hi: number, integer = false): AxisScale {
  if (lo === hi) {
    const pad = integer ? 1 : Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  let step = niceStep(hi - lo);
  if (integer) step = Math.max(1, Math.round(step));
  const min = clean(Math.floor(lo / step + 1e-9) * step);
  const max = clean(Math.ceil(hi / step - 1e-9) * step);
  return { min, max, step, ticks: ticksOf(min, max, step) };
}

function ticksOf(min: number, max: number, step: number): number[] {
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step * 1e-9; k++) ticks.push(clean(min + k * step));
  return ticks;
}

/** A fixed axis range with nice ticks inside it. */
function fixedScale(range: readonly [number, number], integer: boolean): AxisScale {
  const [min, max] = range;
  let step = niceStep(max - min);
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(min / step - 1e-9) * step;
  return { min, max, step, ticks: ticksOf(first, max, step) };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Pixel coordinates to two decimals, without trailing zeros. */
function px(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** Tick label: at most 4 significant digits, exponent form for very small / large values. */
function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(1).replace('e+', 'e');
  return clean(Number(v.toPrecision(4))).toString();
}

/** The finite points of a series, in order. */
export function finitePoints(s: ChartSeries): Array<[number, number]> {
  const n = Math.min(s.x.length, s.y.length);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) if (Number.isFinite(s.x[i]) && Number.isFinite(s.y[i])) out.push([s.x[i], s.y[i]]);
  return out;
}

/**
 * An SVG document with one `<polyline>` per series that has at least one finite point
 * (in series order), axes with grid and tick labels, and a legend. Series without finite
 * points appear in the legend only.
 * @throws {RangeError} for no series, a size below 200×150 or an empty fixed range.
 */
export function lineChartSvg(series: readonly ChartSeries[], opts: LineChartOptions = {}): string {
  if (series.length === 0) throw new RangeError('lineChartSvg: at least one series is needed');
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  if (!(width >= 200 && height >= 150)) throw new RangeError('lineChartSvg: the chart needs at least 200×150 pixels');
  for (const [name, r] of [['xRange', opts.xRange], ['yRange', opts.yRange]] as const) {
    if (r && !(r[1] > r[0])) throw new RangeError(`lineChartSvg: ${name} must be [min, max] with max > min, got [${r.join(', ')}]`);
  }
  const integerX = opts.integerX ?? true;
  const maxMarkers = opts.maxMarkers ?? 40;
  const m = CHART_MARGIN;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;

  const points = series.map(finitePoints);
  const all = points.flat();
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xScale = opts.xRange
    ? fixedScale(opts.xRange, integerX)
    : all.length > 0 ? niceScale(Math.min(...xs), Math.max(...xs), integerX) : niceScale(0, 1, integerX);
  const yScale = opts.yRange
    ? fixedScale(opts.yRange, false)
    : all.length > 0 ? niceScale(Math.min(...ys), Math.max(...ys)) : niceScale(0, 1);
  const xOf = (v: number) => m.left + ((v - xScale.min) / (xScale.max - xScale.min)) * pw;
  const yOf = (v: number) => m.top + ((yScale.max - v) / (yScale.max - yScale.min)) * ph;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  for (const t of xScale.ticks) {
    const x = px(xOf(t));
    parts.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + ph}" stroke="#e0e0e0"/>`,
      `<text x="${x}" y="${m.top + ph + 18}" text-anchor="middle">${tickLabel(t)}</text>`,
    );
  }
  for (const t of yScale.ticks) {
    const y = px(yOf(t));
    parts.push(
      `<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#e0e0e0"/>`,
      `<text x="${m.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
    );
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 12}" text-anchor="middle">${esc(opts.xLabel ?? 'epoch')}</text>`);
  if (opts.yLabel) {
    parts.push(`<text x="16" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + ph / 2})">${esc(opts.yLabel)}</text>`);
  }
  // Lines are clipped to the plot area: a fixed range may cut off outliers.
  parts.push(`<clipPath id="plot"><rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}"/></clipPath>`);
  const colors = series.map((s, k) => s.color ?? PALETTE[k % PALETTE.length]);
  const dashes = series.map((s) => (s.dashed ? ' stroke-dasharray="6 4"' : ''));
  series.forEach((_, k) => {
    const pts = points[k];
    if (pts.length === 0) return;
    const coords = pts.map(([x, y]) => `${px(xOf(x))},${px(yOf(y))}`).join(' ');
    parts.push(`<polyline points="${coords}" fill="none" stroke="${colors[k]}" stroke-width="2"${dashes[k]} clip-path="url(#plot)"/>`);
    if (pts.length <= maxMarkers) {
      for (const [x, y] of pts) parts.push(`<circle cx="${px(xOf(x))}" cy="${px(yOf(y))}" r="3" fill="${colors[k]}" clip-path="url(#plot)"/>`);
    }
  });
  // Legend in a corner, over the curves on a translucent white box, so both stay readable.
  const legendWidth = 35 + 7 * Math.max(...series.map((s) => s.label.length));
  const legendX = Math.max(m.left + 10, m.left + pw - 10 - legendWidth);
  const legendRow = (k: number) => (opts.legend === 'bottom-right' ? m.top + ph - 14 - (series.length - 1 - k) * 18 : m.top + 14 + k * 18);
  parts.push(
    `<rect x="${legendX - 6}" y="${legendRow(0) - 11}" width="${legendWidth + 12}" height="${series.length * 18 + 4}" fill="#ffffff" fill-opacity="0.85"/>`,
  );
  series.forEach((s, k) => {
    const ly = legendRow(k);
    parts.push(
      `<line x1="${legendX}" y1="${ly}" x2="${legendX + 25}" y2="${ly}" stroke="${colors[k]}" stroke-width="2"${dashes[k]}/>`,
      `<text x="${legendX + 30}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
