/**
 * src/recognition/face-tracks.ts: box association, the picture-change measure that notices
 * another face in a followed box, and the embed-or-not plan — hand-worked boxes and a real
 * group photo.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../src/image/decode-node.js';
import type { Box } from '../src/face/types.js';
import { associate, boxIou, cellChange, faceCells, planFaces, type FaceTrack } from '../src/recognition/face-tracks.js';
import { panned, sharedPath } from './helpers.js';

// bbt3.jpg (594 × 383): boxes MTCNN gives for its five faces (rounded), left to right.
const FACES: Box[] = [
  [37, 25, 93, 100],
  [157, 86, 203, 157],
  [259, 101, 302, 161],
  [367, 107, 419, 175],
  [490, 94, 549, 170],
];
let photo: { data: Uint8Array; width: number; height: number };

/** The photo moved by (dx, dy), uncovered parts black. */
const moved = (dx: number, dy: number): Uint8Array => panned(photo, dx, dy).data;
const shift = (b: Box, dx: number, dy: number): Box => [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy];

beforeAll(async () => {
  const raw = await decodeImageFile(sharedPath('data/samples/groups', 'bbt3.jpg'));
  photo = { data: raw.data as Uint8Array, width: raw.width, height: raw.height };
});

describe('boxIou and associate (hand-worked)', () => {
  it('IoU: half-overlapping squares 1/3, nested 1/4, apart 0', () => {
    expect(boxIou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150, 12);
    expect(boxIou([0, 0, 10, 10], [0, 0, 5, 5])).toBeCloseTo(25 / 100, 12);
    expect(boxIou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
  });

  it('pairs boxes by overlap whatever their order; new and far-moved boxes get -1; one previous box serves one current box', () => {
    const prev: Box[] = [
      [0, 0, 10, 10],
      [100, 100, 120, 120],
    ];
    // Current: the second face moved 2 px, the first 1 px, a new face, then a second box on the first face.
    const cur: Box[] = [
      [102, 100, 122, 120],
      [1, 0, 11, 10],
      [300, 300, 320, 320],
      [4, 0, 14, 10],
    ];
    expect(associate(prev, cur, 0.3)).toEqual([1, 0, -1, -1]);
    // Below the overlap needed: IoU of [0,0,10,10] and [4,0,14,10] is 60/140 < 0.5.
    expect(associate(prev, [[4, 0, 14, 10]], 0.5)).toEqual([-1]);
    expect(associate([], cur, 0.3)).toEqual([-1, -1, -1, -1]);
  });
});

/** Face `i`'s box with another face's pixels pasted over it (the nearest-centred other face `j`). */
function pasted(i: number, j: number): Uint8Array {
  const { data, width, height } = photo;
  const out = new Uint8Array(data);
  const [b, o] = [FACES[i], FACES[j]];
  const ox = Math.round((o[0] + o[2]) / 2 - (b[0] + b[2]) / 2);
  const oy = Math.round((o[1] + o[3]) / 2 - (b[1] + b[3]) / 2);
  for (let y = b[1]; y < b[3]; y++) {
    for (let x = b[0]; x < b[2]; x++) {
      const sy = Math.min(height - 1, Math.max(0, y + oy));
      const sx = Math.min(width - 1, Math.max(0, x + ox));
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = data[(sy * width + sx) * 3 + c];
    }
  }
  return out;
}
const MAX_CHANGE = 24;
const rgb = (data: Uint8Array) => ({ data, width: photo.width, height: photo.height, channels: 3 as const });
/** The change between face `beforeBox` in `before` and `afterBox` in `after`. */
const regionChange = (before: Uint8Array, beforeBox: Box, after: Uint8Array, afterBox: Box): number =>
  cellChange(faceCells(rgb(before), beforeBox), faceCells(rgb(after), afterBox));

/** The same pixels as RGBA. */
function withAlpha(data: Uint8Array): Uint8Array {
  const out = new Uint8Array((data.length / 3) * 4);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    out[j] = data[i];
    out[j + 1] = data[i + 1];
    out[j + 2] = data[i + 2];
    out[j + 3] = 255;
  }
  return out;
}

