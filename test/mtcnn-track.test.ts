/**
 * `Mtcnn.track`: R-Net and O-Net around the boxes of an earlier frame, without P-Net. Checked
 * against full detections of the same frames (real group photos, and the same photo moved as
 * a camera pan would move it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import { loadMtcnn, type Mtcnn } from '../src/mtcnn/index.js';
import type { Box, FaceDetection } from '../src/face/types.js';
import { boxIou } from '../src/recognition/face-tracks.js';
import { countLeaks, panned, setupBackend, sharedPath } from './helpers.js';

let mtcnn: Mtcnn;

beforeAll(async () => {
  await setupBackend();
  mtcnn = await loadMtcnn({ weights: 'caffe' });
});

afterAll(() => {
  mtcnn?.dispose();
});

/** For each expected face, the IoU of the best tracked face; also checks no tracked face is used twice. */
function matchAll(expected: FaceDetection[], tracked: FaceDetection[]): number[] {
  const used = new Set<number>();
  return expected.map((e) => {
    let best = -1;
    let bestIou = 0;
    tracked.forEach((t, i) => {
      const v = boxIou(e.box, t.box);
      if (!used.has(i) && v > bestIou) {
        best = i;
        bestIou = v;
      }
    });
    if (best >= 0) used.add(best);
    return bestIou;
  });
}

describe('Mtcnn.track', () => {
  it('finds again every face of a group photo from the boxes detect gave', async () => {
    for (const file of ['bbt3.jpg', 'bbt4.jpg']) {
      const path = sharedPath('data/samples/groups', file);
      const faces = await mtcnn.detect(path);
      expect(faces.length, file).toBeGreaterThanOrEqual(5);
      const tracked = await mtcnn.track(path, faces.map((f) => f.box));
      expect(tracked.length, file).toBe(faces.length);
      for (const v of matchAll(faces, tracked)) expect(v, file).toBeGreaterThan(0.7);
      // Scores are O-Net's, so over its threshold; landmarks inside their box.
      for (const t of tracked) {
        expect(t.score).toBeGreaterThan(mtcnn.options.thresholds[2]);
        for (const [x, y] of t.landmarks) expect(x >= t.box[0] && x <= t.box[2] && y >= t.box[1] && y <= t.box[3]).toBe(true);
      }
    }
  });

  it('follows the faces when the picture moves by a few pixels, as detect on the moved picture finds them', async () => {
    const raw = await decodeImageFile(sharedPath('data/samples/groups', 'bbt3.jpg'));
    const img = { data: raw.data as Uint8Array, width: raw.width, height: raw.height };
    const before = await mtcnn.detect({ ...img, channels: 3 });
    const moved = panned(img, 9, -6);
    const after = await mtcnn.detect(moved);
    const tracked = await mtcnn.track(
      moved,
      before.map((f) => f.box),
    );
    expect(tracked.length).toBe(after.length);
    for (const v of matchAll(after, tracked)) expect(v).toBeGreaterThan(0.7);
    // The tracked boxes moved with the picture: centres shifted by about (9, −6).
    const centre = (b: Box) => [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2];
    const shifts = before.map((f) => {
      const [cx, cy] = centre(f.box);
      const t = tracked.reduce((a, b) => (boxIou(a.box, f.box) > boxIou(b.box, f.box) ? a : b));
      const [tx, ty] = centre(t.box);
      return [tx - cx, ty - cy];
    });
    const meanDx = shifts.reduce((s, d) => s + d[0], 0) / shifts.length;
    const meanDy = shifts.reduce((s, d) => s + d[1], 0) / shifts.length;
    expect(meanDx).toBeGreaterThan(6);
    expect(meanDx).toBeLessThan(12);
    expect(meanDy).toBeGreaterThan(-9);
    expect(meanDy).toBeLessThan(-3);
  });

  it('finds nothing where there is no face, nothing from no boxes, and only the faces it was pointed at', async () => {
    const path = sharedPath('data/samples/groups', 'bbt3.jpg');
    const faces = await mtcnn.detect(path);
    expect(await mtcnn.track(path, [])).toEqual([]);
    // A box on a face-free patch (clothes, below the faces), outside every face box.
    const empty: Box = [240, 290, 300, 350];
    expect(faces.every((f) => boxIou(f.box, empty) === 0)).toBe(true);
    expect(await mtcnn.track(path, [empty])).toEqual([]);
    const one = await mtcnn.track(path, [faces[0].box]);
    expect(one.length).toBe(1);
    expect(boxIou(one[0].box, faces[0].box)).toBeGreaterThan(0.7);
  });

  it('rejects malformed boxes with a typed error naming them, and leaks no tensors', async () => {
    const path = sharedPath('data/samples/groups', 'bbt3.jpg');
    await expect(mtcnn.track(path, [[10, 10, 5, 50]])).rejects.toThrow(ConfigError);
    await expect(mtcnn.track(path, [[10, 10, Number.NaN, 50]])).rejects.toThrow(/previous/);
    const faces = await mtcnn.detect(path);
    expect(await countLeaks(() => mtcnn.track(path, faces.map((f) => f.box)))).toBe(0);
  });
});
