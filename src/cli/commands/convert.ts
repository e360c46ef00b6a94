/**
 * `tfjs-facenet convert <file.pt | checkpoint> <out-dir>`: turn pretrained FaceNet weights
 * (facenet-pytorch `.pt`, davidsandberg/facenet TensorFlow checkpoint) into a model
 * directory that every `--model DIR` accepts.
 */
import type { Command } from 'commander';
import { parseInteger, parseMargin } from '../options.js';

interface ConvertFlags {
  imageSize: string;
  margin?: string;
  keepLogits?: boolean;
  allowUnknown?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description(
      'convert pretrained FaceNet weights into a model directory: a facenet-pytorch state dict (.pt) or a ' +
        'davidsandberg/facenet TensorFlow checkpoint (its folder, prefix or .index file)',
    )
    .argument('<source>', '.pt file, or TensorFlow checkpoint folder / prefix / .index file')
    .argument('<out-dir>', 'model directory to write (model.json, weights, preprocessing.json, conversion.json)')
    .option('--image-size <px>', 'input side of the converted model', '160')
    .option('--margin <px>', 'crop margin recorded in preprocessing.json (default 32)')
    .option('--keep-logits', 'also write the classifier head to <out-dir>/logits/ (TensorFlow checkpoint)')
    .option('--allow-unknown', 'ignore state-dict entries that are not InceptionResnetV1 parameters')
    .option('--json', 'print the conversion record as JSON')
    .action(async (source: string, outDir: string, flags: ConvertFlags) => {
      const imageSize = parseInteger('--image-size', flags.imageSize, 75);
      const margin = flags.margin !== undefined ? parseMargin(flags.margin) : undefined;
      const { initBackend } = await import('../../runtime/backend.js');
      await initBackend();
      const { convertPretrainedModel } = await import('../../recognition/convert.js');
      const record = await convertPretrainedModel(source, outDir, {
        imageSize,
        margin,
        keepLogits: flags.keepLogits,
        allowUnknown: flags.allowUnknown,
      });
      if (flags.json) {
        process.stdout.write(JSON.stringify(record) + '\n');
        return;
      }
      const kind = record.format === 'pytorch' ? 'PyTorch state dict' : 'TensorFlow checkpoint';
      const head = record.logitsClasses > 0 ? `, ${record.logitsClasses}-class head ${record.logitsKept ? 'kept in logits/' : 'dropped'}` : '';
      process.stdout.write(
        `${source} (${kind}, ${record.variables} variables${head}) → ${outDir}\n` +
          `  ${record.embeddingSize}-d embeddings of ${record.imageSize}×${record.imageSize} faces, fingerprint ${record.fingerprint}\n`,
      );
    });
}
