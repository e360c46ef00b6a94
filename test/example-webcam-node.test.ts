/**
 * examples/webcam-node end to end: a 640×480 video made from the sample portraits (three
 * faces per frame) goes through ffmpeg → detection + recognition → annotated video; checks
 * the per-frame JSON lines, the names, the output video and a clean stop on SIGINT.
 *
 * Enrolment pictures show each portrait exactly as the video does, so the names must be
 * right with any model, the untrained placeholder included (it is used when the default
 * model is not installed).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend, sharedPath } from './helpers.js';
import { runExample } from './example-run.js';
import { exampleModel } from '../examples/common/model.js';
import { countVideoFrames } from '../examples/common/ffmpeg.js';
import { writeSampleVideo, type Slot } from '../examples/common/sample-video.js';
import { portraitFile, slotOf, writeEnrolmentPictures, type Portrait } from '../examples/common/scenes.js';

const W = 640;
const H = 480;
const FRAMES_PER_SCENE = 3;
const SCENES: Portrait[][] = [
  [{ name: 'amy', index: 1 }, { name: 'leonard', index: 1 }, { name: 'penny', index: 1 }],
  [{ name: 'raj', index: 1 }, { name: 'sheldon', index: 1 }, { name: 'howard', index: 1 }],
];

interface FrameLine {
  frame: number;
  fps: number;
  detected: boolean;
  embedded: number;
  faces: { name: string | null; distance: number; box: number[] }[];
}

let tmp: string;
let modelDir: string;
let video: string;
let peopleDir: string;
let slots: Slot[];

beforeAll(async () => {
  await setupBackend();
  tmp = await mkdtemp(join(tmpdir(), 'webcam-node-'));
  const people = sharedPath('data', 'samples', 'people');
  modelDir = (await exampleModel({ placeholderIfMissing: true, placeholderDir: join(tmp, 'model'), warn: () => {} })).dir;
  video = join(tmp, 'camera.y4m');
  ({ slots } = await writeSampleVideo({
    output: video,
    scenes: SCENES.map((s) => s.map((p) => portraitFile(people, p))),
    framesPerScene: FRAMES_PER_SCENE,
    fps: 10,
  }));
  peopleDir = join(tmp, 'people');
  for (const scene of SCENES) await writeEnrolmentPictures(peopleDir, people, scene, slots, W, H);
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const parseLines = (text: string): FrameLine[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FrameLine);

/** One decoded RGB24 frame of a video file. */
function decodeFrame(path: string, index: number): Uint8Array {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    maxBuffer: 64 << 20,
  });
  expect(r.status).toBe(0);
  return new Uint8Array(r.stdout);
}

