/**
 * Stage "teacher" of the distillation pipeline: the teacher's embeddings of every aligned
 * training face and of its mirror image, in a resumable on-disk cache.
 *
 *   node --import tsx examples/distill/teacher.ts --data DIR --cache FILE [--model models/dlib]
 */
import '../../src/runtime/install-node.js';
import { parseArgs } from 'node:util';
import { relative, resolve } from 'node:path';
import { initBackend } from '../../src/runtime/backend.js';
import { loadModel } from '../../src/facenet/model-io.js';
import { modelFingerprint } from '../../src/recognition/embedder.js';
import { readModelPreprocessing } from '../../src/recognition/load.js';
import { readImageFolder } from '../../src/train/dataset.js';
import { TeacherCache, fillTeacherCache } from '../../src/train/teacher-cache.js';
import { teacherEmbedding } from './data.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    cache: { type: 'string' },
    model: { type: 'string', default: 'models/dlib' },
    'batch-size': { type: 'string', default: '16' },
    shard: { type: 'string', default: '0/1' },
  },
});
if (!args.data || !args.cache) throw new Error('usage: teacher.ts --data DIR --cache FILE [--model DIR] [--shard i/n]');

await initBackend();
const model = await loadModel(resolve(args.model));
const prep = { imageSize: 150, standardization: 'none' as const, ...(await readModelPreprocessing(resolve(args.model))) };
const fingerprint = await modelFingerprint(model);
const dimension = model.outputs[0].shape[1] as number;
const [shard, shards] = args.shard.split('/').map(Number);
const cachePath = shards > 1 ? `${args.cache}.${shard}` : args.cache;
const cache = await TeacherCache.open(cachePath, { teacher: fingerprint, dimension });

const folder = await readImageFolder(resolve(args.data));
const images = folder.classes
  .flatMap((c) => c.paths)
  .map((path) => ({ key: relative(folder.root, path), path }))
  .filter((_, i) => i % shards === shard);
console.error(`teacher ${fingerprint}: ${images.length} images, ${cache.size} embeddings cached`);

const t0 = performance.now();
let last = 0;
const computed = await fillTeacherCache(cache, {
  images,
  imageSize: prep.imageSize,
  batchSize: Number(args['batch-size']),
  embed: teacherEmbedding(model, prep.standardization),
  onError: (im, e) => console.error(`skipped ${im.path}: ${e.message}`),
  onProgress: (done, total) => {
    const now = performance.now();
    if (now - last > 30_000 || done === total) {
      last = now;
      console.error(`${done}/${total} images, ${((now - t0) / 1000).toFixed(0)} s`);
    }
  },
});
await cache.close();
console.error(`computed ${computed} embeddings in ${((performance.now() - t0) / 1000).toFixed(0)} s; cache holds ${cache.size}`);
