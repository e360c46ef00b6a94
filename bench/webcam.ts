/**
 * Frames per second of the webcam pipelines on a 640×480 video with three faces:
 * - Node (examples/webcam-node): ffmpeg decode → MTCNN → FaceNet → gallery match → drawing
 *   → ffmpeg encode, end to end, as a child process;
 * - browser (examples/webcam-browser): the built page in headless Chromium with the video
 *   as its fake camera;
 * - face-api.js 0.22.2's MTCNN against ours, on the same frame in Node (face-api's
 *   recognition weights are not available here, so its full pipeline cannot be run).
 *
 * Recognition models: the default model (or, when it is not installed, the untrained
 * placeholder: 80 px, quarter width) and a full-size Inception-ResNet-v1 (160 px, 512-d,
 * random weights: the compute of a trained FaceNet, meaningless names).
 *
 * The Node pipeline runs twice per model: following faces between full detections (the
 * example's defaults: detect every 10th frame, embed each face once per second of video) and,
 * as the baseline, detecting and embedding every face of every frame
 * (`--detect-every 1 --embed-every 0`); the ratio of the two is printed.
 *
 *   npm run bench:webcam [-- --frames 40 --browser-seconds 15] [--no-browser] [--no-full-size]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import sharp from 'sharp';
import { chromium } from 'playwright-core';
import { buildInceptionResnetV1, DEFAULT_PREPROCESSING, initBackend, loadMtcnn, resolveWeightsDir, saveModel, writeModelPreprocessing } from 'tfjs-facenet/node';
import { exampleModel } from '../examples/common/model.js';
import { composeFrame, writeSampleVideo } from '../examples/common/sample-video.js';
import { portraitFile, type Portrait } from '../examples/common/scenes.js';
import { sharedDataDir } from '../examples/common/files.js';
import { servePage } from '../examples/webcam-browser/serve.js';
import { runExample } from '../test/example-run.js';
import { startFaceApi } from './faceapi-client.js';
import { median } from './stats.js';

const W = 640;
const H = 480;
const SCENE: Portrait[] = [
  { name: 'amy', index: 1 },
  { name: 'leonard', index: 1 },
  { name: 'penny', index: 1 },
];
const GALLERY: string[] = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon'];
const MTCNN_SETTINGS = { minFaceSize: 20, scaleFactor: 0.709, thresholds: [0.6, 0.7, 0.7] as [number, number, number] };

const f2 = (v: number) => v.toFixed(2);

/** Node pipeline: steady-state fps (frames after the first 3), median recognition ms. */
async function nodePipeline(
  video: string,
  modelDir: string,
  peopleDir: string,
  tmp: string,
  extra: string[] = [],
): Promise<{ fps: number; recognitionMs: number; frames: number }> {
  const json = join(tmp, 'frames.jsonl');
  const run = runExample('webcam-node/main.ts', ['--input', video, '--people', peopleDir, '--model', modelDir, '--out', join(tmp, 'out.mp4'), '--json', json, '--fps', '10', ...extra]);
  const { code, stderr } = await run.done;
  if (code !== 0) throw new Error(`webcam-node failed: ${stderr}`);
  const lines = (await readFile(json, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { frame: number; t: number; ms: number });
  const skip = 3;
  const steady = lines.slice(skip);
  const fps = (steady.length - 1) / ((steady.at(-1)!.t - steady[0].t) / 1000);
  return { fps, recognitionMs: median(steady.map((l) => l.ms)), frames: lines.length };
}

/** Browser pipeline: frames processed per second by the page, after a warm-up. */
async function browserPipeline(y4m: string, modelDir: string, enrolFiles: string[], tmp: string, seconds: number): Promise<{ fps: number; backend: string }> {
  const server = await servePage({ modelDir, build: true, publicDir: join(tmp, 'public'), outDir: join(tmp, 'dist'), port: 4600 + Math.floor(Math.random() * 300), host: '127.0.0.1', quiet: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`, '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('#status[data-state="ready"]', { timeout: 120_000 });
    await page.setInputFiles('#enroll-files', enrolFiles);
    await page.waitForSelector(`#enroll-message[data-enrolled]`, { timeout: 120_000 });
    const processed = () => page.evaluate(() => (globalThis as unknown as { facenetDemo: { lastFrame(): { frame: number } | null } }).facenetDemo.lastFrame()?.frame ?? -1);
    await page.waitForTimeout(3000);
    const [n0, t0] = [await processed(), performance.now()];
    await page.waitForTimeout(seconds * 1000);
    const [n1, t1] = [await processed(), performance.now()];
    const status = (await page.textContent('#status')) ?? '';
    return { fps: (n1 - n0) / ((t1 - t0) / 1000), backend: /\((\w+)/.exec(status)?.[1] ?? '?' };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** MTCNN alone on one frame: ours (wasm) and face-api.js (its tfjs-core 1.7 cpu backend). */
async function mtcnnOnly(frame: Uint8Array, repeats: number): Promise<{ oursMs: number; faceApiMs: number; oursFaces: number; faceApiFaces: number; faceApiBackend: string }> {
  const mtcnn = await loadMtcnn({ weights: 'faceapi', ...MTCNN_SETTINGS });
  const raw = { data: frame, width: W, height: H, channels: 3 as const };
  const ours: number[] = [];
  let oursFaces = 0;
  for (let i = 0; i < repeats + 1; i++) {
    const t = performance.now();
    oursFaces = (await mtcnn.detect(raw)).length;
    if (i > 0) ours.push(performance.now() - t);
  }
  mtcnn.dispose();
  const fa = await startFaceApi(await resolveWeightsDir('faceapi'), MTCNN_SETTINGS);
  try {
    await fa.addImage(0, frame, W, H);
    const theirs: number[] = [];
    let faceApiFaces = 0;
    for (let i = 0; i < repeats + 1; i++) {
      const r = await fa.detect(0);
      faceApiFaces = r.faces.length;
      if (i > 0) theirs.push(r.wall);
    }
    return { oursMs: median(ours), faceApiMs: median(theirs), oursFaces, faceApiFaces, faceApiBackend: `${fa.backend} (tfjs-core ${fa.tfVersion})` };
  } finally {
    await fa.close();
  }
}

async function main(flags: { frames: string; browserSeconds: string; repeats: string; browser: boolean; fullSize: boolean }): Promise<void> {
  const frames = Number(flags.frames);
  const seconds = Number(flags.browserSeconds);
  const backend = await initBackend();
  const tmp = await mkdtemp(join(tmpdir(), 'bench-webcam-'));
  try {
    const people = join(sharedDataDir(), 'data', 'samples', 'people');
    const scene = SCENE.map((p) => portraitFile(people, p));
    const mp4 = join(tmp, 'camera.mp4');
    const y4m = join(tmp, 'camera.y4m');
    await writeSampleVideo({ output: mp4, scenes: [scene], framesPerScene: frames, fps: 10 });
    await writeSampleVideo({ output: y4m, scenes: [scene], framesPerScene: 20, fps: 10 });
    const enrolFiles = await Promise.all(GALLERY.map(async (name) => {
      const file = join(tmp, `${name}.png`);
      await sharp(portraitFile(people, { name, index: 1 })).toFile(file);
      return file;
    }));

    const small = await exampleModel({ placeholderIfMissing: true, placeholderDir: join(tmp, 'placeholder'), warn: () => {} });
    const models = [{ label: small.placeholder ? 'placeholder (80 px, ¼ width, untrained)' : `default model (${small.dir})`, dir: small.dir }];
    if (flags.fullSize) {
      const fullDir = join(tmp, 'full-size');
      const full = buildInceptionResnetV1({ seed: 1 });
      await saveModel(full, fullDir);
      full.dispose();
      await writeModelPreprocessing(fullDir, DEFAULT_PREPROCESSING);
      models.push({ label: 'full Inception-ResNet-v1 (160 px, 512-d, random weights)', dir: fullDir });
    }

    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model}; load ${loadavg().map(f2).join(' ')}; Node backend ${backend.name}`);
    console.log(`video: ${W}×${H}, one scene of 3 portraits (${SCENE.map((p) => `${p.name}${p.index}`).join(', ')}); gallery: 1 picture each of ${GALLERY.length} people`);
    const rows: string[] = [];
    const trackRows: string[] = [];
    for (const m of models) {
      const everyFrame = await nodePipeline(mp4, m.dir, people, tmp, ['--detect-every', '1', '--embed-every', '0']);
      const node = await nodePipeline(mp4, m.dir, people, tmp);
      trackRows.push(`| ${m.label} | ${f2(everyFrame.fps)} | ${f2(everyFrame.recognitionMs)} | ${f2(node.fps)} | ${f2(node.recognitionMs)} | ×${f2(node.fps / everyFrame.fps)} |`);
      console.log(trackRows.at(-1));
      if (!flags.browser) continue;
      const web = await browserPipeline(y4m, m.dir, enrolFiles, tmp, seconds);
      rows.push(`| ${m.label} | ${f2(node.fps)} | ${f2(node.recognitionMs)} | ${f2(web.fps)} (${web.backend}) | ${f2(web.fps / node.fps)} |`);
      console.log(rows.at(-1));
    }
    const frame = await composeFrame(scene, [[27, 151, 177], [231, 151, 177], [435, 151, 177]], W, H);
    const det = await mtcnnOnly(frame, Number(flags.repeats));
    console.log('\n| recognition model | Node fps, every frame detected + embedded | ms/frame (median) | Node fps, faces followed (defaults) | ms/frame (median) | speed-up |');
    console.log('|---|---|---|---|---|---|');
    for (const r of trackRows) console.log(r);
    if (rows.length) {
      console.log('\n| recognition model | Node pipeline fps (faces followed) | Node detect+recognise ms/frame (median) | browser pipeline fps | browser / Node |');
      console.log('|---|---|---|---|---|');
      for (const r of rows) console.log(r);
    }
    console.log('\n| MTCNN on one 640×480 frame, 3 faces | ms (median) | faces | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| tfjs-facenet (${backend.name}) | ${f2(det.oursMs)} | ${det.oursFaces} | 1 |`);
    console.log(`| face-api.js 0.22.2 (${det.faceApiBackend}) | ${f2(det.faceApiMs)} | ${det.faceApiFaces} | ${f2(det.faceApiMs / det.oursMs)}× slower |`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

new Command('bench-webcam')
  .option('--frames <n>', 'frames of the Node video', '40')
  .option('--browser-seconds <s>', 'seconds the browser page is measured', '15')
  .option('--repeats <n>', 'MTCNN-only repeats', '10')
  .option('--no-browser', 'skip the browser page')
  .option('--no-full-size', 'only the default model (skip the full-size Inception-ResNet-v1 rows)')
  .action(main)
  .parseAsync()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
