/**
 * The learning curve of a distillation run: the embedding and relational losses per update
 * (averaged over 25 updates) from its train-log.jsonl, as SVG and PNG.
 *   node --import tsx examples/distill/curve.ts RUN_DIR OUT_BASE
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import '../../src/runtime/install-node.js';
import { svgToPng } from '../../src/eval/roc-plot.js';
import { lineChartSvg } from '../train/curves.js';

const [run, out] = process.argv.slice(2);
if (!run || !out) throw new Error('usage: curve.ts RUN_DIR OUT_BASE');
const steps = (await readFile(join(run, 'train-log.jsonl'), 'utf8'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { type: string; step: number; epoch: number; distillation: number; relationalDistillation: number })
  .filter((r) => r.type === 'step');
// A resumed run logs the steps after its checkpoint again: keep the last record of each step.
const byStep = new Map(steps.map((r) => [r.step, r]));
const rows = [...byStep.values()].sort((a, b) => a.step - b.step);
const perEpoch = rows.length / Math.max(...rows.map((r) => r.epoch));
const window = 25;
const x: number[] = [];
const emb: number[] = [];
const rel: number[] = [];
for (let i = 0; i + window <= rows.length; i += window) {
  const part = rows.slice(i, i + window);
  x.push(part[part.length - 1].step / perEpoch);
  emb.push(part.reduce((s, r) => s + r.distillation, 0) / window);
  rel.push(part.reduce((s, r) => s + r.relationalDistillation, 0) / window);
}
const svg = lineChartSvg(
  [
    { label: 'embedding loss (1 − cos to the teacher)', x, y: emb },
    { label: 'relational loss (pairwise cosines)', x, y: rel },
  ],
  { title: 'Distilling dlib into Inception-ResNet-v1 (96 px, width ½)', xLabel: 'epoch', yLabel: 'loss', integerX: false },
);
await writeFile(`${out}.svg`, svg);
await writeFile(`${out}.png`, await svgToPng(svg));
console.log(`${rows.length} updates → ${out}.svg, ${out}.png`);
