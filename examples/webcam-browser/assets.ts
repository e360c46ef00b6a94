/**
 * The page's static model files, gathered into a public folder (never into the sources):
 * face-api.js's MTCNN weights under `models/mtcnn/`, the recognition model under
 * `models/recognition/`.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveWeightsDir } from 'tfjs-facenet/node';

export interface AssetSources {
  /** Recognition model directory (model.json, weights, preprocessing.json). */
  modelDir: string;
  /** Folder holding the weight sets (default: the library's weights lookup). */
  weightsDir?: string;
}

/** Copy the files of a folder (not its permissions: the shared weights are read-only). */
async function copyFiles(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const e of await readdir(from, { withFileTypes: true })) {
    if (e.isFile()) await writeFile(join(to, e.name), await readFile(join(from, e.name)));
  }
}

/** Fill `publicDir` with the models (replacing what was there). */
export async function prepareAssets(publicDir: string, sources: AssetSources): Promise<void> {
  const models = join(publicDir, 'models');
  await rm(models, { recursive: true, force: true });
  await copyFiles(await resolveWeightsDir('faceapi', { weightsDir: sources.weightsDir }), join(models, 'mtcnn'));
  await copyFiles(sources.modelDir, join(models, 'recognition'));
}
