/**
 * `tfjs-facenet eval-lfw [--model NAME|DIR]`: the LFW verification benchmark (accuracy, VAL@FAR,
 * AUC, EER) with an ROC curve as SVG / PNG.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { addDetectorOptions, detectorOptionsFrom, type DetectorFlags, parseInteger, parseMargin, modelOptionHelp } from '../options.js';

interface EvalFlags extends DetectorFlags {
  model: string;
  lfw?: string;
  pairs?: string;
  pairsPerFold?: string;
  folds?: string;
  distance: string;
  subtractMean?: boolean;
  flip?: boolean;
  aligned?: boolean;
  margin?: string;
  json?: boolean;
  out?: string;
  roc?: string;
  rocPng?: string;
  rocScale: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval-lfw')
    .description('evaluate a FaceNet model on the LFW verification benchmark (10-fold accuracy, VAL@FAR=1e-3, AUC, EER)')
    .option('--model <name|dir>', modelOptionHelp(), 'default')
    .option('--lfw <dir>', 'LFW image folder (default: <shared>/data/lfw)')
    .option('--pairs <file>', 'pairs.txt (default: <shared>/data/lfw-pairs.txt)')
    .option('--pairs-per-fold <n>', 'use only the first n matched and n mismatched pairs of each fold (quick runs)')
    .option('--folds <n>', 'cross-validation folds (default 10)')
    .option('--distance <metric>', "'squared-euclidean' (0) or 'angular' (1)", 'squared-euclidean')
    .option('--subtract-mean', "subtract the training folds' mean embedding")
    .option('--aligned', "the LFW folder holds face crops aligned the model's way (tfjs-facenet align): no detection")
    .option('--flip', 'concatenate each embedding with its mirror image\'s (the reference\'s --use_flipped_images; default: as the model\'s preprocessing.json says)')
    .option('--margin <px>', "override the model's crop margin")
    .option('--json', 'print the report as JSON instead of text')
    .option('--out <file>', 'also write the JSON report to a file')
    .option('--roc <file.svg>', 'write the ROC curve as SVG')
    .option('--roc-png <file.png>', 'write the ROC curve as PNG')
    .option('--roc-scale <scale>', "FPR axis of the plot: 'linear' or 'log'", 'linear');
  addDetectorOptions(cmd).action(async (flags: EvalFlags) => {
    const metric =
      flags.distance === '0' || flags.distance === 'squared-euclidean'
        ? 'squared-euclidean'
        : flags.distance === '1' || flags.distance === 'angular'
          ? 'angular'
          : null;
    if (!metric) throw new ConfigError('--distance', `must be squared-euclidean (0) or angular (1), got '${flags.distance}'`);
    if (flags.rocScale !== 'linear' && flags.rocScale !== 'log') {
      throw new ConfigError('--roc-scale', `must be linear or log, got '${flags.rocScale}'`);
    }
    const { initBackend } = await import('../../runtime/backend.js');
    await initBackend();
    const { loadFacenetEmbedder } = await import('../../recognition/load.js');
    const { evaluateLfw } = await import('../../eval/lfw-evaluate.js');
    const { formatVerificationReport, reportCurve, rocCurveSvg, svgToPng } = await import('../../eval/roc-plot.js');
    const { writeFileAtomic } = await import('../../util/atomic.js');
    const { startProgress } = await import('../../util/progress.js');

    const { modelFolder } = await import('../../recognition/models.js');
    const embedder = await loadFacenetEmbedder({
      modelDir: await modelFolder(flags.model),
      detectorOptions: detectorOptionsFrom(flags),
      preprocessing: flags.margin !== undefined ? { margin: parseMargin(flags.margin) } : undefined,
    });
    // The model's own preprocessing decides, unless --flip asks for the reference's mirrored embeddings.
    const flip = !!flags.flip || embedder.preprocessing.flip;
    let progress: ReturnType<typeof startProgress> | undefined;
    try {
      const result = await evaluateLfw(embedder, {
        lfwDir: flags.lfw,
        pairsFile: flags.pairs,
        pairsPerFold: flags.pairsPerFold !== undefined ? parseInteger('--pairs-per-fold', flags.pairsPerFold, 1) : undefined,
        nrofFolds: flags.folds !== undefined ? parseInteger('--folds', flags.folds, 2) : undefined,
        metric,
        subtractMean: !!flags.subtractMean,
        flip: flags.flip ? true : undefined,
        aligned: !!flags.aligned,
        onProgress: (done, total) => {
          progress ??= startProgress('LFW', total);
          progress.tick(1);
          if (done === total) progress.stop();
        },
      });
      const json = {
        model: flags.model,
        fingerprint: embedder.fingerprint,
        preprocessing: { ...embedder.preprocessing, flip },
        images: result.images,
        noFace: result.noFace,
        missing: result.missing,
        skippedPairs: result.skippedPairs,
        seconds: result.seconds,
        ...result.report,
      };
      if (flags.out) await writeFileAtomic(flags.out, JSON.stringify(json, null, 2) + '\n');
      if (flags.roc || flags.rocPng) {
        const svg = rocCurveSvg([reportCurve(result.report, 'LFW')], {
          title: `LFW ROC — accuracy ${(100 * result.report.accuracy.mean).toFixed(2)} %`,
          fprScale: flags.rocScale as 'linear' | 'log',
        });
        if (flags.roc) await writeFileAtomic(flags.roc, svg);
        if (flags.rocPng) await writeFileAtomic(flags.rocPng, await svgToPng(svg));
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify(json) + '\n');
      } else {
        const lines = [
          `Model ${flags.model} (fingerprint ${embedder.fingerprint})`,
          `Images: ${result.images} in ${result.seconds.toFixed(1)} s; no face found in ${result.noFace.length}; missing files ${result.missing.length}; pairs left out ${result.skippedPairs}`,
          formatVerificationReport(result.report),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      }
    } finally {
      progress?.stop();
      embedder.dispose();
    }
  });
}
