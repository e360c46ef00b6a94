/** Flags and flag parsing shared by the sub-commands (one place, so that they all read the same). */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { loadMtcnn } from '../mtcnn/detector.js';
import { defaultModelName, RECOGNITION_MODELS } from '../recognition/model-registry.js';

/** Options of `loadMtcnn` as the CLI builds them. */
export type DetectorCliOptions = NonNullable<Parameters<typeof loadMtcnn>[0]>;

/** The detector flags shared by `detect` and `align`. */
export function addDetectorOptions(cmd: Command): Command {
  return cmd
    .option('--weights <set>', 'MTCNN weights: caffe, faceapi, seed, or a folder holding one of those formats')
    .option('--min-size <n>', 'smallest face to find, in pixels (default 20)')
    .option('--thresholds <a,b,c>', 'P-Net, R-Net, O-Net score thresholds (default 0.6,0.7,0.7)')
    .option('--factor <f>', 'image pyramid scale step (default 0.709)')
    .option('--miss-padding <f>', 'search an image without a face again with a border of this fraction of its longer side copied from its edges (tight face crops; default 0: off)');
}

/**
 * Help of the `--model` flag, naming every shipped model (from the registry, which loads no
 * TensorFlow.js). `fallback`: what is used without the flag, when the command has no plain default.
 */
export function modelOptionHelp(fallback?: string): string {
  const names = Object.keys(RECOGNITION_MODELS).filter((k) => k !== 'default' && k !== defaultModelName());
  const shipped = [`default = ${defaultModelName()}`, ...names].join(', ');
  return `recognition model: a shipped one by name (${shipped}) or a model folder${fallback ? ` (default: ${fallback})` : ''}`;
}

function parseNumber(option: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new ConfigError(option, `not a number: '${value}'`);
  return n;
}

/** Parse an integer flag value, checking a lower bound. */
export function parseInteger(option: string, value: string, min: number): number {
  const n = parseNumber(option, value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(option, `must be an integer ≥ ${min}, got '${value}'`);
  return n;
}

/** The flags {@link addDetectorOptions} adds, as commander hands them over. */
export interface DetectorFlags {
  weights?: string;
  minSize?: string;
  thresholds?: string;
  factor?: string;
  missPadding?: string;
}

/** Turn the detector flags into `loadMtcnn` options. */
export function detectorOptionsFrom(flags: DetectorFlags): DetectorCliOptions {
  const o: DetectorCliOptions = {};
  if (flags.weights !== undefined) o.weights = flags.weights;
  if (flags.minSize !== undefined) o.minFaceSize = parseNumber('--min-size', flags.minSize);
  if (flags.thresholds !== undefined) {
    const parts = flags.thresholds.split(',').map((s) => parseNumber('--thresholds', s));
    if (parts.length !== 3) throw new ConfigError('--thresholds', `needs 3 comma-separated numbers, got '${flags.thresholds}'`);
    o.thresholds = parts as [number, number, number];
  }
  if (flags.factor !== undefined) o.scaleFactor = parseNumber('--factor', flags.factor);
  if (flags.missPadding !== undefined) o.missPadding = parseNumber('--miss-padding', flags.missPadding);
  return o;
}

/** A margin flag: pixels for box crops, a fraction for landmark alignment (checked by the embedder). */
export function parseMargin(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError('--margin', `must be a number ≥ 0, got '${value}'`);
  return n;
}
