/**
 * Issue 11, "shown by": `detect`, `align`, `enroll` and `identify` run as child processes over
 * the generated bad-input corpus (test/bad-input-corpus.ts) mixed with good images. Every
 * good image is processed, every bad one is reported on stderr with its file and typed error,
 * the batch goes on, the exit code is 1 (some inputs failed), and each process's peak RSS
 * stays under 1.5 GB — also with a file declaring 16000 × 16000 pixels among them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { runCliMeasured } from './cli-helpers.js';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBadInputCorpus, CORPUS_FOLDER, type CorpusEntry } from './bad-input-corpus.js';
import { saveTinyModel } from './tiny-embedder.js';
import { parseBoundingBoxes } from '../src/datasets/align.js';
import { loadGallery } from '../src/gallery/file.js';
import { EXIT } from '../src/cli/exit-codes.js';

/** The memory target of issue 11 for any input file. */
const MAX_RSS_MIB = 1536;

let tmp: string;
let corpus: string;
let entries: CorpusEntry[];
let modelDir: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bad-input-'));
  corpus = join(tmp, 'corpus');
  entries = await makeBadInputCorpus(corpus);
  // A tiny network (test/tiny-embedder.ts) keeps enroll and identify quick; what is checked
  // here — which files are processed or reported — does not depend on the network.
  modelDir = join(tmp, 'model');
  await saveTinyModel(modelDir, 5);
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const pathOf = (e: CorpusEntry) => join(corpus, CORPUS_FOLDER, e.name);
const stem = (name: string) => name.slice(0, name.lastIndexOf('.'));
const of = (...kinds: CorpusEntry['kind'][]) => entries.filter((e) => kinds.includes(e.kind));

/** The typed error's message for a bad corpus file, as every command prints it after the path. */
function expectReported(stderr: string, e: CorpusEntry): void {
  const path = pathOf(e);
  const prefix = e.error!.code === 'FILE_NOT_FOUND' ? `image not found: ${path}` : `cannot decode image ${path}: `;
  const at = stderr.indexOf(`${path}: ${prefix}`);
  expect(at, `${JSON.stringify(e.name)} reported as ${e.error!.code}`).toBeGreaterThanOrEqual(0);
  const line = stderr.slice(at, stderr.indexOf('\n', at));
  if (e.error!.reason) expect(line).toMatch(e.error!.reason);
}

/** Good files are never named on stderr. */
function expectNotReported(stderr: string, kinds: CorpusEntry['kind'][]): void {
  for (const e of of(...kinds)) expect(stderr.includes(`${pathOf(e)}:`), `${JSON.stringify(e.name)} not reported`).toBe(false);
}

