/**
 * Per-stage plot of MTCNN's CPU time per 640×480 frame: one stacked bar per bench:detect
 * run (its component breakdown, mean over the frames), one for `track()` from that run, and
 * any rows given as numbers (e.g. a figure recorded in BENCHMARKS.md before the JSON was kept).
 *
 *   node --import tsx bench/stage-plot.ts --out docs/images/mtcnn-stages.svg \
 *     --row "LABEL=pyramid,pnetNet,pnetPost,rnetCrops,rnetNet,onetCrops,onetNet,post" \
 *     --run "LABEL=out/detect.json" [--track "LABEL=out/detect.json"]
 */
import { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { stackedBarSvg, type StackedBar } from '../src/eval/bar-plot.js';
import '../src/runtime/install-node.js';
import { writeFileAtomic } from '../src/util/atomic.js';

const PARTS = [
  'pyramid resampling',
  'P-Net network',
  'P-Net boxes + NMS',
  'R-Net crops',
  'R-Net network',
  'O-Net crops',
  'O-Net network',
  'NMS / regression after R-, O-Net',
  'track(): crops + R-Net + O-Net',
];

const collect = (v: string, acc: string[]) => [...acc, v];
const program = new Command('stage-plot')
  .requiredOption('--out <svg>', 'SVG file to write')
  .option('--row <label=values>', 'a bar from 8 comma-separated stage figures (repeatable)', collect, [])
  .option('--run <label=json>', 'a bar from a bench:detect --json file (repeatable)', collect, [])
  .option('--track <label=json>', "a bar of the track() CPU mean of a bench:detect --json file (repeatable)", collect, [])
  .option('--title <text>', 'plot title', 'MTCNN on one 640×480 frame, wasm (1 thread): process CPU ms by stage')
  .parse();
const o = program.opts<{ out: string; row: string[]; run: string[]; track: string[]; title: string }>();

const split = (s: string): [string, string] => {
  const i = s.lastIndexOf('=');
  if (i <= 0) throw new Error(`expected LABEL=VALUE, got '${s}'`);
  return [s.slice(0, i), s.slice(i + 1)];
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

interface DetectJson {
  breakdowns: { backend: string; set: string; rows: Record<string, number>[] }[];
  trackRows: { backend: string; cpu: number[] }[];
}
const read = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as DetectJson;

const bars: StackedBar[] = [];
for (const r of o.row) {
  const [label, values] = split(r);
  const v = values.split(',').map(Number);
  if (v.length !== 8) throw new Error(`--row ${label}: 8 values expected`);
  bars.push({ label, values: [...v, 0] });
}
for (const r of o.run) {
  const [label, file] = split(r);
  const b = (await read(file)).breakdowns.find((x) => x.backend === 'wasm' && x.set === 'frames');
  if (!b) throw new Error(`${file}: no wasm frames breakdown`);
  const m = (k: string) => mean(b.rows.map((row) => row[k]));
  bars.push({
    label,
    values: [m('pyramid'), m('pnetNet'), m('pnetPost'), m('rnetCrops'), m('rnetNet'), m('onetCrops'), m('onetNet'), m('rnetPost') + m('onetPost'), 0],
  });
}
for (const r of o.track) {
  const [label, file] = split(r);
  const t = (await read(file)).trackRows.find((x) => x.backend === 'wasm');
  if (!t) throw new Error(`${file}: no wasm track() row`);
  bars.push({ label, values: [0, 0, 0, 0, 0, 0, 0, 0, mean(t.cpu)] });
}
await writeFileAtomic(o.out, stackedBarSvg(bars, { parts: PARTS, title: o.title, unit: 'process CPU ms per frame (mean over the 5 group frames)' }));
for (const b of bars) console.log(`${b.label}: ${b.values.reduce((a, v) => a + v, 0).toFixed(1)} ms`);
console.log(`wrote ${o.out}`);
