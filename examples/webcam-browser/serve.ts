/**
 * Serve the browser example: gather the models into `out/webcam-browser/public`, then start
 * Vite's dev server — or, with `--build`, build the page and serve the build (preview).
 *
 *   npm run example:webcam-browser            # then open the printed URL
 *   npx tsx examples/webcam-browser/serve.ts --build --model DIR --port 8080
 */
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { build, createServer, preview, type InlineConfig } from 'vite';
import { exampleModel } from '../common/model.js';
import { prepareAssets } from './assets.js';

const CONFIG_FILE = fileURLToPath(new URL('./vite.config.ts', import.meta.url));

export interface ServeOptions {
  modelDir: string;
  /** Public folder for the models. Default: the config's (`out/webcam-browser/public`). */
  publicDir?: string;
  /** Build output folder. Default: the config's (`out/webcam-browser/dist`). */
  outDir?: string;
  /** Build, then serve the build. Default false (dev server). */
  build?: boolean;
  port?: number;
  host?: string;
  /** Only errors from Vite (no build warnings). Default false. */
  quiet?: boolean;
}

/** Start serving; returns the page URL and a function that stops the server. */
export async function servePage(opts: ServeOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const config: InlineConfig = {
    configFile: CONFIG_FILE,
    ...(opts.quiet ? { logLevel: 'error' as const } : {}),
    ...(opts.publicDir ? { publicDir: opts.publicDir } : {}),
    ...(opts.outDir ? { build: { outDir: opts.outDir } } : {}),
  };
  const publicDir = opts.publicDir ?? fileURLToPath(new URL('../../out/webcam-browser/public', import.meta.url));
  await prepareAssets(publicDir, { modelDir: opts.modelDir });
  const server = { port: opts.port ?? 5173, host: opts.host ?? 'localhost', strictPort: opts.port !== undefined };
  if (opts.build) {
    await build(config);
    const p = await preview({ ...config, preview: server });
    return { url: p.resolvedUrls!.local[0], close: () => p.close() };
  }
  const dev = await createServer({ ...config, server });
  await dev.listen();
  return { url: dev.resolvedUrls!.local[0], close: () => dev.close() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  new Command('webcam-browser')
    .description('serve the browser webcam example (Vite)')
    .option('--model <dir>', 'recognition model directory (default: the package default model)')
    .option('--placeholder-if-missing', 'use an untrained placeholder model when the default model is not installed')
    .option('--build', 'build the page and serve the build instead of the dev server')
    .option('--port <n>', 'port (default 5173, or the next free one)')
    .option('--host <h>', 'address to listen on', 'localhost')
    .action(async (flags: { model?: string; placeholderIfMissing?: boolean; build?: boolean; port?: string; host: string }) => {
      const model = await exampleModel({ model: flags.model, placeholderIfMissing: flags.placeholderIfMissing });
      const { url } = await servePage({
        modelDir: model.dir,
        build: flags.build,
        port: flags.port !== undefined ? Number(flags.port) : undefined,
        host: flags.host,
      });
      process.stderr.write(`webcam example at ${url} (Ctrl-C stops)\n`);
    })
    .parseAsync()
    .catch((e: unknown) => {
      process.stderr.write(`webcam-browser: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    });
}
