/**
 * Vite config of the browser example. The models are not part of the sources: `assets.ts`
 * copies them into a public folder under `out/` (see serve.ts), served as static files.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** Cross-origin isolation: lets the WebAssembly backend use threads. */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('../../out/webcam-browser/public'),
  resolve: { alias: { 'tfjs-facenet': here('../../src/index.ts') } },
  build: {
    outDir: here('../../out/webcam-browser/dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      onwarn(warning, warn) {
        // The library's Node-only modules reach Node built-ins through namespace imports, which
        // the browser build replaces with an empty module: expected, and never called here.
        if (warning.code === 'MISSING_EXPORT' && warning.exporter?.includes('__vite-browser-external')) return;
        warn(warning);
      },
    },
  },
  server: { headers: isolation },
  preview: { headers: isolation },
  logLevel: 'warn',
});