describe('examples/webcam-node', () => {
  it('names the faces of every frame, writes one JSON line per frame and the annotated video', async () => {
    const out = join(tmp, 'annotated.mp4');
    const jsonFile = join(tmp, 'frames.jsonl');
    // Every face of every frame detected and embedded (no following between frames).
    const run = runExample('webcam-node/main.ts', [
      '--input', video, '--people', peopleDir, '--model', modelDir,
      '--out', out, '--json', jsonFile, '--detect-every', '1', '--embed-every', '0', // no --fps: the video plays at the input's rate
    ]);
    const { code, stderr } = await run.done;
    expect(code, stderr).toBe(0);

    const lines = parseLines(await readFile(jsonFile, 'utf8'));
    const frames = SCENES.length * FRAMES_PER_SCENE;
    expect(lines.map((l) => l.frame)).toEqual(Array.from({ length: frames }, (_, i) => i));
    for (const line of lines) {
      const scene = SCENES[Math.floor(line.frame / FRAMES_PER_SCENE)];
      expect(line.fps).toBeGreaterThan(0);
      expect(line.faces).toHaveLength(3);
      // Each face in its own slot, named after the person shown there.
      const bySlot = line.faces.map((f) => slotOf(f.box, slots));
      expect([...bySlot].sort()).toEqual([0, 1, 2]);
      line.faces.forEach((f, i) => expect(f.name, `frame ${line.frame} slot ${bySlot[i]}`).toBe(scene[bySlot[i]].name));
      // The enrolment pictures carry the camera's exact pixels, so each face is (nearly) its own enrolment.
      line.faces.forEach((f) => expect(f.distance).toBeLessThan(1e-3));
    }

    // The output video decodes to as many 640×480 frames as were read.
    expect(await countVideoFrames(out)).toBe(frames);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', out]);
    expect(probe.stdout.toString().trim()).toBe(`${W},${H}`);
    // Written at the camera's 10 fps (not at the processing rate, nor a fixed 25): real-time playback.
    const rate = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=avg_frame_rate', '-of', 'csv=p=0', out]);
    expect(rate.stdout.toString().trim()).toBe('10/1');

    // The boxes are drawn: along the top edge of the first face's box the annotated frame is
    // green (known face), where the input frame is the grey background or the grey portrait.
    const [x1, y1, x2] = lines[0].faces[0].box.map(Math.round);
    const greenness = (rgb: Uint8Array) => {
      let best = -255;
      for (let x = x1 + 10; x < x2 - 10; x++) {
        for (let y = y1 - 1; y <= y1 + 1; y++) {
          const i = (y * W + x) * 3;
          best = Math.max(best, rgb[i + 1] - Math.max(rgb[i], rgb[i + 2]));
        }
      }
      return best;
    };
    expect(greenness(decodeFrame(out, 0))).toBeGreaterThan(80);
    expect(greenness(decodeFrame(video, 0))).toBeLessThan(20);
  });

  it('follows the faces between full detections, embeds them once, and notices the cut to other people', async () => {
    const jsonFile = join(tmp, 'followed.jsonl');
    // Defaults: full detection every 10th frame, each face embedded again after 1 s of video (10 frames).
    const run = runExample('webcam-node/main.ts', ['--input', video, '--people', peopleDir, '--model', modelDir, '--json', jsonFile, '--fps', '10']);
    const { code, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    const lines = parseLines(await readFile(jsonFile, 'utf8'));
    expect(lines).toHaveLength(SCENES.length * FRAMES_PER_SCENE);
    for (const line of lines) {
      const scene = SCENES[Math.floor(line.frame / FRAMES_PER_SCENE)];
      expect(line.faces).toHaveLength(3);
      const bySlot = line.faces.map((f) => slotOf(f.box, slots));
      expect([...bySlot].sort()).toEqual([0, 1, 2]);
      // Right names on every frame, the first frame of the second scene included.
      line.faces.forEach((f, i) => expect(f.name, `frame ${line.frame} slot ${bySlot[i]}`).toBe(scene[bySlot[i]].name));
    }
    // One full detection (frame 0); the faces of each scene embedded once: at its first frame.
    expect(lines.map((l) => l.detected)).toEqual(lines.map((l) => l.frame === 0));
    expect(lines.map((l) => l.embedded)).toEqual(lines.map((l) => (l.frame % FRAMES_PER_SCENE === 0 ? 3 : 0)));
  });

  it('stops cleanly on SIGINT: every frame read is in the JSON and in a decodable video', async () => {
    const out = join(tmp, 'interrupted.mp4');
    // An endless synthetic source, like a camera.
    const run = runExample('webcam-node/main.ts', [
      '--input-format', 'lavfi', '--input', `testsrc2=size=${W}x${H}:rate=10`,
      '--people', peopleDir, '--model', modelDir, '--out', out, '--fps', '10',
    ]);
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (parseLines(run.stdout()).length >= 3) {
          clearInterval(timer);
          run.child.kill('SIGINT');
          resolve();
        }
      }, 100);
      run.child.once('close', () => {
        clearInterval(timer);
        reject(new Error('exited before SIGINT'));
      });
    });
    const { code, stdout, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    const lines = parseLines(stdout);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.map((l) => l.frame)).toEqual(lines.map((_, i) => i));
    expect(await countVideoFrames(out)).toBe(lines.length);
  });

  it('reports an input that ffmpeg cannot read, naming it', async () => {
    const missing = join(tmp, 'no-such-video.mp4');
    const run = runExample('webcam-node/main.ts', ['--input', missing, '--people', peopleDir, '--model', modelDir]);
    const { code, stderr } = await run.done;
    expect(code).toBe(1);
    expect(stderr).toContain(missing);
  });
});
