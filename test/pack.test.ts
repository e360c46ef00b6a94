/**
 * Packaging, the way a newcomer meets the library: `npm pack` (its `prepack` builds), the
 * tarball installed (from the npm cache where it can; `npm ci` caches tarballs but not the
 * registry's package documents a fresh install resolves) into empty projects in
 * a temp folder — outside the repository, with no `../shared` and none of the tests' data
 * settings — and used there: ESM import, CJS require, the CLI from node_modules/.bin, the
 * wasm backend and sharp, TypeScript declarations, and every README code block and the
 * README's "Try it" command lines, run as written.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { sharedPath } from './helpers.js';
import { readmeCodeBlocks, readmeSection } from './readme-blocks.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'facenet-pack-'));
const app = join(work, 'app');
const readmeProject = join(work, 'readme');
const pkgVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

/** Run a program (async: never blocks the test process), resolving with its output. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function mustRun(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(cmd, args, cwd, env);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/**
 * A newcomer's environment: no forced backend (the automatic choice is tested), none of
 * the project's data settings, and an empty download cache — so nothing outside the
 * package can supply weights or models.
 */
const userEnv: NodeJS.ProcessEnv = { ...process.env, TFJS_FACENET_CACHE: join(work, 'empty-cache') };
for (const k of ['TFJS_FACENET_BACKEND', 'TFJS_FACENET_SHARED', 'TFJS_FACENET_WEIGHTS', 'NODE_OPTIONS']) delete userEnv[k];

/** `--prefer-offline`, not `--offline`: on a fresh machine the cache lacks the package documents. */
const installFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

let packedFiles: string[];
let tarball: string;

