/**
 * Arrange a flat folder of unlabelled face photos (no identities: e.g. a face-attribute data
 * set) as a tree `align` and the distillation stages read: folders of at most `--group`
 * images each, named `<prefix>-0000`, … (label-free distillation never reads the folder
 * names). Byte-identical copies are linked once. Files are linked, not copied; running it
 * again links what is missing.
 *
 *   node --import tsx examples/distill/unlabeled.ts SRC OUT [--prefix name] [--group 200]
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, symlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isImageFile } from '../../src/datasets/images.js';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { prefix: { type: 'string' }, group: { type: 'string', default: '200' } },
});
const [src, out] = positionals;
if (!src || !out) throw new Error('usage: unlabeled.ts SRC OUT [--prefix name] [--group 200]');
const group = Number(values.group);
if (!(Number.isInteger(group) && group >= 1)) throw new Error(`--group: a whole number ≥ 1, got ${values.group}`);
const prefix = values.prefix ?? basename(resolve(src));

const files = (await readdir(src)).filter(isImageFile).sort();
const seen = new Set<string>();
let kept = 0;
for (const f of files) {
  const digest = createHash('sha256').update(await readFile(join(src, f))).digest('hex');
  if (seen.has(digest)) continue;
  seen.add(digest);
  const dir = join(out, `${prefix}-${String(Math.floor(kept / group)).padStart(4, '0')}`);
  kept++;
  await mkdir(dir, { recursive: true });
  const target = join(dir, f);
  // lstat, not exists: a link whose photo has gone is still there and would make symlink fail.
  if (!(await lstat(target).catch(() => null))) await symlink(resolve(src, f), target);
}
console.log(`${src}: ${files.length} images, ${kept} distinct, in ${Math.ceil(kept / group)} folders of ≤ ${group} under ${out}`);
