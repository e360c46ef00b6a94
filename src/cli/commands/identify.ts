/**
 * `tfjs-facenet identify --gallery STORE <images...>`: name every face of each image.
 */
import type { Command } from 'commander';
import { ConfigError, FacenetError } from '../../errors.js';
import { addDetectorOptions, detectorOptionsFrom, type DetectorFlags, parseInteger, modelOptionHelp } from '../options.js';
import type { IdentifiedFace } from '../../recognition/identify.js';
import { forEachImage, forEachImageAhead } from './per-image.js';

interface IdentifyFlags extends DetectorFlags {
  gallery: string;
  model?: string;
  topK: string;
  threshold?: string;
  aggregation: string;
  json?: boolean;
  workers: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('identify')
    .description('identify every face in images against a gallery (file, pglite:DIR or postgres://…): name (or unknown), distance and box')
    .argument('<images...>', 'image files')
    .requiredOption('--gallery <store>', 'gallery made by `tfjs-facenet enroll`: a file, pglite:DIR or postgres://…')
    .option('--model <name|dir>', modelOptionHelp('the one the gallery was enrolled with, else default'))
    .option('--top-k <n>', 'candidates to list per face', '1')
    .option('--threshold <t>', "decision threshold (default: the gallery's)")
    .option('--aggregation <a>', "'nearest' embedding or 'mean' embedding per identity", 'nearest')
    .option('--json', 'print one JSON object per image')
    .option('--workers <n>', 'worker threads detecting and embedding at once (each with its own backend and model); 1 = in this thread', '1');
  addDetectorOptions(cmd).action(async (images: string[], flags: IdentifyFlags) => {
    if (flags.aggregation !== 'nearest' && flags.aggregation !== 'mean') {
      throw new ConfigError('--aggregation', `must be nearest or mean, got '${flags.aggregation}'`);
    }
    const topK = parseInteger('--top-k', flags.topK, 1);
    const workers = parseInteger('--workers', flags.workers, 1);
    const threshold = flags.threshold !== undefined ? Number(flags.threshold) : undefined;
    if (threshold !== undefined && !(threshold > 0)) throw new ConfigError('--threshold', `must be a positive number, got '${flags.threshold}'`);
    const { openGalleryStore } = await import('../../gallery/open-store.js');
    // The whole gallery in memory: one SIMD scan matches every face of an image at once.
    const store = await openGalleryStore(flags.gallery);
    const gallery = await store.load().finally(() => store.close());
    const { modelFolder } = await import('../../recognition/models.js');
    // A gallery that does not say which model made it is checked against the default's fingerprint below.
    const modelDir = await modelFolder(flags.model ?? gallery.modelLocation ?? 'default');
    const { initBackend } = await import('../../runtime/backend.js');
    await initBackend();
    const { loadFacenetEmbedder } = await import('../../recognition/load.js');
    const { identifyFaces, nameFaces, assertGalleryMatchesEmbedder } = await import('../../recognition/identify.js');
    const embedder = await loadFacenetEmbedder({
      modelDir,
      detectorOptions: detectorOptionsFrom(flags),
      preprocessing: gallery.preprocessing ?? undefined,
    });
    try {
      assertGalleryMatchesEmbedder(gallery, embedder, flags.gallery);
      const options = {
        topK,
        threshold,
        aggregation: flags.aggregation as 'nearest' | 'mean',
        minDetectionScore: embedder.calibration?.minDetectionScore,
      };
      const print = (image: string, faces: IdentifiedFace[]) => {
        const round = (v: number) => Math.round(v * 1e4) / 1e4;
        if (flags.json) {
          const out = faces.map((f) => ({
            name: f.name,
            distance: round(f.distance),
            box: f.box.map((v) => Math.round(v * 100) / 100),
            score: round(f.score),
            candidates: f.candidates.map((c) => ({ name: c.name, distance: round(c.distance) })),
          }));
          process.stdout.write(JSON.stringify({ file: image, faces: out }) + '\n');
        } else {
          const lines = [`${image}: ${faces.length} face(s)`];
          for (const f of faces) {
            const box = f.box.map((v) => Math.round(v)).join(',');
            const others = f.candidates.slice(1).map((c) => `${c.name} ${c.distance.toFixed(4)}`).join(', ');
            lines.push(`  ${f.name ?? 'unknown'}  ${f.distance.toFixed(4)}  [${box}]${others ? `  (then: ${others})` : ''}`);
          }
          process.stdout.write(lines.join('\n') + '\n');
        }
      };
      const poolSize = Math.min(workers, images.length); // each worker loads its own backend and model
      if (poolSize > 1) {
        // The workers detect and embed (each its own copy of the model, with the gallery's
        // preprocessing); this thread matches against the gallery and prints in input order.
        const { FacePool } = await import('../../recognition/face-pool.js');
        const pool = await FacePool.start({ workers: poolSize, model: modelDir, detector: detectorOptionsFrom(flags), preprocessing: gallery.preprocessing ?? undefined });
        try {
          await forEachImageAhead(
            images,
            4 * poolSize,
            (image) => pool.embedAllFaces(image),
            (image, faces) => print(image, nameFaces(gallery, faces, options)),
          );
        } finally {
          await pool.close();
        }
        return;
      }
      await forEachImage(images, async (image) => print(image, await identifyFaces(gallery, embedder, image, options)));
    } finally {
      embedder.dispose();
    }
  });
}
