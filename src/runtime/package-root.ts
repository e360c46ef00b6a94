/**
 * Files the package ships beside its code (`models/…`), found from the package itself rather
 * than from the working directory, so that they load from any folder, in ESM and CJS alike
 * (tsup shims `import.meta.url` in the CJS build). Node only.
 */
import { FileNotFoundError } from '../errors.js';
import { nodeBuiltins } from './node-platform.js';

const PACKAGE_NAME = 'tfjs-facenet';

let cachedRoot: string | undefined;

/**
 * The package root: the nearest folder above this module whose `package.json` is named
 * `tfjs-facenet` (the same from `src/` and from the bundled `dist/`).
 * @throws {FileNotFoundError} when there is none (the package's files were moved apart).
 */
export function packageRootSync(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const { fs, path, url } = nodeBuiltins('finding the files shipped with tfjs-facenet');
  const start = path.dirname(url.fileURLToPath(import.meta.url));
  let dir = start;
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return (cachedRoot = dir);
    } catch {
      // no (readable) package.json here: keep climbing
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new FileNotFoundError(start, `${PACKAGE_NAME} package root (a package.json named ${PACKAGE_NAME} above it)`);
    dir = parent;
  }
}

/** Absolute path of a file or folder shipped in the package, e.g. `shippedPath('models', 'mtcnn')`. */
export function shippedPath(...parts: string[]): string {
  return nodeBuiltins('finding the files shipped with tfjs-facenet').path.join(packageRootSync(), ...parts);
}
