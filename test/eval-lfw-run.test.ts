/**
 * The LFW benchmark end to end on a few real LFW pairs per fold, with a tiny random
 * network (numbers are not meaningful identity-wise): the pipeline's report must equal the
 * metrics computed from embeddings obtained independently image by image; the CLI writes
 * the same report, an SVG and a PNG ROC curve.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type * as tfl from '@tensorflow/tfjs-layers';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath, countLeaks } from './helpers.js';
import { runCli as cli } from './cli-helpers.js';
import { createTinyEmbedder } from './tiny-embedder.js';
import type { Mtcnn } from '../src/mtcnn/detector.js';
import { saveModel } from '../src/facenet/index.js';
import { FacenetEmbedder } from '../src/recognition/embedder.js';
import { writeModelPreprocessing } from '../src/recognition/load.js';
import { evaluateLfw, subsetLfwPairs } from '../src/eval/lfw-evaluate.js';
import { readLfwPairs, resolveLfwPairs } from '../src/eval/lfw-files.js';
import { evaluateVerification } from '../src/eval/verification.js';
import { rocCurveSvg, svgToPng, reportCurve, formatVerificationReport } from '../src/eval/roc-plot.js';
import { loadSharp } from '../src/image/decode-node.js';
import { ConfigError } from '../src/errors.js';


let mtcnn: Mtcnn;
let model: tfl.LayersModel;
let embedder: FacenetEmbedder;
let tmp: string;

beforeAll(async () => {
  ({ mtcnn, model, embedder } = await createTinyEmbedder(21));
  tmp = await mkdtemp(join(tmpdir(), 'eval-lfw-'));
});
afterAll(async () => {
  mtcnn?.dispose();
  model?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * Embeddings of the pairs (1 + 1 per fold), one image at a time through the public
 * embed() of a flip embedder: its `[a ‖ b] / √2` times √2 is the reference's raw
 * concatenation, and its first half times √2 the plain embedding.
 */
async function independentPairs() {
  const pairs = subsetLfwPairs(await readLfwPairs(sharedPath('data', 'lfw-pairs.txt')), 1);
  const resolved = resolveLfwPairs(pairs, sharedPath('data', 'lfw'));
  const flipEmbedder = await FacenetEmbedder.create({ model, detector: mtcnn, preprocessing: { margin: 16, flip: true } });
  const both = await flipEmbedder.embed(resolved.images);
  const concat = both.map((e) => e.map((x) => x * Math.SQRT2));
  const plain = concat.map((e) => e.slice(0, 16));
  const pick = (list: Float32Array[]) => ({
    emb1: resolved.pairs.map((p) => list[p.image1]),
    emb2: resolved.pairs.map((p) => list[p.image2]),
    issame: resolved.pairs.map((p) => p.issame),
  });
  return { plain: pick(plain), flip: pick(concat), flipUnit: pick(both), flipEmbedder, images: resolved.images.length };
}

let apiReport: Awaited<ReturnType<typeof evaluateLfw>>;

describe('evaluateLfw', () => {
  it('subsets keep the fold structure', async () => {
    const all = await readLfwPairs(sharedPath('data', 'lfw-pairs.txt'));
    const s = subsetLfwPairs(all, 2);
    expect(s.pairs.length).toBe(40);
    expect(s.pairs.slice(0, 4).map((p) => [p.fold, p.issame, p.line])).toEqual([
      [0, true, 2],
      [0, true, 3],
      [0, false, 302],
      [0, false, 303],
    ]);
    expect(() => subsetLfwPairs(all, 301)).toThrow(ConfigError);
  });

  it('report = metrics of independently computed embeddings, plain and flipped (no leaks)', async () => {
    apiReport = await evaluateLfw(embedder, { pairsPerFold: 1 });
    let flipped: Awaited<ReturnType<typeof evaluateLfw>> | undefined;
    expect(
      await countLeaks(async () => {
        flipped = await evaluateLfw(embedder, { pairsPerFold: 1, flip: true });
      }),
    ).toBe(0);
    const ind = await independentPairs();
    expect(apiReport.images).toBe(ind.images);
    expect(apiReport.noFace).toEqual([]);
    expect(apiReport.skippedPairs).toBe(0);
    expect(apiReport.report.nrofPairs).toBe(20);
    for (const [got, emb] of [
      [apiReport.report, ind.plain],
      [flipped!.report, ind.flip],
    ] as const) {
      const expected = evaluateVerification(emb.emb1, emb.emb2, emb.issame);
      expect(got.accuracy.perFold).toEqual(expected.accuracy.perFold);
      expect(got.accuracy.thresholds).toEqual(expected.accuracy.thresholds);
      got.val.perFold.forEach((f, i) => expect(f.threshold).toBeCloseTo(expected.val.perFold[i].threshold, 5));
      expect(got.auc).toBeCloseTo(expected.auc, 5);
      expect(got.eer).toBeCloseTo(expected.eer, 5);
    }
    // An embedder whose preprocessing says flip is evaluated with its own unit-length
    // embeddings unless `flip` is given.
    const own = await evaluateLfw(ind.flipEmbedder, { pairsPerFold: 1 });
    const expected = evaluateVerification(ind.flipUnit.emb1, ind.flipUnit.emb2, ind.flipUnit.issame);
    expect(own.report.accuracy.perFold).toEqual(expected.accuracy.perFold);
    expect(own.report.auc).toBeCloseTo(expected.auc, 5);
    ind.flipEmbedder.dispose();
  });
});

