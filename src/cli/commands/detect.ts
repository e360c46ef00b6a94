/**
 * `tfjs-facenet detect <images or folders...>`: find faces with MTCNN, print them (a table
 * or JSON lines), optionally save annotated images and face crops.
 */
import type { Command } from 'commander';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join, relative, dirname, basename, extname, resolve } from 'node:path';
import { isImageFile } from '../../datasets/images.js';
import { addDetectorOptions, detectorOptionsFrom, type DetectorFlags, parseInteger } from '../options.js';
import type { FaceDetection } from '../../face/types.js';
import type { DecodedImage } from '../../image/decode-node.js';
import { batchExitCode } from '../exit-codes.js';
import { settledInOrder } from '../../util/in-order.js';

/** One image to process, with the name used for its outputs (relative, no extension). */
interface ImageJob {
  file: string;
  outName: string;
}

async function collectImages(inputs: string[], onError: (file: string, error: string) => void): Promise<ImageJob[]> {
  const jobs: ImageJob[] = [];
  const walk = async (dir: string, root: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p, root);
      else if (isImageFile(e.name)) {
        const rel = relative(root, p);
        jobs.push({ file: p, outName: join(dirname(rel), basename(rel, extname(rel))) });
      }
    }
  };
  for (const input of inputs) {
    let s;
    try {
      s = await stat(input);
    } catch {
      // A link that loops or points nowhere is an image that cannot be read: the decoder
      // names what is wrong with it.
      if ((await lstat(input).catch(() => null))?.isSymbolicLink()) jobs.push({ file: input, outName: basename(input, extname(input)) });
      else onError(input, 'no such file or folder');
      continue;
    }
    if (s.isDirectory()) await walk(input, dirname(resolve(input)));
    else jobs.push({ file: input, outName: basename(input, extname(input)) });
  }
  return jobs;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The JSON form of a face: coordinates rounded to 0.01 px, score to 6 digits. */
export function faceToJson(f: FaceDetection) {
  return {
    box: f.box.map((v) => round(v, 2)),
    score: round(f.score, 6),
    landmarks: f.landmarks.map(([x, y]) => [round(x, 2), round(y, 2)]),
  };
}

interface DetectFlags extends DetectorFlags {
  json?: boolean;
  annotate?: string;
  crops?: string;
  imageSize: string;
  margin: string;
  workers: string;
}

