/**
 * Packaging: build, `npm pack`, install the tarball into an empty folder and use it there
 * the way a user would — ESM import, CJS require, the CLI from node_modules/.bin, the
 * wasm backend (its .wasm files must be found inside the installed dependency) and sharp.
 * Dependencies come from the npm registry or the local npm cache.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { sharedPath } from './helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'facenet-pack-'));
const app = join(work, 'app');

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

/** The environment of the probes: no forced backend, so the automatic choice is tested. */
const probeEnv = { ...process.env };
delete probeEnv.TFJS_FACENET_BACKEND;
delete probeEnv.NODE_OPTIONS;

let packedFiles: string[];

beforeAll(async () => {
  await mustRun('npm', ['run', 'build'], root);
  const packed = JSON.parse(await mustRun('npm', ['pack', '--json', '--pack-destination', work], root)) as Array<{
    filename: string;
    files: { path: string }[];
  }>;
  packedFiles = packed[0].files.map((f) => f.path).sort();
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-probe', private: true }));
  await mustRun(
    'npm',
    ['install', join(work, packed[0].filename), '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    app,
  );
}, 240_000);

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
  it('ships the built files, declarations and the default model, and nothing from src/ or test/', () => {
    for (const f of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/cli.js', 'package.json']) {
      expect(packedFiles).toContain(f);
    }
    expect(packedFiles).toContain('models/default/model.json');
    expect(packedFiles).toContain('models/default/preprocessing.json');
    expect(packedFiles.some((f) => /^models\/default\/weights-[0-9a-f]+\.bin$/.test(f))).toBe(true);
    expect(
      packedFiles.filter((f) => !f.startsWith('dist/') && !f.startsWith('models/default/') && !['package.json', 'README.md', 'LICENSE'].includes(f)),
    ).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(app, 'node_modules/tfjs-facenet/package.json'), 'utf8'));
    const subpaths = ['.', './node', './io', './mtcnn'];
    expect(Object.keys(pkg.exports).filter((k) => k !== './package.json').sort()).toEqual([...subpaths].sort());
    const exported = subpaths.flatMap((k) => [pkg.exports[k].import.types, pkg.exports[k].import.default, pkg.exports[k].require.types, pkg.exports[k].require.default]);
    for (const target of [pkg.main, pkg.module, pkg.types, pkg.bin['tfjs-facenet'], ...exported]) {
      expect(existsSync(join(app, 'node_modules/tfjs-facenet', target)), target).toBe(true);
    }
  });

  it('works through import (ESM) and require (CJS) alike: same exports, wasm backend, sharp decoding', async () => {
    const esm = JSON.parse(
      await mustRun(process.execPath, ['--input-type=module', '-e', esmProbe, image()], app, probeEnv),
    ) as ProbeResult;
    const cjs = JSON.parse(
      await mustRun(process.execPath, ['--input-type=commonjs', '-e', cjsProbe, image()], app, probeEnv),
    ) as ProbeResult;

    expect(esm.exports).toEqual(cjs.exports);
    for (const name of ['initBackend', 'loadImage', 'downloadWeights', 'resolveWeightsDir', 'FacenetError']) {
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

  it('installs a working tfjs-facenet command in node_modules/.bin', async () => {
    const bin = join(app, 'node_modules/.bin/tfjs-facenet');
    const help = await run(bin, ['--help'], app, probeEnv);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tfjs-facenet');
    expect(help.stdout).toMatch(/^\s+weights\s/m);
    // A sub-command that loads lazily built chunks, run on the real weights.
    const verify = await run(bin, ['weights', 'verify', '--weights', sharedPath('weights')], app, probeEnv);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('caffe: ');
    expect(verify.stdout).toContain('3/3 ok');
    expect(verify.stdout).toContain('9/9 ok');
  });

  it('gives TypeScript users types under both module systems', async () => {
    writeFileSync(
      join(app, 'esm.mts'),
      `import { initBackend, type FaceDetection } from 'tfjs-facenet';
import type { WeightSetName } from 'tfjs-facenet/node';
const set: WeightSetName = 'caffe';
const d: FaceDetection | undefined = undefined;
const info = await initBackend({ backend: 'wasm' });
export const name: string = info.name + set + String(d);
`,
    );
    writeFileSync(
      join(app, 'cjs.cts'),
      `import facenet = require('tfjs-facenet/node');
const set: facenet.WeightSetName = 'seed';
export const p: Promise<facenet.BackendInfo> = facenet.initBackend();
export const s: string = set;
`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const project = (files: string[]) => {
      const compilerOptions = { noEmit: true, strict: true, skipLibCheck: true, module: 'node16', moduleResolution: 'node16', target: 'es2022', types: [] };
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
      return run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    };
    const r = await project(['esm.mts', 'cjs.cts']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
    // A misuse must be caught, so the check above is not vacuous.
    writeFileSync(join(app, 'bad.mts'), `import { initBackend } from 'tfjs-facenet';\ninitBackend({ backend: 'gpu' });\n`);
    const bad = await project(['bad.mts']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain('bad.mts');
  });
});
