/**
 * {@link FaceStatistics} of a model's embeddings of real faces, for the gallery benchmark's
 * face-like data: the first `identities` people of ../shared/data/celeba-faces (in name
 * order) with at least `perIdentity` crops, `perIdentity` crops each, embedded through the
 * full pipeline. Kept in `out/face-statistics-<model>-<fingerprint>-<identities>x<perIdentity>.json`
 * and reused while the model is the same (about a minute of CPU to make).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { faceStatistics, type FaceStatistics } from './gallery-data.js';

export async function loadFaceStatistics(model: string, identities = 400, perIdentity = 5): Promise<FaceStatistics> {
  await import('../src/runtime/install-node.js');
  const { initBackend } = await import('../src/runtime/backend.js');
  const { FaceRecognizer } = await import('../src/recognition/recognizer.js');
  const { sharedPath } = await import('../src/util/shared-data.js');
  const { isImageFile } = await import('../src/datasets/images.js');
  const { NoFaceError } = await import('../src/errors.js');
  await initBackend();
  const rec = await FaceRecognizer.load(model);
  try {
    const { fingerprint, dimension } = rec.embedder;
    const file = resolve('out', `face-statistics-${model.replace(/[^\w-]/g, '_')}-${fingerprint.slice(0, 12)}-${identities}x${perIdentity}.json`);
    if (existsSync(file)) {
      const kept = JSON.parse(await readFile(file, 'utf8')) as FaceStatistics;
      if (kept.fingerprint === fingerprint && kept.dim === dimension && kept.between.length === dimension ** 2 && kept.pairDistance) return kept;
    }
    const root = sharedPath('data', 'celeba-faces');
    const groups: Float32Array[][] = [];
    for (const id of (await readdir(root)).sort()) {
      if (groups.length === identities) break;
      const files = (await readdir(join(root, id))).filter(isImageFile).sort();
      const group: Float32Array[] = [];
      for (const f of files) {
        if (group.length === perIdentity) break;
        try {
          group.push((await rec.embedder.embed([join(root, id, f)]))[0]!);
        } catch (e) {
          if (!(e instanceof NoFaceError)) throw e;
        }
      }
      if (group.length === perIdentity) groups.push(group);
    }
    const stats = faceStatistics(model, fingerprint, groups);
    await mkdir(resolve('out'), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(stats));
    await rename(`${file}.tmp`, file);
    return stats;
  } finally {
    rec.dispose();
  }
}
