/**
 * Example: face recognition on a live camera (or any video) in Node — the seed project's
 * webcam script. ffmpeg decodes the input into raw RGB frames on a pipe; each frame is
 * detected and recognised against a gallery; the annotated frames (boxes, names,
 * distances, fps) go to a second ffmpeg that writes a video, and one JSON line per frame
 * goes to stdout. Ctrl-C (SIGINT) or the end of the input stops it cleanly.
 *
 * Faces are followed between frames (tracker.ts): a full MTCNN detection every
 * `--detect-every` frames, and whenever a face is lost; in between only R-Net and O-Net run,
 * around the last boxes (`Mtcnn.track`). A face is embedded when it appears, then again every
 * `--embed-every` seconds of video or when its look changes (another person in its place).
 * `--detect-every 1 --embed-every 0` detects and embeds every face of every frame.
 *
 *   npx tsx examples/webcam-node/main.ts --people ../shared/data/samples/people --out out/webcam.mp4
 *   npx tsx examples/webcam-node/main.ts --input some-video.mp4 --gallery out/identify/gallery.bin
 */
import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import {
  assertGalleryMatchesEmbedder,
  ConfigError,
  enrollImages,
  Gallery,
  initBackend,
  listEnrollmentSources,
  loadFacenetEmbedder,
  loadGallery,
  loadImage,
  Mtcnn,
  type FaceDetection,
  type FacenetEmbedder,
  type IdentifiedFace,
} from 'tfjs-facenet/node';
import { probeFrameRate, readFrames, startDecoder, startEncoder, type FrameEncoder } from '../common/ffmpeg.js';
import { exampleModel } from '../common/model.js';
import { drawFrame } from './draw.js';
import { planFaces, type EmbedPolicy, type Track } from './tracker.js';

interface Flags {
  input: string;
  inputFormat?: string;
  size: string;
  fps?: string;
  maxFrames?: string;
  people?: string;
  gallery?: string;
  out?: string;
  codec: string;
  json: string;
  model?: string;
  placeholderIfMissing?: boolean;
  detectEvery: string;
  embedEvery: string;
}

/** What a face's last embedding said. */
type Identity = Pick<IdentifiedFace, 'name' | 'distance' | 'candidates'>;

/** Least box overlap for a face to continue a face of the previous frame. */
const TRACK_MIN_IOU = 0.3;
/**
 * Re-embed a followed face when the picture in its box changed by more than this many grey
 * levels (cell means, 0…255) since the last frame: another person in its place.
 */
const TRACK_MAX_CHANGE = 24;

