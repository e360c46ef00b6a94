/**
 * Assemble the WebAssembly kernels (src/image/kernels/*.wat) and write each as a base64
 * string module next to it (`name-wasm.ts`), which the library imports: no binary file to
 * locate at run time, in Node or a bundle. `--check` only verifies that the committed modules
 * are what the sources assemble to (the test suite runs the same check).
 *
 *   node --import tsx scripts/build-kernels.ts [--check]
 */
import { readdir, readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { assembleKernel, kernelModuleSource } from './kernels.js';

const dir = join(import.meta.dirname, '..', 'src', 'image', 'kernels');
const check = process.argv.includes('--check');
let stale = 0;
for (const file of (await readdir(dir)).filter((f) => f.endsWith('.wat')).sort()) {
  const name = file.slice(0, -4);
  const bytes = await assembleKernel(await readFile(join(dir, file), 'utf8'), file);
  const target = join(dir, `${name}-wasm.ts`);
  const text = kernelModuleSource(name, bytes);
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current === text) {
    console.log(`${file}: up to date (${bytes.length} bytes)`);
    continue;
  }
  if (check) {
    console.error(`${file}: ${name}-wasm.ts is stale; run scripts/build-kernels.ts`);
    stale++;
    continue;
  }
  await writeFile(`${target}.tmp`, text);
  await rename(`${target}.tmp`, target);
  console.log(`${file}: wrote ${name}-wasm.ts (${bytes.length} bytes)`);
}
if (stale) process.exitCode = 1;
