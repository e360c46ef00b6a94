/**
 * examples/identify end to end: enroll the sample people, identify a group photo, one of the
 * enrolled portraits and a broken file; check the annotated images and the JSON summary.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadMtcnn } from 'tfjs-facenet/node';
import { setupBackend, sharedPath } from './helpers.js';
import { runExample } from './example-run.js';
import { exampleModel } from '../examples/common/model.js';

interface Summary {
  model: { dir: string; placeholder: boolean };
  gallery: { identities: { name: string; embeddings: number }[]; threshold: number };
  enrolled: string[];
  failed: { path: string; code: string }[];
  images: { file: string; annotated?: string; error?: string; faces?: { name: string | null; distance: number; box: number[] }[] }[];
}

let tmp: string;
let modelDir: string;

beforeAll(async () => {
  await setupBackend();
  tmp = await mkdtemp(join(tmpdir(), 'identify-'));
  modelDir = (await exampleModel({ placeholderIfMissing: true, placeholderDir: join(tmp, 'model'), warn: () => {} })).dir;
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('examples/identify', () => {
  it('enrolls the people, annotates the photos, writes the summary and goes on past a broken file', async () => {
    const people = sharedPath('data', 'samples', 'people');
    const group = sharedPath('data', 'samples', 'groups', 'bbt2.jpg');
    const portrait = join(people, 'amy', 'amy1.png');
    const broken = join(tmp, 'broken.jpg');
    await writeFile(broken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a]));
    const out = join(tmp, 'out');
    const { code, stderr } = await runExample('identify/main.ts', ['--people', people, '--model', modelDir, '--out', out, group, portrait, broken]).done;
    expect(code, stderr).toBe(0);

    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(summary.model.dir).toBe(modelDir);
    // 7 people × 5 portraits: each either enrolled or reported (no face found).
    expect(summary.enrolled.length + summary.failed.length).toBe(35);
    expect(summary.failed.every((f) => f.code === 'NO_FACE')).toBe(true);
    expect(summary.gallery.identities.map((i) => i.name)).toEqual(['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon']);

    const [groupResult, portraitResult, brokenResult] = summary.images;
    // As many faces as the detector finds, each annotated image the size of its photo.
    const detector = await loadMtcnn();
    try {
      expect(groupResult.faces).toHaveLength((await detector.detect(group)).length);
    } finally {
      detector.dispose();
    }
    expect(groupResult.faces!.length).toBeGreaterThanOrEqual(3);
    const names = new Set([...summary.gallery.identities.map((i) => i.name), null]);
    for (const f of groupResult.faces!) expect(names.has(f.name)).toBe(true);
    const photoMeta = await sharp(group).metadata();
    const annotatedMeta = await sharp(groupResult.annotated!).metadata();
    expect([annotatedMeta.width, annotatedMeta.height, annotatedMeta.format]).toEqual([photoMeta.width, photoMeta.height, 'png']);

    // An enrolled picture is its own nearest neighbour at distance 0, whatever the model; it is
    // named unless MTCNN scored the face below the model's detection floor (calibration.json).
    expect(portraitResult.faces).toHaveLength(1);
    const own = portraitResult.faces![0] as unknown as { name: string | null; distance: number; score: number; candidates: { name: string }[] };
    expect(own.candidates[0].name).toBe('amy');
    expect(own.distance).toBeLessThan(1e-4);
    expect(own.name).toBe(own.score >= 0.97 ? 'amy' : null);

    expect(brokenResult.file).toBe(broken);
    expect(brokenResult.error).toContain(broken);
  });
});
