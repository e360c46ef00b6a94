/**
 * The pictures of docs/guides/pictures.md, written into docs/images (each kept under 300 KB):
 *
 * - `group-<photo>.png`: a sample group photo with every box MTCNN finds, named by the default
 *   model (dlib) with the seven sample people enrolled (all their portraits), or "unknown"
 *   (with the nearest person and distance) when the distance is above the model's threshold
 *   or the detection score below its floor — what `FaceRecognizer` returns, drawn with
 *   `annotateImage`;
 * - `lfw-roc-dlib.svg`: the ROC curves (linear and log FPR) of an LFW evaluation, from the
 *   JSON report `tfjs-facenet eval-lfw --out report.json` wrote (given with --lfw-report; the
 *   committed docs/images/lfw-dlib-report.json is `node dist/cli.js eval-lfw --model dlib
 *   --lfw LFW-CHIPS --aligned --out …`, BENCHMARKS.md "LFW").
 *
 *   node --import tsx scripts/docs-images.ts [--photos bbt1,bbt5] [--lfw-report docs/images/lfw-dlib-report.json]
 *
 * Reads the sample data from the shared data folder (TFJS_FACENET_SHARED, default ../shared).
 */
import { Command } from 'commander';
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { FaceRecognizer } from '../src/recognition/recognizer.js';
import { annotateImage, type Annotation } from '../src/face/annotate.js';
import { reportCurve, rocCurveSvg } from '../src/eval/roc-plot.js';
import type { VerificationReport } from '../src/eval/verification.js';
import { sharedPath } from '../src/util/shared-data.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { NoFaceError } from '../src/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'docs', 'images');
/** The size limit of a committed picture. */
const MAX_BYTES = 300 * 1024;

const program = new Command('docs-images')
  .option('--photos <list>', 'group photos (samples/groups/<name>.jpg) to annotate', 'bbt1,bbt5')
  .option('--lfw-report <file>', 'JSON report of `tfjs-facenet eval-lfw --out` to plot')
  .option('--width <px>', 'width of the annotated photos', '900')
  .parse();
const o = program.opts<{ photos: string; lfwReport?: string; width: string }>();

async function write(name: string, bytes: Uint8Array | string): Promise<void> {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
  if (size > MAX_BYTES) throw new Error(`${name}: ${size} bytes, over the ${MAX_BYTES}-byte limit of docs/images`);
  await writeFileAtomic(join(outDir, name), bytes);
  console.log(`docs/images/${name}  ${(size / 1024).toFixed(0)} KB`);
}

async function groupPhotos(): Promise<void> {
  const rec = await FaceRecognizer.load();
  try {
    const peopleDir = sharedPath('data', 'samples', 'people');
    for (const person of (await readdir(peopleDir)).sort()) {
      for (const file of (await readdir(join(peopleDir, person))).sort()) {
        try {
          await rec.enroll(person, [join(peopleDir, person, file)]);
        } catch (e) {
          // Two sample portraits have no face MTCNN finds; enrolment goes on without them.
          if (!(e instanceof NoFaceError)) throw e;
          console.error(`no face in ${person}/${file}: not enrolled`);
        }
      }
    }
    const threshold = rec.gallery.threshold;
    for (const photo of o.photos.split(',')) {
      const path = sharedPath('data', 'samples', 'groups', `${photo}.jpg`);
      await stat(path);
      const faces = await rec.identify(path);
      const annotations: Annotation[] = faces.map((f) => ({
        box: f.box,
        label: f.name
          ? `${f.name} ${f.distance.toFixed(2)}`
          : `unknown (${f.candidates[0]?.name ?? '-'}? ${f.distance.toFixed(2)})`,
        color: f.name ? '#00e000' : '#ffa000',
      }));
      const png = await annotateImage(path, annotations, { showScore: false });
      const sharp = (await import('sharp')).default;
      // A palette PNG of the photo scaled down: the boxes and labels stay legible, the file small.
      const small = await sharp(png).resize({ width: Number(o.width), withoutEnlargement: true }).png({ palette: true, quality: 90, effort: 10 }).toBuffer();
      await write(`group-${photo}.png`, small);
      const named = faces.filter((f) => f.name).map((f) => f.name);
      console.log(`  ${photo}: ${faces.length} boxes, named: ${named.join(', ') || 'none'} (threshold ${threshold.toFixed(4)})`);
    }
  } finally {
    rec.dispose();
  }
}

async function lfwRoc(file: string): Promise<void> {
  // eval-lfw --out writes the report's fields at the top level, beside the run's details.
  const report = JSON.parse(await readFile(file, 'utf8')) as VerificationReport;
  if (!report.roc) throw new Error(`${file}: no ROC in this report (write it with eval-lfw --out)`);
  const curve = reportCurve(report, 'dlib on LFW');
  await write('lfw-roc-dlib.svg', rocCurveSvg([curve], { title: 'dlib (default model), LFW 6,000 pairs', fprScale: 'linear' }));
  await write('lfw-roc-dlib-log.svg', rocCurveSvg([curve], { title: 'dlib (default model), LFW, log FPR', fprScale: 'log' }));
}

await initBackend();
await groupPhotos();
if (o.lfwReport) await lfwRoc(resolve(o.lfwReport));
