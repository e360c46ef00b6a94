/**
 * examples/webcam-browser end to end in Debian's Chromium (headless, Playwright): the page is
 * built with Vite and served by Vite's preview server, the camera is Chromium's fake device
 * playing a 640×480 video of three sample portraits; people are enrolled by uploading photos;
 * the page must show the right names, keep its gallery across a reload (IndexedDB) and enroll
 * from a camera snapshot.
 *
 * What is asserted holds for any recognition model:
 * - the two faces whose very pictures were enrolled are named correctly;
 * - every face (the third shows a picture of Leonard that was NOT enrolled) gets the name,
 *   distance and box the library computes in Node on the same pixels, with the same model
 *   and the same enrolment photos. With a trained model that reference names Leonard; with
 *   the untrained placeholder (used while the default model is not installed) it names
 *   whoever happens to be nearest, and the page must agree.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  Gallery,
  identifyFaces,
  loadFacenetEmbedder,
  loadMtcnn,
  type FacenetEmbedder,
} from 'tfjs-facenet/node';
import { setupBackend, sharedPath } from './helpers.js';
import { exampleModel } from '../examples/common/model.js';
import { writeSampleVideo, type Slot } from '../examples/common/sample-video.js';
import { portraitFile, slotOf, writeEnrolmentPictures, type Portrait } from '../examples/common/scenes.js';
import { servePage } from '../examples/webcam-browser/serve.js';

const W = 640;
const H = 480;
/** Enrolled: one picture each, shown in the slot the camera shows it in. */
const ENROLLED: Portrait[] = [
  { name: 'amy', index: 1 },
  { name: 'leonard', index: 1 },
  { name: 'penny', index: 1 },
];
/** The camera: Amy's and Penny's enrolled pictures, and another picture of Leonard. */
const CAMERA: Portrait[] = [
  { name: 'amy', index: 1 },
  { name: 'leonard', index: 2 },
  { name: 'penny', index: 1 },
];
/** Where the screenshot goes (kept after the test, to be looked at). */
const SCREENSHOT = join(tmpdir(), 'tfjs-facenet-webcam-browser.png');

interface PageFace {
  name: string | null;
  distance: number;
  box: number[];
}
interface PageFrame {
  frame: number;
  gallerySize: number;
  detected: boolean;
  embedded: number;
  faces: PageFace[];
  png: string;
}

