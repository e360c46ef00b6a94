/**
 * The main entry is browser-safe: bundled for the browser (esbuild, as tsup and vite use it),
 * nothing in it imports Node — no `node:` module, no bare Node built-in, no Node-only
 * package. And without Node's built-ins, what needs files says so with a typed error.
 */
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { hasNodeBuiltins, installNodeBuiltins, nodeBuiltins } from '../src/runtime/node-platform.js';
import { loadImage } from '../src/image/load.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { NodeOnlyError } from '../src/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE_ONLY_PACKAGES = ['sharp', 'hnswlib-node', '@tensorflow/tfjs-node', 'commander', 'cli-progress', 'pg', 'pg-copy-streams'];

interface NodeImport {
  path: string;
  importer: string;
}

/** Bundles `entry` for the browser and lists every import of Node that the bundle would need. */
async function nodeImportsOf(entry: string): Promise<NodeImport[]> {
  const found: NodeImport[] = [];
  const builtins = new Set(builtinModules);
  const isNodeOnly = (path: string): boolean =>
    path.startsWith('node:') || NODE_ONLY_PACKAGES.some((p) => path === p || path.startsWith(`${p}/`));
  const recorder: Plugin = {
    name: 'record-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        // Bare built-ins (`fs`, `path`) are only a problem when they come from our code: the
        // tfjs packages map theirs away with their package.json "browser" field.
        const ours = !args.importer.includes('node_modules');
        if (isNodeOnly(args.path) || (ours && builtins.has(args.path))) {
          found.push({ path: args.path, importer: args.importer.replace(ROOT, '') });
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  await build({
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    plugins: [recorder],
    outdir: 'out/browser-entry-check',
  });
  return found;
}

describe('the main entry in the browser', () => {
  it('bundles without any Node import', async () => {
    expect(await nodeImportsOf('src/index.ts')).toEqual([]);
  }, 120_000);

  it('the check finds a Node import when there is one (the Node entry has many)', async () => {
    const found = await nodeImportsOf('src/node/index.ts');
    expect(found.some((f) => f.path === 'node:fs' && f.importer === 'src/runtime/install-node.ts')).toBe(true);
    expect(found.some((f) => f.path === 'node:worker_threads')).toBe(true);
  }, 120_000);
});

describe('without the Node platform', () => {
  const saved = nodeBuiltins('the test setup');
  afterEach(() => installNodeBuiltins(saved));

  it('file inputs throw NodeOnlyError naming what needed Node', async () => {
    installNodeBuiltins(undefined);
    expect(hasNodeBuiltins()).toBe(false);
    await expect(loadImage('photo.jpg')).rejects.toThrow(NodeOnlyError);
    await expect(loadImage('photo.jpg')).rejects.toThrow(/reading image files.*tfjs-facenet\/node/);
    await expect(loadMtcnn()).rejects.toThrow(NodeOnlyError);
  });
});
