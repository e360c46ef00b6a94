/**
 * Turn a training run's model folder into a shippable one: weights stored as float16 (half
 * the file; loading restores float32), its preprocessing.json with the given changes, and
 * its calibration.json if it has one. The output folder is written whole, then renamed.
 *
 *   node --import tsx scripts/export-model.ts RUN/model models/NAME [--float16] [--flip]
 */
import { parseArgs } from 'node:util';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import '../src/runtime/install-node.js';
import { initBackend } from '../src/runtime/backend.js';
import { loadModel, saveModel } from '../src/facenet/model-io.js';
import { readModelPreprocessing, writeModelPreprocessing } from '../src/recognition/load.js';
import { DEFAULT_PREPROCESSING } from '../src/face/embedding.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { float16: { type: 'boolean', default: false }, flip: { type: 'boolean', default: false } },
});
if (positionals.length !== 2) throw new Error('usage: export-model.ts SOURCE-MODEL-DIR OUT-DIR [--float16] [--flip]');
const [source, out] = positionals.map((p) => resolve(p));
await initBackend();
const model = await loadModel(source);
const staging = `${out}.partial-${process.pid}`;
await rm(staging, { recursive: true, force: true });
await mkdir(staging, { recursive: true });
await saveModel(model, staging, values.float16 ? { weightStorage: () => 'float16' } : {});
model.dispose();
const preprocessing = { ...DEFAULT_PREPROCESSING, ...(await readModelPreprocessing(source)) };
await writeModelPreprocessing(staging, values.flip ? { ...preprocessing, flip: true } : preprocessing);
const calibration = join(source, 'calibration.json');
if (await stat(calibration).then(() => true, () => false)) await copyFile(calibration, join(staging, 'calibration.json'));
await rm(out, { recursive: true, force: true });
await rename(staging, out);
console.log(`wrote ${out}`);
