import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, mkdir, cp, readFile, writeFile, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { sharedPath } from './helpers.js';
import { runCli as cli } from './cli-helpers.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import type { FaceDetection } from '../src/face/types.js';

interface Fixture {
  images: { file: string; width: number; height: number; faces: FaceDetection[] }[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/mtcnn-reference.json', import.meta.url), 'utf8'),
) as Fixture;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'tfjs-facenet-cli-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('tfjs-facenet detect', () => {
  const files = ['data/samples/Anthony_Hopkins_0001.jpg', 'data/samples/groups/bbt3.jpg'];

  it('--json prints one object per image that matches the reference detector', async () => {
    const { code, stdout, stderr } = await cli(['detect', '--json', ...files.map((f) => sharedPath(f))]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      const ref = fixture.images.find((e) => e.file === files[i])!;
      const got = lines[i];
      expect(Object.keys(got)).toEqual(['file', 'width', 'height', 'faces']);
      expect(got.file).toBe(sharedPath(files[i]));
      expect([got.width, got.height]).toEqual([ref.width, ref.height]);
      expect(got.faces.length).toBe(ref.faces.length);
      got.faces.forEach((f: FaceDetection, j: number) => {
        // davidsandberg/facenet's numbers (test/fixtures/README.md); the CLI rounds to 0.01 px.
        f.box.forEach((v, k) => expect(Math.abs(v - ref.faces[j].box[k])).toBeLessThan(0.05));
        expect(Math.abs(f.score - ref.faces[j].score)).toBeLessThan(1e-4);
        f.landmarks.forEach((p, k) => {
          expect(Math.abs(p[0] - ref.faces[j].landmarks[k][0])).toBeLessThan(0.05);
          expect(Math.abs(p[1] - ref.faces[j].landmarks[k][1])).toBeLessThan(0.05);
        });
      });
    }
  });

  it('reports bad files on stderr, goes on, exits non-zero; writes annotations and crops', async () => {
    const broken = join(root, 'broken.jpg');
    await writeFile(broken, (await readFile(sharedPath(files[0]))).subarray(0, 2000));
    const annotate = join(root, 'annotated');
    const crops = join(root, 'crops');
    const { code, stdout, stderr } = await cli([
      'detect', broken, join(root, 'missing.jpg'), sharedPath(files[1]),
      '--annotate', annotate, '--crops', crops, '--image-size', '64', '--margin', '10',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/broken\.jpg: cannot decode image/);
    expect(stderr).toMatch(/missing\.jpg: no such file or folder/);
    // The readable table: one header line per image, one line per face, a total.
    expect(stdout).toMatch(/bbt3\.jpg\s+594×383\s+5 faces/);
    expect(stdout.match(/^\s+#\d+\s+score /gm)?.length).toBe(5);
    expect(stdout).toMatch(/1 image\(s\), 5 face\(s\), 2 failed/);
    expect(await readdir(annotate)).toEqual(['bbt3.png']);
    const ann = await decodeImageFile(join(annotate, 'bbt3.png'));
    expect([ann.width, ann.height]).toEqual([594, 383]);
    const cropFiles = (await readdir(crops)).sort();
    expect(cropFiles).toEqual([0, 1, 2, 3, 4].map((i) => `bbt3_${i}.png`));
    const c = await decodeImageFile(join(crops, cropFiles[0]));
    expect([c.width, c.height]).toEqual([64, 64]);
  });

  it('rejects bad detector options with a clear message', async () => {
    const { code, stderr } = await cli(['detect', '--thresholds', '0.6,0.7', sharedPath(files[0])]);
    expect(code).toBe(2); // usage error
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/invalid option --thresholds/);
  });
});

describe('tfjs-facenet detect --miss-padding', () => {
  it('finds a face cut tight only with the flag, in the crop\'s own pixels', async () => {
    // Anthony Hopkins' face, cut 10 % inside MTCNN's box on every side (as in the
    // missPadding test): x 84…163, y 74…180 of the photo.
    const img = await decodeImageFile(sharedPath('data/samples/Anthony_Hopkins_0001.jpg'));
    const [L, T, w, h] = [84, 74, 79, 106];
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) data.set(img.data.subarray(((T + y) * img.width + L) * 3, ((T + y) * img.width + L + w) * 3), y * w * 3);
    const { encodeImage } = await import('../src/image/decode-node.js');
    const file = join(root, 'tight.png');
    await writeFile(file, await encodeImage({ data, width: w, height: h, channels: 3 }, 'png'));
    const plain = await cli(['detect', '--json', file]);
    expect(JSON.parse(plain.stdout).faces).toEqual([]);
    const padded = await cli(['detect', '--json', '--miss-padding', '0.25', file]);
    expect(padded.code).toBe(0);
    const faces = JSON.parse(padded.stdout).faces as { box: number[] }[];
    expect(faces).toHaveLength(1);
    // The box reaches past the crop (the face is larger than it) and holds its centre.
    const [x1, y1, x2, y2] = faces[0]!.box;
    expect(x1).toBeLessThan(5);
    expect(x2).toBeGreaterThan(w - 5);
    expect((x1 + x2) / 2).toBeGreaterThan(w / 2 - 10);
    expect((y1 + y2) / 2).toBeLessThan(h / 2 + 15);
    expect(y2 - y1).toBeGreaterThan(h * 0.9);
    const bad = await cli(['detect', '--miss-padding', 'x', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--miss-padding/);
  });
});

describe('tfjs-facenet align', () => {
  it('aligns a small tree and prints the summary', async () => {
    const input = join(root, 'ds');
    await mkdir(join(input, 'Anthony_Hopkins'), { recursive: true });
    for (const f of ['Anthony_Hopkins_0001.jpg', 'Anthony_Hopkins_0002.jpg']) {
      await cp(sharedPath('data', 'samples', f), join(input, 'Anthony_Hopkins', f));
    }
    const output = join(root, 'ds-out');
    const { code, stdout } = await cli(['align', input, output, '--image-size', '160', '--margin', '32', '--workers', '0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Total number of images: 2\n/);
    expect(stdout).toMatch(/Number of successfully aligned images: 2 \(2 face crops\)/);
    expect(stdout).toMatch(/No face found: 0\nFailed: 0/);
    const out = (await readdir(join(output, 'Anthony_Hopkins'))).sort();
    expect(out).toEqual(['Anthony_Hopkins_0001.png', 'Anthony_Hopkins_0002.png']);
    const img = await decodeImageFile(join(output, 'Anthony_Hopkins', out[0]));
    expect(img.width).toBe(160);
    const records = (await readFile(join(output, 'bounding_boxes.txt'), 'utf8')).trim().split('\n');
    expect(records.map((l) => basename(l.split(' ')[0]))).toEqual(out);
    // The box of the first image: the fixture's reference box grown by 16 px per side, truncated.
    const ref = fixture.images.find((e) => e.file === 'data/samples/Anthony_Hopkins_0001.jpg')!.faces[0].box;
    const expected = [Math.trunc(Math.max(ref[0] - 16, 0)), Math.trunc(Math.max(ref[1] - 16, 0)),
      Math.trunc(Math.min(ref[2] + 16, 250)), Math.trunc(Math.min(ref[3] + 16, 250))];
    expect(records[0].split(' ').slice(1).map(Number)).toEqual(expected);
  });
});