describe('the bad-input corpus', () => {
  it('holds good, faceless and bad files', () => {
    expect(of('face').length).toBe(11);
    expect(of('noFace').length).toBe(2);
    expect(of('bad').length).toBe(10);
  });

  it('detect: every readable image searched, every bad one reported, exit 1, bounded memory', async () => {
    const r = await runCliMeasured(['detect', '--json', ...entries.map(pathOf)]);
    console.log(`detect over the corpus: exit ${r.code}, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; faces: unknown[] });
    expect(lines.map((l) => l.file).sort()).toEqual(of('face', 'noFace').map(pathOf).sort());
    for (const l of lines) {
      const e = entries.find((x) => pathOf(x) === l.file)!;
      if (e.kind === 'face') expect(l.faces.length, e.name).toBe(1);
      else expect(l.faces.length, e.name).toBe(0);
    }
    for (const e of of('bad')) expectReported(r.stderr, e);
    expectNotReported(r.stderr, ['face', 'noFace']);
    expect(r.maxRssMiB).toBeLessThan(MAX_RSS_MIB);
  }, 1_200_000);

  it('align: every face aligned under a unique name, the rest reported, resumable, exit 1, bounded memory', async () => {
    const out = join(tmp, 'aligned');
    const listed = entries.filter((e) => e.listed);
    const r = await runCliMeasured(['align', corpus, out, '--workers', '0']);
    console.log(`align over the corpus: exit ${r.code}, peak RSS ${r.maxRssMiB.toFixed(0)} MiB`);
    expect(r.code).toBe(EXIT.SOME_FAILED);
    const faces = of('face').length;
    const bad = listed.filter((e) => e.kind === 'bad');
    expect(r.stdout).toContain(`Total number of images: ${listed.length}\n`);
    expect(r.stdout).toContain(`Number of successfully aligned images: ${faces} (${faces} face crops)`);
    expect(r.stdout).toContain(`No face found: ${of('noFace').length}\nFailed: ${bad.length}\n`);
    // animated.gif and animated.webp share a stem: each keeps its own output.
    expect((await readdir(join(out, CORPUS_FOLDER))).length).toBe(faces);
    for (const e of bad) expectReported(r.stderr, e);
    expectNotReported(r.stderr, ['face']);
    expect(r.maxRssMiB).toBeLessThan(MAX_RSS_MIB);

    // The journal holds the file with a line feed in its name as one record, so a second
    // run skips every image done and tries only the bad ones again.
    const records = parseBoundingBoxes(await readFile(join(out, 'bounding_boxes.txt'), 'utf8'));
    expect(records.length).toBe(faces + of('noFace').length);
    expect(records.some((rec) => rec.path.endsWith('/new\nline.png') && rec.box !== undefined)).toBe(true);
    const again = await runCliMeasured(['align', corpus, out, '--workers', '0']);
    expect(again.code).toBe(EXIT.SOME_FAILED);
    expect(again.stdout).toContain(`Already done (skipped): ${faces + of('noFace').length}\n`);
    expect(again.stdout).toContain(`Failed: ${bad.length}\n`);
  }, 1_200_000);

  it('enroll then identify: good faces enrolled and found, the rest reported with typed errors, exit 1, bounded memory', async () => {
    const gallery = join(tmp, 'corpus.gallery');
    const folder = join(corpus, CORPUS_FOLDER);
    const e = await runCliMeasured(['enroll', '--gallery', gallery, '--model', modelDir, '--json', folder]);
    console.log(`enroll over the corpus: exit ${e.code}, peak RSS ${e.maxRssMiB.toFixed(0)} MiB`);
    expect(e.code).toBe(EXIT.SOME_FAILED);
    const report = JSON.parse(e.stdout) as {
      enrolled: { name: string; path: string }[];
      failed: { path: string; name: string; reason: string; code: string }[];
    };
    // A line feed cannot be part of an identity name: that image alone fails, with a ConfigError.
    const nameless = entries.find((x) => x.name.includes('\n'))!;
    const enrollable = of('face').filter((x) => x !== nameless);
    expect(report.enrolled.map((s) => s.path).sort()).toEqual(enrollable.map(pathOf).sort());
    const failedCode = new Map(report.failed.map((f) => [f.path, f.code]));
    expect(failedCode.get(pathOf(nameless))).toBe('CONFIG');
    for (const x of of('noFace')) expect(failedCode.get(pathOf(x)), x.name).toBe('NO_FACE');
    const listedBad = of('bad').filter((x) => x.listed);
    for (const x of listedBad) {
      expect(failedCode.get(pathOf(x)), x.name).toBe(x.error!.code);
      expectReported(e.stderr, x);
    }
    expect(report.failed.length).toBe(1 + of('noFace').length + listedBad.length);
    expect(e.stderr).toContain(`${pathOf(nameless)}: invalid option name: an identity name must be`);
    expect(e.maxRssMiB).toBeLessThan(MAX_RSS_MIB);
    const g = await loadGallery(gallery);
    // animated.gif and animated.webp are two images of one identity, `animated`.
    expect([...g.identities].sort()).toEqual([...new Set(enrollable.map((x) => stem(x.name)))].sort());
    expect(g.size).toBe(enrollable.length);

    const id = await runCliMeasured(['identify', '--gallery', gallery, '--json', ...entries.map(pathOf)]);
    console.log(`identify over the corpus: exit ${id.code}, peak RSS ${id.maxRssMiB.toFixed(0)} MiB`);
    expect(id.code).toBe(EXIT.SOME_FAILED);
    const lines = id.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; faces: { candidates: { distance: number }[] }[] });
    expect(lines.map((l) => l.file).sort()).toEqual(of('face', 'noFace').map(pathOf).sort());
    for (const l of lines) {
      const x = entries.find((y) => pathOf(y) === l.file)!;
      expect(l.faces.length, x.name).toBe(x.kind === 'face' ? 1 : 0);
      // An enrolled image finds its own embedding.
      if (enrollable.includes(x)) expect(l.faces[0].candidates[0].distance, x.name).toBeLessThan(1e-3);
    }
    for (const x of of('bad')) expectReported(id.stderr, x);
    expectNotReported(id.stderr, ['face', 'noFace']);
    expect(id.maxRssMiB).toBeLessThan(MAX_RSS_MIB);
  }, 1_200_000);
});