describe('ROC plot', () => {
  it('SVG with one polyline point per threshold, EER marker, escaped labels; PNG of the same size', async () => {
    const fpr = Array.from({ length: 400 }, (_, i) => Math.min(1, i / 300));
    const tpr = fpr.map((x) => Math.sqrt(x));
    const svg = rocCurveSvg([{ label: 'A & <B>', fpr, tpr, eer: 0.38 }], { width: 500, height: 400, title: 'T' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="500" height="400"')).toBe(true);
    const points = /<polyline points="([^"]+)"/.exec(svg)![1].split(' ');
    expect(points.length).toBe(400);
    // (0, 0) maps to the plot's bottom-left corner: x = left margin 64, y = 400 − 52.
    expect(points[0]).toBe('64,348');
    expect(svg).toContain('A &amp; &lt;B&gt;');
    expect(svg).toMatch(/<circle [^>]*><title>EER 0\.3800<\/title>/);
    const log = rocCurveSvg([{ label: 'x', fpr, tpr }], { fprScale: 'log', minFpr: 1e-3 });
    expect(log).toContain('>1e-3<');
    const png = await svgToPng(svg);
    const meta = await (await loadSharp())(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 500, 400]);
    expect(() => rocCurveSvg([])).toThrow(ConfigError);
  });
});

describe('CLI: eval-lfw', () => {
  it('prints the report, writes JSON, SVG and PNG', async () => {
    const modelDir = join(tmp, 'model');
    await saveModel(model, modelDir);
    await writeModelPreprocessing(modelDir, embedder.preprocessing);
    const out = join(tmp, 'report.json');
    const svg = join(tmp, 'roc.svg');
    const png = join(tmp, 'roc.png');
    const r = await cli(['eval-lfw', '--model', modelDir, '--pairs-per-fold', '1', '--out', out, '--roc', svg, '--roc-png', png]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const api = apiReport; // same model, same pairs: computed by the API test above
    expect(r.stdout).toContain(formatVerificationReport(api.report));
    expect(r.stdout).toMatch(/Images: 40 in [\d.]+ s; no face found in 0; missing files 0; pairs left out 0/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.fingerprint).toBe(embedder.fingerprint);
    expect(json.accuracy.perFold).toEqual(api.report.accuracy.perFold);
    expect(json.roc.tpr.length).toBe(400);
    expect(await readFile(svg, 'utf8')).toBe(
      rocCurveSvg([reportCurve(api.report, 'LFW')], {
        title: `LFW ROC — accuracy ${(100 * api.report.accuracy.mean).toFixed(2)} %`,
        fprScale: 'linear',
      }),
    );
    const meta = await (await loadSharp())(await readFile(png)).metadata();
    expect([meta.width, meta.height]).toEqual([640, 480]);
    const bad = await cli(['eval-lfw', '--model', modelDir, '--distance', 'manhattan']);
    expect(bad.code).toBe(2); // usage error
    expect(bad.stderr).toMatch(/invalid option --distance/);
  });
});
