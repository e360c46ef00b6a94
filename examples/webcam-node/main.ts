/**
 * Example: face recognition on a live camera (or any video) in Node — the seed project's
 * webcam script. ffmpeg decodes the input into raw RGB frames on a pipe; each frame is
 * detected and recognised against a gallery; the annotated frames (boxes, names,
 * distances, fps) go to a second ffmpeg that writes a video, and one JSON line per frame
 * goes to stdout. Ctrl-C (SIGINT) or the end of the input stops it cleanly.
 *
 * Faces are followed between frames (the library's `FaceFollower`): a full MTCNN detection
 * every `--detect-every` frames, and whenever a face is lost; in between only R-Net and O-Net
 * run, around the last boxes (`Mtcnn.track`). A face is embedded when it appears, then again
 * every `--embed-every` seconds of video or when its look changes (another person in its
 * place). `--detect-every 1 --embed-every 0` detects and embeds every face of every frame.
 * Drawing and encoding a frame overlap the recognition of the next one.
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
  FaceFollower,
  Gallery,
  initBackend,
  listEnrollmentSources,
  loadFacenetEmbedder,
  loadGallery,
  type FacenetEmbedder,
} from 'tfjs-facenet/node';
import { probeFrameRate, readFrames, startDecoder, startEncoder, type FrameEncoder } from '../common/ffmpeg.js';
import { exampleModel } from '../common/model.js';
import { drawFrame } from './draw.js';

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

  await initBackend();
  const model = await exampleModel({ model: flags.model, placeholderIfMissing: flags.placeholderIfMissing });
  const embedder = await loadFacenetEmbedder({ modelDir: model.dir });
  const gallery = await openGallery(flags, embedder, model.dir);
  const follower = new FaceFollower(gallery, embedder, { detectEvery, embedEveryFrames: Math.round(embedEvery * fps) });
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
  let written: Promise<void> = Promise.resolve();
  try {
    for await (const frame of readFrames(decoder.process.stdout!, width * height * 3)) {
      const t0 = performance.now();
      const { faces, detected, embedded } = await follower.next({ data: frame, width, height, channels: 3 });
      const seconds = (performance.now() - started) / 1000;
      const rate = (frames + 1) / seconds;
      if (encoder) {
        // Drawing (sharp's thread pool) and encoding (ffmpeg) of this frame run while the next
        // one is recognised; at most one frame waits, so memory stays bounded.
        const previous = written;
        written = Promise.all([previous, drawFrame(frame, width, height, faces, rate)]).then(([, pixels]) => encoder.write(pixels));
        await previous;
      }
      json.write(
        JSON.stringify({
          frame: frames,
          // ms since the pipeline started reading, and ms spent recognising this frame
          t: round(performance.now() - started, 1),
          ms: round(performance.now() - t0, 1),
          fps: round(rate, 2),
          // a full detection, or faces followed from the last frame; how many faces were embedded
          detected,
          embedded,
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
    await written;
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
