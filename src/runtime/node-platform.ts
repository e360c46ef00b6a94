/**
 * The one door to Node's built-in modules. The browser-safe part of the library never
 * imports `node:*` itself; where it can also work from files in Node (image paths, weight
 * folders, model directories) it asks here, and the `tfjs-facenet/node` entry installs the
 * built-ins when it is imported. Without them those calls throw {@link NodeOnlyError}.
 */
import { NodeOnlyError } from '../errors.js';

/** The Node built-ins the library uses (the modules themselves, as imported). */
export interface NodeBuiltins {
  fs: typeof import('node:fs');
  fsp: typeof import('node:fs/promises');
  path: typeof import('node:path');
  os: typeof import('node:os');
  crypto: typeof import('node:crypto');
  module: { createRequire: typeof import('node:module').createRequire };
  url: typeof import('node:url');
  /** The `sharp` image codec (a native addon), imported on first use. */
  loadSharp(): Promise<typeof import('sharp').default>;
}

let installed: NodeBuiltins | undefined;

/** Install (or, with `undefined`, remove) the Node built-ins. Done by `tfjs-facenet/node`. */
export function installNodeBuiltins(builtins: NodeBuiltins | undefined): void {
  installed = builtins;
}

/** Whether the Node built-ins are installed. */
export function hasNodeBuiltins(): boolean {
  return installed !== undefined;
}

/**
 * The Node built-ins, for `feature`.
 * @throws {NodeOnlyError} naming `feature` when they are not installed.
 */
export function nodeBuiltins(feature: string): NodeBuiltins {
  if (!installed) throw new NodeOnlyError(feature);
  return installed;
}