/** Embed the given faces of one frame and name them from the gallery. */
async function identifyDetections(
  gallery: Gallery,
  embedder: FacenetEmbedder,
  frame: { data: Uint8Array; width: number; height: number; channels: 3 },
  detections: FaceDetection[],
): Promise<Identity[]> {
  if (detections.length === 0) return [];
  const img = await loadImage(frame);
  let embeddings: Float32Array[];
  try {
    const { crops } = embedder.cropDetections(img, detections, 'all');
    try {
      embeddings = await embedder.embedCrops(crops);
    } finally {
      crops.dispose();
    }
  } finally {
    img.dispose();
  }
  return gallery.matchMany(embeddings).map((m) => ({ name: m.name, distance: m.distance, candidates: m.candidates }));
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

function parseSize(s: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m || Number(m[1]) < 16 || Number(m[2]) < 16) throw new ConfigError('--size', `expected WIDTHxHEIGHT, got '${s}'`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** The gallery to match against: a gallery file, or the people folder enrolled now. */
async function openGallery(flags: Flags, embedder: FacenetEmbedder, modelDir: string): Promise<Gallery> {
  if (flags.gallery) {
    const gallery = await loadGallery(flags.gallery);
    assertGalleryMatchesEmbedder(gallery, embedder, flags.gallery);
    return gallery;
  }
  if (!flags.people) throw new ConfigError('--people', 'give --people DIR (one folder per person) or --gallery FILE');
  const gallery = Gallery.create({
    dimension: embedder.dimension,
    fingerprint: embedder.fingerprint,
    preprocessing: { ...embedder.preprocessing },
    modelLocation: modelDir,
  });
  const { sources } = await listEnrollmentSources([flags.people]);
  const report = await enrollImages(gallery, embedder, sources);
  for (const f of report.failed) process.stderr.write(`not enrolled: ${f.path}: ${f.reason}\n`);
  process.stderr.write(`enrolled ${report.enrolled.length} pictures of ${gallery.identities.length} people\n`);
  return gallery;
}

async function main(flags: Flags): Promise<void> {
  const { width, height } = parseSize(flags.size);
  // Every input frame is written, so the video must play at the input's own rate: written at
  // the processing rate (or a fixed 25) it plays too fast or too slow.
  const fps = flags.fps !== undefined ? Number(flags.fps) : (await probeFrameRate(flags.input, flags.inputFormat)) ?? 25;
  if (!(fps > 0)) throw new ConfigError('--fps', `must be a positive number, got '${flags.fps}'`);
  const maxFrames = flags.maxFrames !== undefined ? Number(flags.maxFrames) : undefined;
  if (flags.codec !== 'libx264' && flags.codec !== 'mpeg4') throw new ConfigError('--codec', `must be libx264 or mpeg4, got '${flags.codec}'`);
  const detectEvery = Number(flags.detectEvery);
  if (!(Number.isInteger(detectEvery) && detectEvery >= 1)) throw new ConfigError('--detect-every', `must be a positive integer, got '${flags.detectEvery}'`);
  const embedEvery = Number(flags.embedEvery);
  if (!(embedEvery >= 0)) throw new ConfigError('--embed-every', `must be a number of seconds ≥ 0, got '${flags.embedEvery}'`);
  const policy: EmbedPolicy = { everyFrames: Math.round(embedEvery * fps), maxChange: TRACK_MAX_CHANGE, minIou: TRACK_MIN_IOU };

  await initBackend();
  const model = await exampleModel({ model: flags.model, placeholderIfMissing: flags.placeholderIfMissing });
  const embedder = await loadFacenetEmbedder({ modelDir: model.dir });
  const gallery = await openGallery(flags, embedder, model.dir);
  const json = flags.json === '-' ? process.stdout : createWriteStream(resolve(flags.json));

  const decoder = startDecoder({ input: flags.input, inputFormat: flags.inputFormat, width, height, maxFrames });
  const encoder: FrameEncoder | null = flags.out
    ? startEncoder({ output: resolve(flags.out), width, height, fps, codec: flags.codec })
    : null;

  // First Ctrl-C: stop reading and finish the video; a second one quits at once.
  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('stopping…\n');
    decoder.process.kill('SIGTERM');
  };
  process.on('SIGINT', onSigint);

  const started = performance.now();
  let frames = 0;
  try {
    // The detector the embedder uses; following faces needs MTCNN's track().
    const mtcnn = embedder.detector instanceof Mtcnn ? embedder.detector : null;
    let tracks: Track<Identity>[] = [];
    let lost: boolean = true;
    let previousFrame: Uint8Array | null = null;
    for await (const frame of readFrames(decoder.process.stdout!, width * height * 3)) {
      const t0 = performance.now();
      const raw = { data: frame, width, height, channels: 3 as const };
      const full: boolean = mtcnn === null || lost || tracks.length === 0 || frames % detectEvery === 0;
      const detections: FaceDetection[] =
        mtcnn === null || full ? await embedder.detector.detect(raw) : await mtcnn.track(raw, tracks.map((t) => t.box));
      // Fewer faces than were followed: one moved too far or left — look everywhere next frame.
      lost = !full && detections.length < tracks.length;
      const plan = planFaces(tracks, detections.map((d) => d.box), { data: frame, width, height, index: frames }, previousFrame, policy);
      previousFrame = frame;
      const toEmbed = plan.flatMap((p, i) => (p.embed ? [i] : []));
      const identities = await identifyDetections(gallery, embedder, raw, toEmbed.map((i) => detections[i]));
      tracks = detections.map((d, i) => {
        const k = toEmbed.indexOf(i);
        const p = plan[i];
        return k >= 0
          ? { box: d.box, identity: identities[k], embeddedAt: frames }
          : { ...p.previous!, box: d.box };
      });
      const faces: IdentifiedFace[] = detections.map((d, i) => ({ box: d.box, score: d.score, ...tracks[i].identity }));
      const seconds = (performance.now() - started) / 1000;
      const rate = (frames + 1) / seconds;
      if (encoder) await encoder.write(await drawFrame(frame, width, height, faces, rate));
      json.write(
        JSON.stringify({
          frame: frames,
          // ms since the pipeline started reading, and ms spent recognising this frame
          t: round(performance.now() - started, 1),
          ms: round(performance.now() - t0, 1),
          fps: round(rate, 2),
          // a full detection, or faces followed from the last frame; how many faces were embedded
          detected: full,
          embedded: toEmbed.length,
          faces: faces.map((f) => ({
            name: f.name,
            distance: round(f.distance, 4),
            score: round(f.score, 4),
            box: f.box.map((v) => round(v, 1)),
          })),
        }) + '\n',
      );
      frames++;
      if (stopping) break;
    }
  } finally {
    process.off('SIGINT', onSigint);
    if (decoder.process.exitCode === null) decoder.process.kill('SIGTERM');
    await encoder?.finish();
    if (json !== process.stdout) await new Promise<void>((done) => json.end(done));
    embedder.dispose();
  }
  const code = decoder.process.exitCode ?? (await new Promise<number | null>((done) => decoder.process.once('close', done)));
  if (code !== 0 && !stopping && frames === 0) throw new Error(`ffmpeg could not read ${flags.input}: ${decoder.stderr() || `exit code ${code}`}`);
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`${frames} frames in ${seconds.toFixed(1)} s (${(frames / seconds).toFixed(2)} fps)${flags.out ? `, video: ${flags.out}` : ''}\n`);
}

const program = new Command('webcam-node')
  .description('recognise faces in a camera or video stream; write an annotated video and one JSON line per frame')
  .option('--input <source>', 'camera device, video file or URL (anything ffmpeg reads)', '/dev/video0')
  .option('--input-format <f>', 'ffmpeg input format, e.g. v4l2 (default: v4l2 for /dev/video*)')
  .option('--size <WxH>', 'frame size the input is scaled to', '640x480')
  .option('--fps <n>', "frame rate written into the output video (default: the input's, else 25)")
  .option('--max-frames <n>', 'stop after this many frames')
  .option('--people <dir>', 'enroll these people first (one folder per person)')
  .option('--gallery <file>', 'or: a gallery file made with the same model')
  .option('--out <video>', 'annotated output video (.mp4, .mkv, .avi)')
  .option('--codec <c>', 'libx264 or mpeg4', 'libx264')
  .option('--json <file>', "where the per-frame JSON lines go ('-' = stdout)", '-')
  .option('--model <dir>', 'recognition model directory (default: the package default model)')
  .option('--placeholder-if-missing', 'use an untrained placeholder model when the default model is not installed')
  .option('--detect-every <k>', 'full face detection every k frames (between them, faces are followed); 1 = every frame', '10')
  .option('--embed-every <seconds>', 'embed a followed face again after this much video time (0 = every frame)', '1')
  .action(main);

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`webcam-node: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