let tmp: string;
let modelDir: string;
let slots: Slot[];
let enrolFiles: string[];
let server: { url: string; close: () => Promise<void> };
let browser: Browser;
let page: Page;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  await setupBackend();
  tmp = await mkdtemp(join(tmpdir(), 'webcam-browser-'));
  const people = sharedPath('data', 'samples', 'people');
  modelDir = (await exampleModel({ placeholderIfMissing: true, placeholderDir: join(tmp, 'model'), warn: () => {} })).dir;
  const camera = join(tmp, 'camera.y4m');
  ({ slots } = await writeSampleVideo({ output: camera, scenes: [CAMERA.map((p) => portraitFile(people, p))], framesPerScene: 10, fps: 10 }));
  // Upload names: the page names an identity after the file when no name is typed.
  const pictures = await writeEnrolmentPictures(join(tmp, 'enrol'), people, ENROLLED, slots, W, H);
  enrolFiles = await Promise.all(
    pictures.map(async (file, i) => {
      const named = join(tmp, `${ENROLLED[i].name}.png`);
      await sharp(file).toFile(named);
      return named;
    }),
  );
  server = await servePage({ modelDir, build: true, publicDir: join(tmp, 'public'), outDir: join(tmp, 'dist'), port: await freePort(), host: '127.0.0.1', quiet: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--headless', '--disable-gpu',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`,
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1040, height: 620 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * The page's latest processed frame, once it has `gallerySize` embeddings and three faces,
 * detected and embedded whole (as `identifyFaces` does; between detections faces are
 * followed: boxes from `track`, names from earlier embeddings). Checked and read in one call:
 * the page processes frames meanwhile, and a frame read by a second call can be a later one.
 */
async function frameWith(gallerySize: number): Promise<PageFrame & { listed: string[] }> {
  const handle = await page.waitForFunction(
    (n) => {
      const f = (globalThis as { facenetDemo?: { lastFrame(): PageFrame | null } }).facenetDemo?.lastFrame();
      if (!(f && f.gallerySize === n && f.faces.length === 3 && f.detected && f.embedded === 3)) return false;
      // The names listed on the page belong to the same frame: the list is redrawn with it.
      const listed = [...document.querySelectorAll<HTMLLIElement>('#faces li')].map((li) => li.dataset.name ?? '');
      return { ...f, listed };
    },
    gallerySize,
    { timeout: 60_000, polling: 200 },
  );
  const frame = (await handle.jsonValue()) as PageFrame & { listed: string[] };
  await handle.dispose();
  return frame;
}

/** The library in Node, on the page's pixels, with a gallery enrolled from the same photos. */
async function nodeReference(png: string): Promise<PageFace[]> {
  const detector = await loadMtcnn({ weights: 'faceapi' });
  let embedder: FacenetEmbedder | undefined;
  try {
    embedder = await loadFacenetEmbedder({ modelDir, detector });
    const gallery = Gallery.create({ dimension: embedder.dimension, fingerprint: embedder.fingerprint, preprocessing: { ...embedder.preprocessing } });
    const embeddings = await embedder.embed(enrolFiles);
    embeddings.forEach((e, i) => gallery.add(ENROLLED[i].name, e));
    const { data, info } = await sharp(Buffer.from(png.slice(png.indexOf(',') + 1), 'base64')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const faces = await identifyFaces(gallery, embedder, { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 });
    return faces.map((f) => ({ name: f.name, distance: f.distance, box: [...f.box] }));
  } finally {
    detector.dispose();
  }
}

const bySlot = (faces: PageFace[]): PageFace[] => {
  const out: PageFace[] = [];
  for (const f of faces) out[slotOf(f.box, slots)] = f;
  return out;
};

describe('examples/webcam-browser', () => {
  it('names the faces on the camera after people enrolled from uploaded photos', async () => {
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(server.url);
    await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });

    await page.setInputFiles('#enroll-files', enrolFiles);
    await page.waitForSelector(`#enroll-message[data-enrolled="${ENROLLED.length}"]`, { timeout: 60_000 });
    const people = await page.$$eval('#people li', (lis) => lis.map((li) => (li as HTMLLIElement).dataset.name));
    expect(people).toEqual(ENROLLED.map((p) => p.name));

    const shown = await frameWith(ENROLLED.length);
    await page.screenshot({ path: SCREENSHOT });
    console.log(`screenshot: ${SCREENSHOT}`);
    expect(shown.listed).toEqual(shown.faces.map((f) => f.name ?? ''));
    expect(Number(await page.getAttribute('#fps', 'data-frames'))).toBeGreaterThan(0);

    const faces = bySlot(shown.faces);
    expect(faces.filter(Boolean)).toHaveLength(3);
    // The enrolled pictures themselves: right names, whatever the model.
    expect(faces[0].name).toBe('amy');
    expect(faces[2].name).toBe('penny');
    // Every face as the library names it in Node from the same pixels and photos.
    const reference = bySlot(await nodeReference(shown.png));
    for (let k = 0; k < 3; k++) {
      expect(faces[k].name, `slot ${k}`).toBe(reference[k].name);
      expect(faces[k].distance).toBeCloseTo(reference[k].distance, 3);
      faces[k].box.forEach((v, i) => expect(v, `slot ${k}: page box ${faces[k].box}, Node ${reference[k].box}`).toBeCloseTo(reference[k].box[i]!, 2));
    }
  });

  it('keeps the gallery in IndexedDB across a reload', async () => {
    await page.reload();
    await page.waitForSelector('#status[data-state="ready"]', { timeout: 60_000 });
    const people = await page.$$eval('#people li', (lis) => lis.map((li) => (li as HTMLLIElement).dataset.name));
    expect(people).toEqual(ENROLLED.map((p) => p.name));
    const faces = bySlot((await frameWith(ENROLLED.length)).faces);
    expect(faces[0].name).toBe('amy');
    expect(faces[2].name).toBe('penny');
  });

  it('enrolls the main (central) face of a camera snapshot', async () => {
    await page.fill('#enroll-name', 'visitor');
    await page.click('#enroll-snapshot');
    await page.waitForSelector('#people li[data-name="visitor"]', { timeout: 60_000 });
    // The camera shows a still scene, so the central face now matches its own snapshot.
    const faces = bySlot((await frameWith(ENROLLED.length + 1)).faces);
    expect(faces[1].name).toBe('visitor');
    expect(faces[1].distance).toBeLessThan(1e-3);
    expect(faces[0].name).toBe('amy');
  });
});
