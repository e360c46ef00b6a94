/**
 * `detect --workers`, `embed --workers`, `enroll --workers` and `identify --workers`: the same output, in the
 * same order, as in one thread; bad files reported and skipped in both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGallery } from '../src/gallery/file.js';
import { sharedPath } from './helpers.js';
import { runCli as cli } from './cli-helpers.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-facenet-cli-workers-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('--workers', () => {
  it('detect: two workers print exactly what one thread prints, bad files reported in place', async () => {
    const broken = join(root, 'broken.jpg');
    await writeFile(broken, (await readFile(sharedPath('data/samples/Anthony_Hopkins_0001.jpg'))).subarray(0, 2000));
    const files = [
      sharedPath('data/samples/groups/bbt3.jpg'),
      broken,
      sharedPath('data/samples/Anthony_Hopkins_0001.jpg'),
      sharedPath('data/samples/groups/bbt5.jpg'),
    ];
    const one = await cli(['detect', '--json', ...files]);
    const annotate = join(root, 'annotated');
    const two = await cli(['detect', '--json', '--workers', '2', '--annotate', annotate, ...files]);
    expect(one.code).toBe(1);
    expect(two.code).toBe(1);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stdout.trim().split('\n').map((l) => JSON.parse(l).file)).toEqual([files[0], files[2], files[3]]);
    expect(two.stderr).toMatch(/broken\.jpg: cannot decode image/);
    expect((await readdir(annotate)).sort()).toEqual(['Anthony_Hopkins_0001.png', 'bbt3.png', 'bbt5.png']);
  });

  it('embed: two workers print exactly what one thread prints, a faceless image reported', async () => {
    const people = ['amy/amy1.png', 'penny/penny1.png', 'howard/howard5.png', 'leonard/leonard1.png'].map((f) =>
      sharedPath('data/samples/people', f),
    );
    const args = ['embed', '--json', '--model', 'facenet-celeba', ...people];
    const one = await cli(args);
    const two = await cli([...args, '--workers', '2']);
    // howard5.png has no face MTCNN finds (BENCHMARKS.md, the demo section).
    expect(one.code).toBe(1);
    expect(two.code).toBe(1);
    expect(two.stdout).toBe(one.stdout);
    expect(two.stdout.trim().split('\n').length).toBe(3);
    expect(two.stderr).toMatch(/howard5\.png: no face found/);
  });

  it('enroll: two workers store the embeddings one thread stores, in the same order, a faceless image reported', async () => {
    const people = sharedPath('data/samples/people');
    const [a, b] = [join(root, 'one.gallery'), join(root, 'two.gallery')];
    const one = await cli(['enroll', '--json', '--gallery', a, '--model', 'facenet-celeba', people]);
    const two = await cli(['enroll', '--json', '--gallery', b, '--model', 'facenet-celeba', '--workers', '2', people]);
    expect(one.code).toBe(1);
    expect(two.code).toBe(1);
    const [r1, r2] = [JSON.parse(one.stdout), JSON.parse(two.stdout)];
    expect({ ...r2, gallery: '' }).toEqual({ ...r1, gallery: '' });
    expect(r2.failed.map((f: { path: string }) => f.path.split('/').pop())).toContain('howard5.png');
    expect(r2.enrolled.length).toBeGreaterThan(10);
    const [g1, g2] = [await loadGallery(a), await loadGallery(b)];
    expect(g2.identities).toEqual(g1.identities);
    for (const name of g1.identities) {
      expect(g2.sourcesOf(name)).toEqual(g1.sourcesOf(name));
      const [e1, e2] = [g1.embeddingsOf(name), g2.embeddingsOf(name)];
      expect(e2.length).toBe(e1.length);
      for (let i = 0; i < e1.length; i++) for (let d = 0; d < e1[i].length; d++) expect(e2[i][d]).toBeCloseTo(e1[i][d], 6);
    }
  });

  it('identify: two workers print exactly what one thread prints, an unreadable image reported', async () => {
    const gallery = join(root, 'people.gallery');
    // The seven sample people (a faceless portrait or two are reported, hence exit code 1).
    const enrolled = await cli(['enroll', '--gallery', gallery, '--model', 'facenet-celeba', sharedPath('data/samples/people')]);
    expect(enrolled.code, enrolled.stderr).toBeLessThanOrEqual(1);
    const broken = join(root, 'broken-group.jpg');
    await writeFile(broken, (await readFile(sharedPath('data/samples/groups/bbt3.jpg'))).subarray(0, 1500));
    const files = [sharedPath('data/samples/groups/bbt3.jpg'), broken, sharedPath('data/samples/groups/bbt5.jpg')];
    const one = await cli(['identify', '--json', '--gallery', gallery, '--top-k', '2', ...files]);
    const two = await cli(['identify', '--json', '--gallery', gallery, '--top-k', '2', '--workers', '2', ...files]);
    expect(one.code).toBe(1);
    expect(two.code).toBe(1);
    expect(two.stdout).toBe(one.stdout);
    const lines = two.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; faces: { name: string | null }[] });
    expect(lines.map((l) => l.file)).toEqual([files[0], files[2]]);
    expect(lines[0].faces.length).toBeGreaterThanOrEqual(5);
    expect(two.stderr).toMatch(/broken-group\.jpg: cannot decode image/);
  });
});

