/**
 * `tfjs-facenet align <input> <output>`: align a folder-per-identity dataset with MTCNN, as
 * davidsandberg/facenet's `align_dataset_mtcnn.py` (resumable, multi-threaded).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { startProgress } from '../../util/progress.js';
import { addDetectorOptions, detectorOptionsFrom, type DetectorFlags, parseInteger } from '../options.js';
import type { FaceSelection } from '../../face/crop.js';
import { EXIT, batchExitCode } from '../exit-codes.js';

interface AlignFlags extends DetectorFlags {
  imageSize: string;
  margin: string;
  workers?: string;
  face: string;
  method: string;
  landmarkMargin: string;
  chipPadding: string;
  randomOrder?: boolean;
}

async function runAlign(input: string, output: string, flags: AlignFlags): Promise<void> {
  if (!['reference', 'score', 'all'].includes(flags.face)) {
    throw new ConfigError('--face', `must be reference, score or all, got '${flags.face}'`);
  }
  if (flags.method !== 'crop' && flags.method !== 'landmarks' && flags.method !== 'chip') {
    throw new ConfigError('--method', `must be crop, landmarks or chip, got '${flags.method}'`);
  }
  const landmarkMargin = Number(flags.landmarkMargin);
  const { alignDataset } = await import('../../datasets/align.js');
  let bar: ReturnType<typeof startProgress> | undefined;
  const counts = { aligned: 0, noFace: 0, failed: 0, skipped: 0 };
  const controller = new AbortController();
  // First Ctrl-C: finish the images in flight and write the records; second: quit now.
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\ntfjs-facenet align: stopping after the images in flight (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  let summary;
  try {
    summary = await alignDataset({
      input,
      output,
      imageSize: parseInteger('--image-size', flags.imageSize, 1),
      margin: parseInteger('--margin', flags.margin, 0),
      workers: flags.workers !== undefined ? parseInteger('--workers', flags.workers, 0) : undefined,
      faceSelection: flags.face as FaceSelection,
      method: flags.method,
      landmarkMargin,
      chipPadding: Number(flags.chipPadding),
      randomOrder: flags.randomOrder,
      detector: detectorOptionsFrom(flags),
      signal: controller.signal,
      onProgress: (p) => {
        bar ??= startProgress('align', p.total);
        counts[p.status]++;
        bar.tick(1, { ok: counts.aligned, noface: counts.noFace, failed: counts.failed, skip: counts.skipped });
        if (p.status === 'failed' && !process.stderr.isTTY) process.stderr.write(`failed: ${p.file}\n`);
      },
    });
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
  const s = summary;
  const rate = s.aligned + s.noFace.length > 0 ? ((s.aligned + s.noFace.length) / s.seconds).toFixed(2) : '0';
  const lines = [
    `Total number of images: ${s.total}`,
    `Number of successfully aligned images: ${s.aligned} (${s.faces} face crops)`,
    `Already done (skipped): ${s.skipped}`,
    `No face found: ${s.noFace.length}`,
    `Failed: ${s.failed.length}`,
    `Time: ${s.seconds.toFixed(1)} s, ${rate} images/s, ${s.workers === 0 ? 'in-process' : `${s.workers} worker threads`}`,
  ];
  if (s.ignored.length > 0) lines.push(`Ignored non-image files: ${s.ignored.length}`);
  if (s.interrupted) lines.push('Interrupted: run the same command again to finish.');
  process.stdout.write(lines.join('\n') + '\n');
  for (const f of s.noFace) process.stderr.write(`no face: ${f}\n`);
  for (const f of s.failed) process.stderr.write(`failed: ${f.file}: ${f.error}\n`);
  process.exitCode = s.interrupted ? EXIT.INTERRUPTED : batchExitCode(s.total, s.failed.length);
}

export function register(program: Command): void {
  const cmd = program
    .command('align')
    .description('detect, crop and save the face of every image of a folder-per-identity dataset (align_dataset_mtcnn.py)')
    .argument('<input>', 'folder with one sub-folder of images per identity')
    .argument('<output>', 'output folder: <identity>/<image>.png and bounding_boxes.txt')
    .option('--image-size <n>', 'side of the output thumbnails in pixels', '182')
    .option('--margin <n>', 'margin around the face box in source pixels, half on each side', '44')
    .option('--workers <n>', 'worker threads (default: number of CPU cores; 0 = in-process)')
    .option('--face <how>', 'which face when there are several: reference (largest, central), score, or all', 'reference')
    .option('--method <m>', 'crop (box + margin, as the reference), landmarks (5-point similarity alignment) or chip (dlib face chip)', 'crop')
    .option('--chip-padding <f>', "method chip: dlib's padding around the face, a fraction of its size", '0.25')
    .option('--landmark-margin <f>', 'method landmarks: fraction of the output left around the face template', '0.1')
    .option('--random-order', 'shuffle identities and images');
  addDetectorOptions(cmd).action((input: string, output: string, flags: AlignFlags) => runAlign(input, output, flags));
}
