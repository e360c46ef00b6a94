import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, cp, readFile, writeFile, readdir, stat, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { spawn } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend, sharedPath } from './helpers.js';
import {
  alignDataset,
  listDataset,
  parseBoundingBoxes,
  formatBoundingBoxLine,
  BOUNDING_BOXES_FILE,
} from '../src/datasets/align.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { cropFace, selectFaces, marginBox } from '../src/face/crop.js';
import { decodeImageFile, loadSharp } from '../src/image/decode-node.js';
import { rawToTensor } from '../src/image/load.js';
import { ConfigError, FileNotFoundError } from '../src/errors.js';

// A small real tree: three CelebA identities (3 + 3 + 6 photos), plus a truncated JPEG, a
// smooth gradient without any face and a text file.
const IDS = ['07208', '07214', '07215'];
let root: string;
let input: string;
let celebaCount = 0;

beforeAll(async () => {
  await setupBackend();
  root = await mkdtemp(join(tmpdir(), 'tfjs-facenet-align-'));
  input = join(root, 'in');
  for (const id of IDS) {
    await cp(sharedPath('data', 'celeba', id), join(input, id), { recursive: true });
    celebaCount += (await readdir(join(input, id))).length;
  }
  const firstJpeg = (await readdir(join(input, '07215')))[0];
  const bytes = await readFile(join(input, '07215', firstJpeg));
  await writeFile(join(input, '07215', 'broken.jpg'), bytes.subarray(0, 3000)); // truncated
  await writeFile(join(input, '07208', 'notes.txt'), 'not an image\n');
  const w = 200, h = 160;
  const gradient = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) gradient.set([x, y, 128], (y * w + x) * 3);
  const sharp = await loadSharp();
  await sharp(gradient, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(input, '07214', 'gradient.png'));
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function pngs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const id of await readdir(dir, { withFileTypes: true })) {
    if (!id.isDirectory()) continue;
    for (const f of await readdir(join(dir, id.name))) out.push(`${id.name}/${f}`);
  }
  return out.sort();
}

async function fileIds(dir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of await pngs(dir)) {
    const s = await stat(join(dir, f));
    m.set(f, `${s.ino}:${s.mtimeMs}`);
  }
  return m;
}

describe('listDataset, bounding box records (pure parts)', () => {
  it('lists identities and images, leaving out non-images', async () => {
    const { classes, ignored } = await listDataset(input);
    expect(classes.map((c) => c.name)).toEqual(IDS);
    expect(classes[1].images.map((p) => basename(p))).toContain('gradient.png');
    expect(classes.reduce((n, c) => n + c.images.length, 0)).toBe(celebaCount + 2);
    expect(ignored.map((p) => basename(p))).toEqual(['notes.txt']);
    await expect(listDataset(join(root, 'nope'))).rejects.toBeInstanceOf(FileNotFoundError);
  });

  it('parses and formats the reference format, ignoring an unfinished last line', () => {
    const text = 'out/a b/x.png 1 2 30 40\nout/c/y.png\n\nout/c/z.png 5 6 7';
    expect(parseBoundingBoxes(text)).toEqual([
      { path: 'out/a b/x.png', box: [1, 2, 30, 40] },
      { path: 'out/c/y.png' },
    ]);
    expect(formatBoundingBoxLine({ path: 'o/i/f.png', box: [1.9, 2, 3, 4] })).toBe('o/i/f.png 1 2 3 4');
    expect(formatBoundingBoxLine({ path: 'o/i/f.png' })).toBe('o/i/f.png');
  });
});