async function runDetect(inputs: string[], flags: DetectFlags): Promise<void> {
  const detector = detectorOptionsFrom(flags);
  const imageSize = parseInteger('--image-size', flags.imageSize, 1);
  const margin = parseInteger('--margin', flags.margin, 0);
  const workers = parseInteger('--workers', flags.workers, 1);
  const failures: { file: string; error: string }[] = [];
  const report = (file: string, error: string) => {
    failures.push({ file, error });
    process.stderr.write(`tfjs-facenet detect: ${file}: ${error}\n`);
  };
  const jobs = await collectImages(inputs, report);

  const tf = await import('@tensorflow/tfjs-core');
  const { initBackend } = await import('../../runtime/backend.js');
  const { loadMtcnn } = await import('../../mtcnn/detector.js');
  const { decodeImageFile, encodeImage } = await import('../../image/decode-node.js');
  const { rawToTensor } = await import('../../image/load.js');
  const { annotateImage } = await import('../../face/annotate.js');
  const { cropFace } = await import('../../face/crop.js');
  const { scaleDetection } = await import('../../face/types.js');
  const { writeFileAtomic } = await import('../../util/atomic.js');
  const { startProgress } = await import('../../util/progress.js');

  await initBackend();
  let totalFaces = 0;
  let read = 0;
  // The bar goes to stderr; it is shown only when the per-image lines on stdout go elsewhere
  // (a file or a pipe), so that the two never interleave on one terminal.
  const bar = process.stdout.isTTY ? undefined : startProgress('detect', jobs.length);

  /** Print one image's faces (in its own pixels) and write its annotated copy and crops. */
  const emit = async (job: ImageJob, width: number, height: number, reported: FaceDetection[], decoded?: DecodedImage) => {
    totalFaces += reported.length;
    read++;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ file: job.file, width, height, faces: reported.map(faceToJson) }) + '\n');
    } else {
      process.stdout.write(`${job.file}  ${width}×${height}  ${reported.length} face${reported.length === 1 ? '' : 's'}\n`);
      reported.forEach((f, i) => {
        const b = f.box.map((v) => v.toFixed(1).padStart(7)).join(' ');
        process.stdout.write(`  #${String(i).padEnd(3)} score ${f.score.toFixed(4)}  box ${b}\n`);
      });
    }
    if (!flags.annotate && !flags.crops) return;
    const raw = decoded ?? (await decodeImageFile(job.file));
    // Drawing and cropping work on the decoded pixels (downscaled past the decoder's cap).
    const faces = reported.map((f) => scaleDetection(f, raw.scale));
    if (flags.annotate) {
      const png = await annotateImage(raw, faces.map((f, i) => ({ ...f, label: `#${i}` })));
      await writeFileAtomic(join(flags.annotate, `${job.outName}.png`), png);
    }
    if (flags.crops) {
      const image = rawToTensor(raw, job.file);
      try {
        for (let i = 0; i < faces.length; i++) {
          const crop = cropFace(image, faces[i].box, { imageSize, margin });
          const ints = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(crop), 0, 255), 'int32'));
          const data = Uint8Array.from(await ints.data());
          tf.dispose([crop, ints]);
          const png = await encodeImage({ data, width: imageSize, height: imageSize, channels: 3 }, 'png');
          await writeFileAtomic(join(flags.crops, `${job.outName}_${i}.png`), png);
        }
      } finally {
        image.dispose();
      }
    }
  };

  try {
    // No more workers than images (each loads its own backend and networks).
    const poolSize = Math.min(workers, jobs.length);
    if (poolSize > 1) {
      // Worker threads detect (and decode) several images at once; output stays in input order.
      const { FacePool } = await import('../../recognition/face-pool.js');
      const pool = await FacePool.start({ workers: poolSize, detector });
      try {
        for await (const { item: job, result } of settledInOrder(jobs, 4 * poolSize, (job) => pool.detectImage(job.file))) {
          try {
            if (result.status === 'rejected') throw result.reason;
            const r = result.value;
            await emit(job, r.width, r.height, r.faces);
          } catch (e) {
            report(job.file, e instanceof Error ? e.message : String(e));
          } finally {
            bar?.tick(1, { faces: totalFaces });
          }
        }
      } finally {
        await pool.close();
      }
    } else {
      const mtcnn = await loadMtcnn(detector);
      try {
        for (const job of jobs) {
          try {
            const raw = await decodeImageFile(job.file);
            const faces = await mtcnn.detect(raw);
            // An image past the decoder's pixel cap was searched downscaled: report in its own pixels.
            await emit(job, raw.sourceWidth, raw.sourceHeight, faces.map((f) => scaleDetection(f, 1 / raw.scale)), raw);
          } catch (e) {
            report(job.file, e instanceof Error ? e.message : String(e));
          } finally {
            bar?.tick(1, { faces: totalFaces });
          }
        }
      } finally {
        mtcnn.dispose();
      }
    }
  } finally {
    bar?.stop();
  }
  if (!flags.json) {
    process.stdout.write(`${read} image(s), ${totalFaces} face(s), ${failures.length} failed\n`);
  }
  process.exitCode = batchExitCode(read + failures.length, failures.length);
}

export function register(program: Command): void {
  const cmd = program
    .command('detect')
    .description('find faces (boxes, scores, 5 landmarks) in images or folders of images')
    .argument('<inputs...>', 'image files or folders (searched recursively)')
    .option('--json', 'one JSON object per image and line: {"file","width","height","faces":[{"box","score","landmarks"}]}');
  addDetectorOptions(cmd)
    .option('--annotate <dir>', 'save each image with its faces drawn, as PNG, in this folder')
    .option('--crops <dir>', 'save every face crop (margin crop as align_dataset_mtcnn.py), as PNG, in this folder')
    .option('--image-size <n>', 'side of the face crops in pixels (as facenet compare.py)', '160')
    .option('--margin <n>', 'crop margin in source pixels, half on each side (as facenet compare.py)', '44')
    .option('--workers <n>', 'worker threads detecting at once (each with its own backend); 1 = in this thread', '1')
    .action((inputs: string[], flags: DetectFlags) => runDetect(inputs, flags));
}