beforeAll(async () => {
  // prepack's build log comes first on stdout; npm's JSON report is the rest, from a line "[".
  const packOut = await mustRun('npm', ['pack', '--json', '--pack-destination', work], root);
  const packed = JSON.parse(packOut.slice(packOut.search(/^\[$/m))) as Array<{
    filename: string;
    files: { path: string }[];
  }>;
  packedFiles = packed[0].files.map((f) => f.path).sort();
  tarball = join(work, packed[0].filename);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-probe', private: true }));
  await mustRun('npm', ['install', tarball, ...installFlags], app);
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What both module formats report: export names, backend, and a decoded image. */
interface ProbeResult {
  exports: string[];
  backend: { name: string; skipped: { name: string }[] };
  shape: number[];
  sum: number;
}

const image = () => sharedPath('data/samples/groups/bbt1.jpg');

const esmProbe = `
const m = await import('tfjs-facenet/node');
const backend = await m.initBackend();
const t = await m.loadImage(process.argv[1]);
let sum = 0; for (const v of t.dataSync()) sum += v;
console.log(JSON.stringify({ exports: Object.keys(m).sort(), backend, shape: t.shape, sum }));
t.dispose();
`;
const cjsProbe = `
const m = require('tfjs-facenet/node');
(async () => {
  const backend = await m.initBackend();
  const t = await m.loadImage(process.argv[1]);
  let sum = 0; for (const v of t.dataSync()) sum += v;
  console.log(JSON.stringify({ exports: Object.keys(m).sort(), backend, shape: t.shape, sum }));
  t.dispose();
})();
`;

describe('the packed package', () => {
  it('ships the built files, declarations and every shipped model, and nothing from src/ or test/', () => {
    for (const f of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli.js', 'package.json']) {
      expect(packedFiles).toContain(f);
    }
    for (const model of ['dlib', 'facenet-distilled', 'facenet-celeba']) {
      expect(packedFiles).toContain(`models/${model}/model.json`);
      expect(packedFiles).toContain(`models/${model}/preprocessing.json`);
      expect(packedFiles.some((f) => new RegExp(`^models/${model}/weights-[0-9a-f]+\\.bin$`).test(f))).toBe(true);
    }
    for (const f of ['mtcnn_model-weights_manifest.json', 'mtcnn_model-shard1', 'LICENSE']) expect(packedFiles).toContain(`models/mtcnn/${f}`);
    expect(
      packedFiles.filter((f) => !f.startsWith('dist/') && !f.startsWith('models/') && !['package.json', 'README.md', 'LICENSE'].includes(f)),
    ).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/tfjs-facenet/package.json'), 'utf8'));
    const subpaths = ['.', './node', './io', './mtcnn'];
    expect(Object.keys(pkg.exports).filter((k) => k !== './package.json').sort()).toEqual([...subpaths].sort());
    const exported = subpaths.flatMap((k) => [pkg.exports[k].import.types, pkg.exports[k].import.default, pkg.exports[k].require.types, pkg.exports[k].require.default]);
    for (const target of [pkg.main, pkg.module, pkg.types, pkg.bin['tfjs-facenet'], ...exported]) {
      expect(existsSync(join(app, 'node_modules/tfjs-facenet', target)), target).toBe(true);
    }
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('works through import (ESM) and require (CJS) alike: same exports, wasm backend, sharp decoding', async () => {
    const esm = JSON.parse(
      await mustRun(process.execPath, ['--input-type=module', '-e', esmProbe, image()], app, userEnv),
    ) as ProbeResult;
    const cjs = JSON.parse(
      await mustRun(process.execPath, ['--input-type=commonjs', '-e', cjsProbe, image()], app, userEnv),
    ) as ProbeResult;

    expect(esm.exports).toEqual(cjs.exports);
    for (const name of ['initBackend', 'loadImage', 'loadMtcnn', 'loadEmbedder', 'modelFolder', 'FacenetError']) {
      expect(esm.exports).toContain(name);
    }
    // tfjs-node is an optional peer that is not installed here, so wasm is chosen; that it
    // initialized at all means the .wasm binaries were found inside node_modules.
    for (const r of [esm, cjs]) {
      expect(r.backend.name).toBe('wasm');
      expect(r.backend.skipped.map((s) => s.name)).toEqual(['tensorflow']);
    }
    // Independent decode in this process: sharp's raw RGB bytes of the same JPEG.
    const { data, info } = await sharp(image()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let sum = 0;
    for (const v of data) sum += v;
    for (const r of [esm, cjs]) {
      expect(r.shape).toEqual([info.height, info.width, 3]);
      expect(r.sum).toBe(sum);
    }
  });

  it('installs a tfjs-facenet command that reports failures in one line with the documented exit codes', async () => {
    const bin = join(app, 'node_modules/.bin/tfjs-facenet');
    const version = await run(bin, ['--version'], app, userEnv);
    expect(version).toEqual({ code: 0, stdout: `${pkgVersion}\n`, stderr: '' });
    const help = await run(bin, ['--help'], app, userEnv);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tfjs-facenet');
    expect(help.stdout).toMatch(/^\s+weights\s/m);
    expect(help.stdout).toContain('Exit codes:');
    const enrollHelp = await run(bin, ['enroll', '--help'], app, userEnv);
    expect(enrollHelp.code).toBe(0);
    expect(enrollHelp.stdout).toContain('--model <name|dir>');

    // Usage error: commander's one line, exit 2.
    const usage = await run(bin, ['detect', '--no-such-flag'], app, userEnv);
    expect(usage.code).toBe(2);
    expect(usage.stderr.trim().split('\n')).toEqual([`error: unknown option '--no-such-flag'`]);
    // Nothing could be done: a mistyped LFW folder is named, in one line, exit 3.
    const typo = join(app, 'lfw-typo');
    const lfw = await run(bin, ['eval-lfw', '--lfw', typo, '--pairs', sharedPath('data/lfw-pairs.txt'), '--pairs-per-fold', '1'], app, userEnv);
    expect(lfw.stderr).toBe(`tfjs-facenet: LFW image folder not found: ${typo}\n`);
    expect(lfw.code).toBe(3);
    // --verbose adds the stack below the same first line.
    const verbose = await run(bin, ['eval-lfw', '--lfw', typo, '--pairs', sharedPath('data/lfw-pairs.txt'), '--verbose'], app, userEnv);
    expect(verbose.code).toBe(3);
    expect(verbose.stderr.split('\n')[0]).toBe(`tfjs-facenet: LFW image folder not found: ${typo}`);
    expect(verbose.stderr).toMatch(/\n\s+at /);

    // The shipped detector weights verify against the catalog's pinned SHA-256 (2 files);
    // the other sets are not installed in a newcomer's cache.
    const verify = await run(bin, ['weights', 'verify'], app, userEnv);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`faceapi: ${join(app, 'node_modules/tfjs-facenet/models/mtcnn')}: 2/2 ok`);
    expect(verify.stdout).toContain('caffe: not installed');
    // A folder holding no weights: nothing verified, exit 3 (it was 0).
    const none = await run(bin, ['weights', 'verify', 'caffe', '--weights', join(work, 'empty-cache')], app, userEnv);
    expect(none.code).toBe(3);
  });

  it('runs the README: the "Try it" command lines and every code block, as written, in an empty project', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    mkdirSync(readmeProject);
    // The pictures the README names: a group photo, a folder per person, two portraits.
    cpSync(sharedPath('data/samples/groups/bbt1.jpg'), join(readmeProject, 'group.jpg'));
    cpSync(sharedPath('data/samples/people'), join(readmeProject, 'people'), { recursive: true });
    cpSync(sharedPath('data/samples/Anthony_Hopkins_0001.jpg'), join(readmeProject, 'a.jpg'));
    cpSync(sharedPath('data/samples/Anthony_Hopkins_0002.jpg'), join(readmeProject, 'b.jpg'));

    const tryIt = readmeCodeBlocks(readmeSection(readme, 'Try it')).filter((b) => b.lang === 'sh');
    expect(tryIt.length).toBe(1);
    const lines = tryIt[0].code.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toContain('npm install tfjs-facenet');
    const out = new Map<string, string>();
    for (const line of lines) {
      // The one substitution: this tarball instead of the registry's tfjs-facenet.
      const cmd = line === 'npm install tfjs-facenet' ? `npm install ${tarball} ${installFlags.join(' ')}` : line;
      const r = await run('sh', ['-c', cmd], readmeProject, userEnv);
      // `enroll people/` exits 1 ("some inputs failed", each listed): MTCNN finds no face in two
      // of the sample portraits. Any other failure, or any other line failing, fails the test.
      const partial = line.includes(' enroll ') && r.code === 1 && r.stderr.trim().split('\n').every((l) => /no face found/.test(l));
      expect(partial || r.code === 0, `${line}\n${r.stderr}`).toBe(true);
      out.set(line, r.stdout);
    }
    expect(out.get('npx tfjs-facenet --version')).toBe(`${pkgVersion}\n`);
    const detected = JSON.parse(out.get('npx tfjs-facenet detect group.jpg --json')!) as { faces: unknown[] };
    const faces = detected.faces.length;
    expect(faces).toBeGreaterThan(0); // the counts below are compared with this one
    // 35 portraits, minus the two in which MTCNN finds no face (listed on stderr, exit code 1).
    const enrolled = out.get('npx tfjs-facenet enroll --gallery people.gallery people/')!;
    expect(enrolled).toContain('people.gallery: 7 identities, 33 embeddings');
    expect(enrolled).toContain('enrolled 33 image(s), 2 failed');
    const identified = out.get('npx tfjs-facenet identify --gallery people.gallery group.jpg')!;
    expect(identified.split('\n')[0]).toBe(`group.jpg: ${faces} face(s)`);

    // Every JavaScript block names its file in its first line; each runs as saved.
    const blocks = readmeCodeBlocks(readme).filter((b) => b.lang === 'js' || b.lang === 'ts');
    const files = blocks.map((b) => /^\/\/ (\S+\.(?:mjs|cjs))$/.exec(b.code.split('\n')[0])?.[1]);
    expect(files).toEqual(['detect.mjs', 'recognize.mjs', 'gallery.mjs', 'detect.cjs', 'store.mjs']);
    const results = new Map<string, string>();
    for (const [i, block] of blocks.entries()) {
      writeFileSync(join(readmeProject, files[i]!), block.code);
      const r = await run(process.execPath, [files[i]!], readmeProject, userEnv);
      expect(r.code, `${files[i]}\n${r.stderr}`).toBe(0);
      results.set(files[i]!, r.stdout);
    }
    // detect.mjs logs one line per face (box, score, landmarks), the CJS variant a count:
    // the same detector as the CLI, so the same number of faces.
    expect(results.get('detect.mjs')!.trim().split('\n')).toHaveLength(faces);
    expect(results.get('detect.cjs')).toBe(`${faces} faces\n`);
    const recognized = results.get('recognize.mjs')!.trim().split('\n');
    expect(recognized).toHaveLength(faces + 1);
    expect(recognized[faces]).toMatch(/^(true|false) \d+\.\d+/);
    expect(results.get('gallery.mjs')!.trim().split('\n')).toHaveLength(faces);
    expect(existsSync(join(readmeProject, 'people.gallery'))).toBe(true);
    // store.mjs: amy's second portrait is named after her first (default model's threshold).
    expect(results.get('store.mjs')!).toMatch(/^amy \d\.\d{3}\n$/);
  });

  it('gives TypeScript users types under both module systems, without skipLibCheck', async () => {
    writeFileSync(
      join(app, 'esm.mts'),
      `import { initBackend, loadMtcnnFromUrl, type FaceDetection } from 'tfjs-facenet';
import type { MtcnnWeightsSource } from 'tfjs-facenet/mtcnn';
const d: FaceDetection | undefined = undefined;
const info = await initBackend({ backend: 'wasm' });
const w: MtcnnWeightsSource = 'caffe';
export const name: string = info.name + String(d) + typeof loadMtcnnFromUrl + w;
`,
    );
    writeFileSync(
      join(app, 'cjs.cts'),
      `import facenet = require('tfjs-facenet/node');
const set: facenet.WeightSetName = 'seed';
export const p: Promise<facenet.BackendInfo> = facenet.initBackend();
export const m: Promise<facenet.Mtcnn> = facenet.loadMtcnn();
export const s: string = set;
`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const project = (files: string[], extra: Record<string, unknown> = {}) => {
      const compilerOptions = { noEmit: true, strict: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', ...extra };
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
      return run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    };
    const errorFiles = (out: string) => [...new Set(out.split('\n').filter((l) => /^\S.*\(\d+,\d+\): error/.test(l)).map((l) => l.slice(0, l.indexOf('('))))];
    // The browser-safe entry, with no @types/node in the project: our declarations need
    // nothing from Node (no Buffer). Under strictNullChecks, tfjs-layers 4.22's own
    // declarations report errors (upstream, in node_modules/@tensorflow/tfjs-layers only).
    const browser = await project(['esm.mts']);
    expect(existsSync(join(app, 'node_modules/@types/node'))).toBe(false);
    expect(errorFiles(browser.stdout).filter((f) => !f.startsWith('node_modules/@tensorflow/tfjs-layers/'))).toEqual([]);
    const lenient = await project(['esm.mts'], { strictNullChecks: false });
    expect(lenient.stdout + lenient.stderr).toBe('');
    expect(lenient.code).toBe(0);

    // The Node entry needs Node's types, as any Node library does (a user runs `npm i -D @types/node`).
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules/@types/node'), join(app, 'node_modules/@types/node'), 'dir');
    const both = await project(['esm.mts', 'cjs.cts'], { strictNullChecks: false });
    expect(both.stdout + both.stderr).toBe('');
    expect(both.code).toBe(0);
    // A misuse must be caught, so the checks above are not vacuous.
    writeFileSync(join(app, 'bad.mts'), `import { initBackend } from 'tfjs-facenet';\ninitBackend({ backend: 'gpu' });\n`);
    const bad = await project(['bad.mts'], { strictNullChecks: false });
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain('bad.mts');
  });
});