describe('alignDataset on a real tree', () => {
  it('aligns with worker threads, records boxes and lists bad images', async () => {
    const output = join(root, 'out');
    const events: string[] = [];
    const s = await alignDataset({ input, output, workers: 2, onProgress: (p) => events.push(p.status) });
    expect(s.workers).toBe(2);
    expect(s.total).toBe(celebaCount + 2);
    expect(s.aligned).toBe(celebaCount);
    expect(s.faces).toBe(celebaCount);
    expect(s.skipped).toBe(0);
    expect(s.noFace.map((p) => basename(p))).toEqual(['gradient.png']);
    expect(s.failed.map((f) => basename(f.file))).toEqual(['broken.jpg']);
    expect(s.failed[0].error).toMatch(/cannot decode image .*broken\.jpg/);
    expect(s.ignored.map((p) => basename(p))).toEqual(['notes.txt']);
    expect(s.interrupted).toBe(false);
    expect(events.length).toBe(s.total);

    // One 182×182 PNG per CelebA photo, same tree, nothing else (no temp files).
    const written = await pngs(output);
    expect(written.length).toBe(celebaCount);
    for (const f of written) {
      expect(f).toMatch(/^\d{5}\/\d+\.png$/);
      const img = await decodeImageFile(join(output, f));
      expect([img.width, img.height]).toEqual([182, 182]);
    }

    // bounding_boxes.txt: one line per aligned or faceless image, sorted, boxes inside the image.
    const records = parseBoundingBoxes(await readFile(join(output, BOUNDING_BOXES_FILE), 'utf8'));
    expect(records.length).toBe(celebaCount + 1);
    const paths = records.map((r) => r.path);
    expect(paths).toEqual([...paths].sort());
    expect(records.find((r) => r.path.endsWith('07214/gradient.png'))).toEqual({ path: join(output, '07214', 'gradient.png') });
    for (const r of records.filter((x) => x.box)) {
      const [id, file] = r.path.split('/').slice(-2);
      const src = await decodeImageFile(join(input, id, file.replace('.png', '.jpg')));
      const [x1, y1, x2, y2] = r.box!;
      expect(x1).toBeGreaterThanOrEqual(0);
      expect(y1).toBeGreaterThanOrEqual(0);
      expect(x2).toBeLessThanOrEqual(src.width);
      expect(y2).toBeLessThanOrEqual(src.height);
      expect(x2 - x1).toBeGreaterThan(40);
      expect(y2 - y1).toBeGreaterThan(40);
    }

    // The worker's thumbnail equals an in-process detect → select → crop of the same photo.
    const sample = records.find((r) => r.box)!;
    const [id, file] = sample.path.split('/').slice(-2);
    const raw = await decodeImageFile(join(input, id, file.replace('.png', '.jpg')));
    const mtcnn = await loadMtcnn();
    const image = rawToTensor(raw);
    const [face] = selectFaces(await mtcnn.detect(image), raw.width, raw.height, 'reference');
    expect(marginBox(face.box, raw.width, raw.height, 44)).toEqual(sample.box);
    const crop = cropFace(image, face.box, { imageSize: 182, margin: 44 });
    const expected = tf.tidy(() => tf.clipByValue(tf.round(crop), 0, 255)).dataSync();
    const png = await decodeImageFile(join(output, id, file));
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - png.data[i]));
    expect(maxDiff).toBe(0);
    tf.dispose([image, crop]);
    mtcnn.dispose();
  });

  it('a second run redoes nothing', async () => {
    const output = join(root, 'out');
    const before = await fileIds(output);
    const recordsBefore = await readFile(join(output, BOUNDING_BOXES_FILE), 'utf8');
    const s = await alignDataset({ input, output, workers: 0 });
    expect(s.aligned).toBe(0);
    expect(s.skipped).toBe(celebaCount + 1); // the faceless image is recorded too
    expect(s.noFace).toEqual([]);
    expect(s.failed.map((f) => basename(f.file))).toEqual(['broken.jpg']); // retried, fails again
    expect(await fileIds(output)).toEqual(before);
    expect(await readFile(join(output, BOUNDING_BOXES_FILE), 'utf8')).toBe(recordsBefore);
  });

  it('an interrupted run resumes where it stopped', async () => {
    const output = join(root, 'out-interrupted');
    const controller = new AbortController();
    let processed = 0;
    const first = await alignDataset({
      input,
      output,
      workers: 0,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.status !== 'skipped' && ++processed === 4) controller.abort();
      },
    });
    expect(first.interrupted).toBe(true);
    const firstDone = first.aligned + first.noFace.length;
    expect(firstDone + first.failed.length).toBe(4);
    const before = await fileIds(output);
    expect(before.size).toBe(first.aligned);

    const second = await alignDataset({ input, output, workers: 0 });
    expect(second.interrupted).toBe(false);
    expect(second.skipped).toBe(firstDone);
    expect(first.aligned + second.aligned).toBe(celebaCount);
    const after = await fileIds(output);
    for (const [f, id] of before) expect(after.get(f)).toBe(id); // not rewritten
    expect(after.size).toBe(celebaCount);
    const records = parseBoundingBoxes(await readFile(join(output, BOUNDING_BOXES_FILE), 'utf8'));
    expect(records.length).toBe(celebaCount + 1);
  });

  it('survives being killed: no half files, and the rest is done on the next run', async () => {
    const output = join(root, 'out-killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'align', input, output, '--workers', '1'],
      { stdio: 'ignore' },
    );
    // Kill it (SIGKILL: no clean-up at all) as soon as a few thumbnails are there.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(async () => {
        const n = existsSync(output) ? (await pngs(output)).filter((f) => f.endsWith('.png')).length : 0;
        if (n >= 3) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
      child.on('error', reject);
    });
    const journal = parseBoundingBoxes(await readFile(join(output, BOUNDING_BOXES_FILE), 'utf8'));
    expect(journal.length).toBeGreaterThanOrEqual(2);
    const left = await pngs(output);
    expect(left.length).toBeLessThan(celebaCount); // it really was stopped early

    const s = await alignDataset({ input, output, workers: 0 });
    // Every recorded image with its thumbnail present is skipped; the rest is done now.
    const recordedWithFile = journal.filter((r) => !r.box || existsSync(r.path)).length;
    expect(s.skipped).toBe(recordedWithFile);
    expect(s.skipped + s.aligned + s.noFace.length + s.failed.length).toBe(celebaCount + 2);
    const files = await pngs(output);
    expect(files.length).toBe(celebaCount); // stale temp files were removed
    for (const f of files) {
      const img = await decodeImageFile(join(output, f)); // every PNG is complete
      expect(img.width).toBe(182);
    }
    expect(parseBoundingBoxes(await readFile(join(output, BOUNDING_BOXES_FILE), 'utf8')).length).toBe(celebaCount + 1);
  });

  it('keeps every face of a group photo, or aligns by landmarks', async () => {
    const groupIn = join(root, 'group-in');
    await mkdir(join(groupIn, 'cast'), { recursive: true });
    await cp(sharedPath('data', 'samples', 'groups', 'bbt3.jpg'), join(groupIn, 'cast', 'bbt3.jpg'));
    const all = await alignDataset({
      input: groupIn,
      output: join(root, 'group-all'),
      detectMultipleFaces: true,
      imageSize: 96,
      workers: 0,
    });
    // The reference fixture has 5 faces in bbt3.jpg.
    expect(all.faces).toBe(5);
    expect(await pngs(join(root, 'group-all'))).toEqual([0, 1, 2, 3, 4].map((i) => `cast/bbt3_${i}.png`));
    const lm = await alignDataset({
      input: groupIn,
      output: join(root, 'group-lm'),
      method: 'landmarks',
      imageSize: 112,
      workers: 0,
    });
    expect(lm.faces).toBe(1);
    const img = await decodeImageFile(join(root, 'group-lm', 'cast', 'bbt3.png'));
    expect([img.width, img.height]).toEqual([112, 112]);
  });

  it('rejects bad options with typed errors', async () => {
    await expect(alignDataset({ input, output: input })).rejects.toBeInstanceOf(ConfigError);
    await expect(alignDataset({ input, output: join(root, 'x'), workers: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(alignDataset({ input, output: join(root, 'x'), imageSize: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(alignDataset({ input, output: join(root, 'x'), faceSelection: 'best' as never })).rejects.toBeInstanceOf(
      ConfigError,
    );
    await expect(alignDataset({ input: join(root, 'missing'), output: join(root, 'x') })).rejects.toBeInstanceOf(
      FileNotFoundError,
    );
  });
});
