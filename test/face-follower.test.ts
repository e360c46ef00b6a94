/**
 * `FaceFollower` on a real group photo panned like a camera (bbt3, five faces): the first
 * frame equals `identifyFaces` on it; the following frames are tracked, not detected, keep
 * their names without new embeddings; a face is embedded again when due and when another
 * person appears in its box; a cut to another photo is handled; no tensor is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, IncompatibleFileError } from '../src/errors.js';
import { decodeImageFile } from '../src/image/decode-node.js';
import { Gallery } from '../src/gallery/gallery.js';
import { loadEmbedder } from '../src/recognition/models.js';
import type { FacenetEmbedder } from '../src/recognition/embedder.js';
import { enrollImages, listEnrollmentSources } from '../src/recognition/enroll.js';
import { identifyFaces } from '../src/recognition/identify.js';
import { FaceFollower } from '../src/recognition/face-follower.js';
import { countLeaks, panned, setupBackend, sharedPath } from './helpers.js';

let embedder: FacenetEmbedder;
let gallery: Gallery;
type Rgb = { data: Uint8Array; width: number; height: number; channels: 3 };
let photo: Rgb;
let other: Rgb;

async function rgb(file: string): Promise<Rgb> {
  const raw = await decodeImageFile(sharedPath('data', 'samples', 'groups', file));
  return { data: raw.data as Uint8Array, width: raw.width, height: raw.height, channels: 3 };
}

beforeAll(async () => {
  await setupBackend();
  embedder = await loadEmbedder('default');
  gallery = Gallery.create({ dimension: embedder.dimension, fingerprint: embedder.fingerprint, preprocessing: { ...embedder.preprocessing } });
  const { sources } = await listEnrollmentSources([sharedPath('data', 'samples', 'people')]);
  await enrollImages(gallery, embedder, sources);
  photo = await rgb('bbt3.jpg');
  other = await rgb('bbt5.jpg');
}, 120_000);

afterAll(() => embedder?.dispose());

describe('FaceFollower', () => {
  it('detects the first frame as identifyFaces does, then follows a pan without detecting or embedding again', async () => {
    const follower = new FaceFollower(gallery, embedder, { detectEvery: 10, embedEveryFrames: 25 });
    const expected = await identifyFaces(gallery, embedder, photo);
    expect(expected.length).toBe(5);
    const first = await follower.next(photo);
    expect(first.detected).toBe(true);
    expect(first.embedded).toBe(5);
    expect(first.faces.map((f) => f.name)).toEqual(expected.map((f) => f.name));
    first.faces.forEach((f, i) => {
      for (let k = 0; k < 4; k++) expect(f.box[k]).toBeCloseTo(expected[i].box[k], 3);
      expect(f.distance).toBeCloseTo(expected[i].distance, 5);
    });
    // The photo's named people stay named, frame after frame, from tracking alone.
    expect(expected.filter((f) => f.name !== null).length).toBeGreaterThanOrEqual(2);
    for (let t = 1; t < 10; t++) {
      const frame = await follower.next(panned(photo, 2 * t, -t));
      expect(frame.detected, `frame ${t}`).toBe(false);
      expect(frame.embedded, `frame ${t}`).toBe(0);
      expect(frame.faces.length, `frame ${t}`).toBe(5);
      // track() returns faces in its own order: pair each with the first frame's face under it.
      const centre = (b: number[], dx = 0, dy = 0) => [(b[0] + b[2]) / 2 - dx, (b[1] + b[3]) / 2 - dy];
      const paired = frame.faces.map((f) => {
        const [x, y] = centre(f.box, 2 * t, -t);
        const gaps = expected.map((e) => Math.hypot(centre(e.box)[0] - x, centre(e.box)[1] - y));
        const k = gaps.indexOf(Math.min(...gaps));
        // The box moved with the picture (to a few pixels: R-Net/O-Net re-box the face) and kept its name.
        expect(gaps[k], `frame ${t}: face at ${f.box}`).toBeLessThan(4);
        expect(f.name, `frame ${t}: face at ${f.box}`).toBe(expected[k].name);
        return k;
      });
      expect(new Set(paired).size, `frame ${t}`).toBe(5);
    }
    // Frame 10: a full detection again. None of the five followed faces is due, so only faces
    // it finds for the first time are embedded (here MTCNN also finds a low-scoring sixth box).
    const tenth = await follower.next(panned(photo, 20, -10));
    expect(tenth.detected).toBe(true);
    expect(tenth.faces.length).toBeGreaterThanOrEqual(5);
    expect(tenth.embedded).toBe(tenth.faces.length - 5);
  }, 120_000);

  it('embeds a face again when it is due and when another face appears in its box; a cut to another photo is found', async () => {
    const follower = new FaceFollower(gallery, embedder, { detectEvery: 100, embedEveryFrames: 3 });
    await follower.next(photo);
    expect((await follower.next(photo)).embedded).toBe(0);
    expect((await follower.next(photo)).embedded).toBe(0);
    // Frame 3: 3 frames since the first embedding — every face is due.
    expect((await follower.next(photo)).embedded).toBe(5);

    // A cut to another photo: where a tracked box still finds a face, it is another person's
    // (the picture changed), so it is embedded at once; lost faces bring a full detection.
    const expected = await identifyFaces(gallery, embedder, other);
    const cut = await follower.next(other);
    expect(cut.embedded).toBe(cut.faces.length);
    const after = await follower.next(other);
    const settled = after.detected ? after : await follower.next(other);
    expect(settled.faces.map((f) => f.name).sort()).toEqual(expected.map((f) => f.name).sort());
  }, 120_000);

  it('embeds every face of every frame with embedEveryFrames 0, and leaves no tensor behind', async () => {
    const follower = new FaceFollower(gallery, embedder, { detectEvery: 1, embedEveryFrames: 0 });
    const leaked = await countLeaks(async () => {
      for (let t = 0; t < 3; t++) {
        const frame = await follower.next(panned(photo, t, t));
        expect(frame.detected).toBe(true);
        expect(frame.embedded).toBe(5);
      }
    });
    expect(leaked).toBe(0);
  }, 120_000);

  it('reset() starts over with a full detection and fresh embeddings', async () => {
    const follower = new FaceFollower(gallery, embedder);
    await follower.next(photo);
    expect((await follower.next(photo)).detected).toBe(false);
    follower.reset();
    const again = await follower.next(photo);
    expect(again.detected).toBe(true);
    expect(again.embedded).toBe(5);
  }, 120_000);

  it('refuses bad options and a gallery of another model, naming them', () => {
    expect(() => new FaceFollower(gallery, embedder, { detectEvery: 0 })).toThrow(ConfigError);
    expect(() => new FaceFollower(gallery, embedder, { detectEvery: 0 })).toThrow(/detectEvery/);
    expect(() => new FaceFollower(gallery, embedder, { embedEveryFrames: 1.5 })).toThrow(/embedEveryFrames/);
    expect(() => new FaceFollower(gallery, embedder, { minIou: 0 })).toThrow(/minIou/);
    const foreign = Gallery.create({ dimension: embedder.dimension, fingerprint: 'another-model', preprocessing: { ...embedder.preprocessing } });
    expect(() => new FaceFollower(foreign, embedder)).toThrow(IncompatibleFileError);
  });
});
