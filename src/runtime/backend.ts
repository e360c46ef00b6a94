/**
 * One place that chooses the TensorFlow.js backend.
 *
 * Node: `@tensorflow/tfjs-node` when it can be loaded (an optional peer dependency whose
 * install needs a libtensorflow download), else the WebAssembly backend, else plain cpu.
 * Browser: webgpu, webgl, wasm, cpu — whichever of those the page has registered first.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { hasNodeBuiltins, nodeBuiltins } from './node-platform.js';

/** Backends tfjs-facenet knows how to set up. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu' | 'webgl' | 'webgpu';

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /**
   * Force one backend. Default: the environment variable `TFJS_FACENET_BACKEND`, else the
   * fastest one that loads (see module docs).
   */
  backend?: BackendName;
  /** wasm only: number of threads. Default 1 (threads need cross-origin isolation / do not work in Node). */
  wasmThreads?: number;
}

/** What {@link initBackend} set up. */
export interface BackendInfo {
  name: string;
  /** Why the faster candidates were passed over, in order. */
  skipped: { name: string; reason: string }[];
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

let current: Promise<BackendInfo> | undefined;
let currentKey: string | undefined;

async function tryWasm(threads: number | undefined): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (isNode) {
    // Threads need SharedArrayBuffer workers that the Node build of tfjs-backend-wasm cannot start.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } else if (threads !== undefined) {
    wasm.setThreadsCount(threads);
  }
  if (isNode && hasNodeBuiltins()) {
    // In Node the .wasm files sit beside the package's dist/ — point at them explicitly so
    // that bundling (tsup, vite) of this library does not break the lookup.
    const { module, path } = nodeBuiltins('locating the WebAssembly binaries in Node');
    const { createRequire } = module;
    const { dirname, join } = path;
    const req = createRequire(import.meta.url);
    const dir = dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(join(dir, 'dist') + '/');
  }
}

async function tryTfjsNode(): Promise<void> {
  // A computed specifier keeps bundlers from trying to resolve the optional peer.
  const name = '@tensorflow/tfjs-node';
  await import(/* @vite-ignore */ name);
}

async function activate(name: BackendName, opts: BackendOptions): Promise<void> {
  switch (name) {
    case 'tensorflow':
      if (!isNode) throw new Error('tfjs-node runs only in Node');
      await tryTfjsNode();
      break;
    case 'wasm':
      await tryWasm(opts.wasmThreads);
      break;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
    case 'webgl':
    case 'webgpu':
      if (isNode) throw new Error(`${name} runs only in a browser`);
      break;
  }
  if (tf.findBackendFactory(name) == null) throw new Error(`backend ${name} is not registered`);
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialize`);
  await tf.ready();
}

/**
 * Choose and initialize the backend. Safe to call many times: the first call decides,
 * later calls with the same options return the same result.
 */
export function initBackend(opts: BackendOptions = {}): Promise<BackendInfo> {
  const forced =
    opts.backend ?? ((isNode ? process.env.TFJS_FACENET_BACKEND : undefined) as BackendName | undefined);
  const key = `${forced ?? 'auto'}:${opts.wasmThreads ?? ''}`;
  if (current && currentKey === key) return current;
  currentKey = key;
  current = (async () => {
    const candidates: BackendName[] = forced
      ? [forced]
      : isNode
        ? ['tensorflow', 'wasm', 'cpu']
        : ['webgpu', 'webgl', 'wasm', 'cpu'];
    if (forced && !['tensorflow', 'wasm', 'cpu', 'webgl', 'webgpu'].includes(forced)) {
      throw new ConfigError('backend', `unknown backend "${forced}"`);
    }
    const skipped: BackendInfo['skipped'] = [];
    for (const name of candidates) {
      try {
        await activate(name, opts);
        return { name: tf.getBackend(), skipped };
      } catch (e) {
        skipped.push({ name, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      }
    }
    current = undefined;
    throw new ConfigError(
      'backend',
      `no TensorFlow.js backend could be started: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`,
    );
  })();
  return current;
}

/** The name of the backend in use, or undefined before {@link initBackend}. */
export function backendName(): string | undefined {
  try {
    return tf.getBackend();
  } catch {
    return undefined;
  }
}