describe('regionChange', () => {
  it('is 0 for a face moved with its box, small when the new box is off by 2 px, large for another face in its place', () => {
    const data = moved(7, -4);
    for (const [i, face] of FACES.entries()) {
      expect(regionChange(photo.data, face, data, shift(face, 7, -4)), `face ${i}`).toBe(0);
      // The box of the moved face off by 2 px, or 2 px larger / smaller on every side (4–8 % of these 43–59 px faces).
      for (const jitter of [shift(face, 9, -5), [face[0] + 5, face[1] - 6, face[2] + 9, face[3] - 2] as Box, [face[0] + 9, face[1] - 2, face[2] + 5, face[3] - 6] as Box]) {
        expect(regionChange(photo.data, face, data, jitter), `face ${i} ${jitter}`).toBeLessThan(MAX_CHANGE);
      }
      for (let j = 0; j < FACES.length; j++) {
        if (j !== i) expect(regionChange(photo.data, face, pasted(i, j), face), `face ${j} in face ${i}'s place`).toBeGreaterThan(MAX_CHANGE);
      }
    }
  });
});

describe('faceCells', () => {
  it('reads RGBA pixels as it reads the same RGB ones; a uniform grey box gives that grey in every cell', () => {
    const rgba = { data: withAlpha(photo.data), width: photo.width, height: photo.height, channels: 4 as const };
    for (const face of FACES) expect(faceCells(rgba, face)).toEqual(faceCells(rgb(photo.data), face));
    const grey = new Uint8Array(photo.data.length).fill(100);
    // 0.299 + 0.587 + 0.114 = 1: grey 100 stays 100 (to float rounding).
    for (const v of faceCells(rgb(grey), FACES[0])) expect(v).toBeCloseTo(100, 4);
  });
});

describe('planFaces', () => {
  const policy = { everyFrames: 10, maxChange: MAX_CHANGE, minIou: 0.3 };
  /** A track last seen (and its picture taken) in the unmoved photo. */
  const trackOf = (box: Box, name: string, embeddedAt: number): FaceTrack<string> => ({
    box,
    identity: name,
    embeddedAt,
    cells: faceCells(rgb(photo.data), box),
  });

  it('embeds new faces, faces due again and faces whose picture changed; follows the others', () => {
    const tracks = [trackOf(FACES[0], 'a', 0), trackOf(FACES[1], 'b', 0), trackOf(FACES[2], 'c', 2)];
    const frame = rgb(moved(3, 2));
    // Faces 0 and 2 moved with the picture; face 1 is due (embedded 11 frames ago, every 10);
    // face 2 (embedded at 2, 9 frames ago) is not; face 4 is new.
    const boxes = [shift(FACES[2], 3, 2), shift(FACES[0], 3, 2), shift(FACES[1], 3, 2), shift(FACES[4], 3, 2)];
    const plan = planFaces(tracks, boxes, frame, 11, policy);
    expect(plan.map((p) => p.previous?.identity ?? null)).toEqual(['c', 'a', 'b', null]);
    expect(plan.map((p) => p.embed)).toEqual([false, true, true, true]);
    // Each plan carries the face's picture now, for the next frame's comparison.
    plan.forEach((p, i) => expect(p.cells).toEqual(faceCells(frame, boxes[i])));
    // Every frame (everyFrames 0): every face is embedded.
    expect(planFaces(tracks, boxes, frame, 11, { ...policy, everyFrames: 0 }).every((p) => p.embed)).toBe(true);

    // Another person in face 2's place: embedded again at once.
    const cut = planFaces([trackOf(FACES[2], 'c', 5)], [FACES[2]], rgb(pasted(2, 3)), 6, policy);
    expect(cut[0].previous?.identity).toBe('c');
    expect(cut[0].embed).toBe(true);
    const same = planFaces([trackOf(FACES[2], 'c', 5)], [FACES[2]], rgb(photo.data), 6, policy);
    expect(same[0].embed).toBe(false);
  });
});
