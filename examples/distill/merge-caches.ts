/**
 * Merge teacher caches of the same teacher (e.g. the shards of a parallel fill) into one.
 *   node --import tsx examples/distill/merge-caches.ts OUT IN…
 */
import '../../src/runtime/install-node.js';
import { readFile } from 'node:fs/promises';
import { TeacherCache, parseTeacherRecords, readTeacherCache } from '../../src/train/teacher-cache.js';

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) throw new Error('usage: merge-caches.ts OUT IN…');
const { header } = await readTeacherCache(inputs[0]);
const cache = await TeacherCache.open(out, header);
for (const path of inputs) {
  const found = await readTeacherCache(path);
  if (found.header.teacher !== header.teacher || found.header.dimension !== header.dimension) throw new Error(`${path}: another teacher`);
  const bytes = await readFile(path);
  const { records } = parseTeacherRecords(bytes.subarray(bytes.indexOf(10) + 1), header.dimension);
  await cache.append(records.filter((r) => !cache.has(r.key, r.mirrored)));
}
console.log(`${out}: ${cache.size} embeddings`);
await cache.close();
