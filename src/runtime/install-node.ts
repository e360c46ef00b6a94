/**
 * Installs Node's built-ins for the library (see runtime/node-platform.ts). Imported, for
 * its effect, by the `tfjs-facenet/node` entry, the CLI and the worker entry points.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as os from 'node:os';
import * as crypto from 'node:crypto';
import * as module from 'node:module';
import * as url from 'node:url';
import { installNodeBuiltins } from './node-platform.js';

type Sharp = typeof import('sharp').default;
let sharp: Promise<Sharp> | undefined;
function loadSharp(): Promise<Sharp> {
  sharp ??= import('sharp').then((m) => (m.default ?? m) as Sharp);
  return sharp;
}

installNodeBuiltins({ fs, fsp, path, os, crypto, module, url, loadSharp });
