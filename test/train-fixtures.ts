/**
 * Fixtures for the training tests: a small folder-per-identity tree of real face crops
 * made from LFW (centre crop of the roughly centred 250×250 deep-funneled images, resized),
 * and a tiny convolutional model so that the loop runs in seconds.
 */
import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadSharp } from '../src/image/decode-node.js';
import { sharedPath } from './helpers.js';

/** LFW identities with 12+ images. */
export const LFW_IDS = ['Tony_Blair', 'Silvio_Berlusconi', 'Jean_Chretien', 'Hans_Blix', 'Wen_Jiabao', 'David_Beckham'];

/**
 * Write `root/<identity>/<n>.png`: the central `crop`×`crop` of each LFW image resized to
 * `size`×`size`. Fails (throws) when the shared data are missing.
 */
export async function makeFaceTree(
  opts: { identities?: number; perClass?: number; size?: number; crop?: number } = {},
): Promise<string> {
  const { identities = 4, perClass = 12, size = 72, crop = 140 } = opts;
  const sharp = await loadSharp();
  const root = await mkdtemp(join(tmpdir(), 'facenet-train-'));
  const data = join(root, 'faces');
  for (const id of LFW_IDS.slice(0, identities)) {
    const src = sharedPath('data', 'lfw', id);
    const files = (await readdir(src)).filter((f) => f.endsWith('.jpg')).sort().slice(0, perClass);
    await mkdir(join(data, id), { recursive: true });
    for (const f of files) {
      const off = Math.floor((250 - crop) / 2);
      const png = await sharp(join(src, f))
        .extract({ left: off, top: off, width: crop, height: crop })
        .resize(size, size)
        .png()
        .toBuffer();
      await writeFile(join(data, id, f.replace(/\.jpg$/, '.png')), png);
    }
  }
  return data;
}

/** A small conv net: 64×64 (or `size`) RGB → `features` pre-logits, with batch norm and dropout. */
export function tinyModel(opts: { size?: number; features?: number; keepProbability?: number } = {}): tfl.LayersModel {
  const { size = 64, features = 16, keepProbability = 0.8 } = opts;
  const input = tfl.input({ shape: [size, size, 3] });
  let x = input;
  for (const filters of [16, 32, 32]) {
    x = tfl.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.batchNormalization({ momentum: 0.9 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dropout({ rate: 1 - keepProbability }).apply(x) as tfl.SymbolicTensor;
  const out = tfl.layers.dense({ units: features }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Write a text file (e.g. a schedule) into `dir` (default: a new temp dir) and return its path. */
export async function tempFile(name: string, text: string, dir?: string): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'facenet-file-'));
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}
