/**
 * `tfjs-facenet embed <images...> --model DIR`: print the embedding of each image's main
 * face, or with `--aligned` of each image taken as an already aligned face crop.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { addDetectorOptions, detectorOptionsFrom, type DetectorFlags, parseInteger, modelOptionHelp } from '../options.js';
import { forEachImage, forEachImageAhead } from './per-image.js';

interface EmbedFlags extends DetectorFlags {
  model?: string;
  aligned?: boolean;
  json?: boolean;
  workers: string;
}

/** One image's embedding on stdout. */
function printEmbedding(image: string, embedding: Float32Array, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify({ file: image, embedding: Array.from(embedding) }) + '\n');
  } else {
    const head = Array.from(embedding.subarray(0, 6), (v) => v.toFixed(4)).join(' ');
    process.stdout.write(`${image}: ${embedding.length}-d  ${head} …\n`);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('embed')
    .description("print embeddings: of each image's main face (MTCNN), or with --aligned of each image as a face crop")
    .argument('<images...>', 'image files')
    .option('--model <name|dir>', modelOptionHelp(), 'default')
    .option('--aligned', "images are aligned face crops: resize to the model's input (bilinear), no detection")
    .option('--json', 'print one JSON object per image: {"file", "embedding"}')
    .option('--workers <n>', 'worker threads embedding at once (each with its own backend and model); 1 = in this thread', '1');
  addDetectorOptions(cmd).action(async (images: string[], flags: EmbedFlags) => {
    const workers = parseInteger('--workers', flags.workers, 1);
    const { initBackend } = await import('../../runtime/backend.js');
    await initBackend();
    const poolSize = Math.min(workers, images.length); // each worker loads its own backend and model
    if (poolSize > 1) {
      const { FacePool } = await import('../../recognition/face-pool.js');
      const pool = await FacePool.start({ workers: poolSize, model: flags.model, detector: detectorOptionsFrom(flags) });
      try {
        // Submitted a window ahead; printed in input order. Failures are reported per image.
        await forEachImageAhead(
          images,
          4 * poolSize,
          (image) => pool.embed(image, { aligned: flags.aligned }),
          (image, embedding) => printEmbedding(image, embedding, flags.json),
        );
      } finally {
        await pool.close();
      }
      return;
    }
    const { modelFolder } = await import('../../recognition/models.js');
    const { loadFacenetEmbedder } = await import('../../recognition/load.js');
    const modelDir = await modelFolder(flags.model);
    // With --aligned nothing is detected: the detector is never loaded, and calling it is a bug.
    const noDetection = {
      detect: (): never => {
        throw new ConfigError('--aligned', 'no face detection with --aligned');
      },
    };
    const embedder = await loadFacenetEmbedder({
      modelDir,
      ...(flags.aligned ? { detector: noDetection } : { detectorOptions: detectorOptionsFrom(flags) }),
    });
    const { embedAlignedFace } = await import('../../recognition/aligned.js');
    try {
      await forEachImage(images, async (image) => {
        const embedding = flags.aligned ? await embedAlignedFace(embedder, image) : (await embedder.embed([image]))[0];
        printEmbedding(image, embedding, flags.json);
      });
    } finally {
      (embedder.detector as { dispose?: () => void }).dispose?.();
    }
  });
}
