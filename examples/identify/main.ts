/**
 * Example: enroll people from a folder (one sub-folder per person), then name every face in
 * group photos. Writes one annotated image per photo (boxes, names, distances) and a JSON
 * summary to the output folder. The Node counterpart of the seed project's embedding /
 * still-image test scripts.
 *
 *   npm run example:identify
 *   npx tsx examples/identify/main.ts --people DIR --out DIR [--model DIR] [photos...]
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  annotateImage,
  enrollImages,
  FacenetError,
  Gallery,
  identifyFaces,
  initBackend,
  listEnrollmentSources,
  loadFacenetEmbedder,
  saveGallery,
  type IdentifiedFace,
} from 'tfjs-facenet/node';
import { sharedDataDir, writeFileAtomic } from '../common/files.js';
import { faceColor, faceLabel } from '../common/labels.js';
import { exampleModel } from '../common/model.js';

interface Flags {
  people: string;
  out: string;
  model?: string;
  placeholderIfMissing?: boolean;
  threshold?: string;
}

const round = (v: number, digits = 4): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The photos to identify: the arguments, or every JPEG / PNG of the shared sample groups. */
async function photosToIdentify(args: string[]): Promise<string[]> {
  if (args.length > 0) return args.map((a) => resolve(a));
  const dir = join(sharedDataDir(), 'data', 'samples', 'groups');
  const names = (await readdir(dir)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  return names.map((f) => join(dir, f));
}

/** A face of the JSON summary: rounded numbers, the nearest identities. */
function summarizeFace(f: IdentifiedFace) {
  return {
    name: f.name,
    distance: round(f.distance),
    score: round(f.score),
    box: f.box.map((v) => round(v, 1)),
    candidates: f.candidates.map((c) => ({ name: c.name, distance: round(c.distance) })),
  };
}

async function main(photoArgs: string[], flags: Flags): Promise<void> {
  const backend = await initBackend();
  const model = await exampleModel({ model: flags.model, placeholderIfMissing: flags.placeholderIfMissing });
  const embedder = await loadFacenetEmbedder({ modelDir: model.dir });
  const outDir = resolve(flags.out);
  try {
    const gallery = Gallery.create({
      dimension: embedder.dimension,
      fingerprint: embedder.fingerprint,
      preprocessing: { ...embedder.preprocessing },
      modelLocation: model.dir,
      threshold: flags.threshold !== undefined ? Number(flags.threshold) : undefined,
    });
    const { sources } = await listEnrollmentSources([flags.people]);
    const report = await enrollImages(gallery, embedder, sources);
    for (const f of report.failed) process.stderr.write(`not enrolled: ${f.path}: ${f.reason}\n`);
    await saveGallery(gallery, join(outDir, 'gallery.bin'));
    process.stderr.write(`enrolled ${report.enrolled.length} pictures of ${gallery.identities.length} people\n`);

    const images = [];
    for (const photo of await photosToIdentify(photoArgs)) {
      try {
        const faces = await identifyFaces(gallery, embedder, photo, { topK: 3 });
        const annotated = join(outDir, `${basename(photo, extname(photo))}.png`);
        const png = await annotateImage(
          photo,
          faces.map((f) => ({ box: f.box, label: faceLabel(f.name, f.distance), color: faceColor(f.name) })),
          { showScore: false, landmarks: false },
        );
        await writeFileAtomic(annotated, png);
        images.push({ file: photo, annotated, faces: faces.map(summarizeFace) });
        process.stderr.write(`${basename(photo)}: ${faces.map((f) => faceLabel(f.name, f.distance)).join(', ') || 'no face'}\n`);
      } catch (e) {
        // One unreadable photo does not stop the others; it is reported in the summary.
        if (!(e instanceof FacenetError)) throw e;
        images.push({ file: photo, error: e.message });
        process.stderr.write(`${photo}: ${e.message}\n`);
      }
    }
    const summary = {
      backend: backend.name,
      model: { dir: model.dir, placeholder: model.placeholder, fingerprint: embedder.fingerprint, preprocessing: embedder.preprocessing },
      gallery: {
        identities: gallery.identities.map((name) => ({ name, embeddings: gallery.count(name) })),
        metric: gallery.metric,
        threshold: gallery.threshold,
      },
      enrolled: report.enrolled.map((s) => s.path),
      failed: report.failed,
      images,
    };
    await writeFileAtomic(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    process.stderr.write(`wrote ${images.length} annotated images and summary.json to ${outDir}\n`);
  } finally {
    embedder.dispose();
  }
}

const program = new Command('identify')
  .description('enroll a folder of people, then name the faces of group photos (annotated images + summary.json)')
  .argument('[photos...]', 'photos to identify (default: the shared sample group photos)')
  .option('--people <dir>', 'one sub-folder of pictures per person', join(sharedDataDir(), 'data', 'samples', 'people'))
  .option('--out <dir>', 'output folder', 'out/identify')
  .option('--model <dir>', 'recognition model directory (default: the package default model)')
  .option('--placeholder-if-missing', 'use an untrained placeholder model when the default model is not installed')
  .option('--threshold <t>', 'decision threshold (default: the gallery default)')
  .action(main);

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`identify: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
