/**
 * Fetching, verifying and finding MTCNN weight files. Node only: the Node built-ins are
 * imported inside the functions so that importing the library in a browser stays safe.
 *
 * A weights folder has one sub-folder per set (`mtcnn-caffe/`, `mtcnn-faceapi/`,
 * `mtcnn-seed/`), laid out as in {@link WEIGHT_SETS}. The download cache has the same layout.
 */
import { ChecksumError, ConfigError, DownloadError, FileNotFoundError } from '../errors.js';
import { DEFAULT_WEIGHTS_BASE_URL, weightFileUrl, weightSet, type WeightFile, type WeightSet, type WeightSetName } from './catalog.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** What {@link downloadWeights} reports while it works. */
export interface DownloadProgress {
  /** The weight set being fetched. */
  set: WeightSetName;
  /** The file, as named in the catalog. */
  file: string;
  /**
   * `cached`: already present and verified, not fetched; `bytes`: more bytes arrived;
   * `done`: the file was verified and put in place.
   */
  phase: 'cached' | 'bytes' | 'done';
  /** Bytes of this file received so far (the full size for `cached` and `done`). */
  receivedBytes: number;
  /** The file's size according to the catalog. */
  totalBytes: number;
}

/** Options of {@link downloadWeights}. */
export interface DownloadWeightsOptions {
  /** Which weight set to fetch. */
  set: WeightSetName;
  /** Root of the download cache; the set lands in `<cacheDir>/<folder>`. Default {@link defaultCacheDir}(). */
  cacheDir?: string;
  /**
   * Base address of the file host, for mirrors and tests. Files are fetched from
   * `<baseUrl>/<owner>/<repo>/<commit>/<path>`. Default: GitHub's raw file host.
   */
  baseUrl?: string;
  /** The fetch function to use. Default: the global `fetch` of Node 20+. */
  fetchImpl?: typeof fetch;
  /** Called as files are checked and bytes arrive. */
  onProgress?: (p: DownloadProgress) => void;
  /** Aborts the download in progress; the partial file is removed. */
  signal?: AbortSignal;
}

/** One file handled by {@link downloadWeights}. */
export interface DownloadedFile {
  /** The file, as named in the catalog. */
  name: string;
  /** Absolute path of the verified file. */
  path: string;
  /** True when it was fetched (or written) now, false when the cached copy was verified and kept. */
  fetched: boolean;
}

/** What {@link downloadWeights} did. */
export interface DownloadResult {
  set: WeightSetName;
  /** The folder that now holds the whole set (pass it to a loader as its weights folder). */
  dir: string;
  files: DownloadedFile[];
}

/** The outcome of checking one file against the catalog. */
export interface FileCheck {
  name: string;
  path: string;
  /** `ok`, `missing`, `size` (wrong size) or `checksum` (right size, wrong SHA-256). */
  status: 'ok' | 'missing' | 'size' | 'checksum';
  /** What was found: the size in bytes for `size`, the SHA-256 for `checksum`. */
  actual?: string;
}

async function node() {
  return nodeBuiltins('downloading and caching weight files');
}

/**
 * The default download cache: env `TFJS_FACENET_CACHE`, else `$XDG_CACHE_HOME/tfjs-facenet`,
 * else `~/.cache/tfjs-facenet`.
 */
export async function defaultCacheDir(): Promise<string> {
  const { path, os } = await node();
  if (process.env.TFJS_FACENET_CACHE) return path.resolve(process.env.TFJS_FACENET_CACHE);
  if (process.env.XDG_CACHE_HOME) return path.resolve(process.env.XDG_CACHE_HOME, 'tfjs-facenet');
  return path.join(os.homedir(), '.cache', 'tfjs-facenet');
}

/** SHA-256 (hex) and size of a file, streamed; undefined when it does not exist. */
async function hashFile(file: string): Promise<{ sha256: string; bytes: number } | undefined> {
  const { fs, crypto } = await node();
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of fs.createReadStream(file)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Check one file on disk against its catalog entry (size first, then SHA-256). */
export async function checkWeightFile(dir: string, file: WeightFile): Promise<FileCheck> {
  const { path } = await node();
  const p = path.join(dir, ...file.name.split('/'));
  const found = await hashFile(p);
  if (!found) return { name: file.name, path: p, status: 'missing' };
  if (found.bytes !== file.bytes) return { name: file.name, path: p, status: 'size', actual: String(found.bytes) };
  if (found.sha256 !== file.sha256) return { name: file.name, path: p, status: 'checksum', actual: found.sha256 };
  return { name: file.name, path: p, status: 'ok' };
}

/**
 * Check every file of a weight set in `dir` (the set's own folder, e.g. `…/mtcnn-caffe`)
 * against the pinned sizes and checksums.
 */
export async function verifyWeights(set: WeightSetName, dir: string): Promise<FileCheck[]> {
  const entry = weightSet(set);
  const out: FileCheck[] = [];
  for (const f of entry.files) out.push(await checkWeightFile(dir, f));
  return out;
}

function tempName(path: typeof import('node:path'), target: string, suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${suffix}.part`);
}

/** Download one file into `target` through a temp file; nothing lands unless it verifies. */
async function fetchOne(
  entry: WeightSet,
  file: WeightFile,
  target: string,
  opts: Required<Pick<DownloadWeightsOptions, 'baseUrl' | 'fetchImpl'>> & DownloadWeightsOptions,
): Promise<void> {
  const { fsp, path, crypto } = await node();
  const label = `${entry.folder}/${file.name}`;
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempName(path, target, crypto.randomBytes(4).toString('hex'));
  const hash = crypto.createHash('sha256');
  let received = 0;
  try {
    if (file.text !== undefined) {
      const bytes = Buffer.from(file.text, 'utf8');
      hash.update(bytes);
      received = bytes.length;
      await fsp.writeFile(tmp, bytes);
    } else {
      const url = weightFileUrl(file, opts.baseUrl)!;
      let res: Response;
      try {
        res = await opts.fetchImpl(url, { signal: opts.signal, redirect: 'follow' });
      } catch (e) {
        throw new DownloadError(url, describe(e), undefined, { cause: e });
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => {});
        throw new DownloadError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, res.status);
      }
      if (!res.body) throw new DownloadError(url, 'the response has no body');
      const handle = await fsp.open(tmp, 'w');
      try {
        const reader = res.body.getReader();
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (e) {
            throw new DownloadError(url, `connection lost after ${received} bytes: ${describe(e)}`, undefined, {
              cause: e,
            });
          }
          if (chunk.done) break;
          received += chunk.value.length;
          if (received > file.bytes) {
            await reader.cancel().catch(() => {});
            throw new ChecksumError(label, file.sha256, `more than the expected ${file.bytes} bytes`);
          }
          hash.update(chunk.value);
          await handle.write(chunk.value);
          opts.onProgress?.({ set: entry.name, file: file.name, phase: 'bytes', receivedBytes: received, totalBytes: file.bytes });
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    const digest = hash.digest('hex');
    if (received !== file.bytes) {
      throw new ChecksumError(label, file.sha256, `${received} bytes (expected ${file.bytes})`);
    }
    if (digest !== file.sha256) throw new ChecksumError(label, file.sha256, digest);
    await fsp.rename(tmp, target);
  } finally {
    // After a successful rename the temp name is gone; otherwise this removes the partial file.
    await fsp.rm(tmp, { force: true });
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== e.message ? `${e.message} (${cause.message})` : e.message;
}

/**
 * Download one weight set into the cache, verifying every file's size and SHA-256.
 *
 * Each file streams into a temp file beside its target and is renamed into place only
 * after it verifies, so a failed, corrupted or interrupted download never leaves a file
 * under the file's name. A file already in the cache that verifies is not fetched again.
 *
 * @throws {DownloadError} when the host answers with an error status or the connection fails (names the URL).
 * @throws {ChecksumError} when the bytes received do not match the pinned size or SHA-256 (names the file and both hashes).
 */
export async function downloadWeights(opts: DownloadWeightsOptions): Promise<DownloadResult> {
  const { path } = await node();
  const entry = weightSet(opts.set);
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new ConfigError('fetchImpl', 'no global fetch (Node 20+ is required)');
  const root = path.resolve(opts.cacheDir ?? (await defaultCacheDir()));
  const dir = path.join(root, entry.folder);
  const full = { ...opts, fetchImpl, baseUrl: opts.baseUrl ?? DEFAULT_WEIGHTS_BASE_URL };
  const files: DownloadedFile[] = [];
  try {
    for (const file of entry.files) {
      const check = await checkWeightFile(dir, file);
      if (check.status === 'ok') {
        opts.onProgress?.({ set: entry.name, file: file.name, phase: 'cached', receivedBytes: file.bytes, totalBytes: file.bytes });
        files.push({ name: file.name, path: check.path, fetched: false });
        continue;
      }
      await fetchOne(entry, file, check.path, full);
      opts.onProgress?.({ set: entry.name, file: file.name, phase: 'done', receivedBytes: file.bytes, totalBytes: file.bytes });
      files.push({ name: file.name, path: check.path, fetched: true });
    }
  } catch (e) {
    await removeEmptyFolders(dir);
    throw e;
  }
  return { set: entry.name, dir, files };
}

/**
 * Remove `dir` and its sub-folders where they hold no file, so that a failed download does
 * not leave an empty set folder behind (which looks like an installed set). Files, complete
 * ones from an earlier run included, are kept.
 */
async function removeEmptyFolders(dir: string): Promise<void> {
  const { fsp, path } = await node();
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeEmptyFolders(path.join(dir, e.name));
  // rmdir refuses a folder that still holds something: exactly the ones to keep.
  await fsp.rmdir(dir).catch(() => {});
}

/** Options of {@link resolveWeightsDir}. */
export interface ResolveWeightsOptions {
  /**
   * A weights folder to use: either a root holding the set's folder (`<dir>/mtcnn-caffe/…`)
   * or the set's folder itself. When given, nothing else is searched.
   */
  weightsDir?: string;
  /** The download cache to look in last. Default {@link defaultCacheDir}(). */
  cacheDir?: string;
}

/**
 * Find the folder that holds every file of a weight set. Looks, in order, in:
 * `weightsDir`; the env `TFJS_FACENET_WEIGHTS`; when the env `TFJS_FACENET_SHARED` is set (the
 * project's tests and benchmarks), its `weights/<folder>`; the download cache; for `faceapi`,
 * the copy shipped in the package (`models/mtcnn`).
 * Presence of every file is checked, not checksums (see {@link verifyWeights}).
 *
 * @throws {FileNotFoundError} when an explicitly given folder (option or env) lacks the set,
 *   or when no location has it — the message says how to download it.
 */
export async function resolveWeightsDir(set: WeightSetName, opts: ResolveWeightsOptions = {}): Promise<string> {
  const { fs, path } = await node();
  const entry = weightSet(set);
  const complete = (dir: string) => entry.files.every((f) => fs.existsSync(path.join(dir, ...f.name.split('/'))));
  const inRoot = (root: string) =>
    [path.join(root, entry.folder), root].map((d) => path.resolve(d)).find(complete);

  const explicit: Array<[string, string | undefined]> = [
    ['weightsDir option', opts.weightsDir],
    ['TFJS_FACENET_WEIGHTS', process.env.TFJS_FACENET_WEIGHTS || undefined],
  ];
  for (const [what, dir] of explicit) {
    if (dir === undefined) continue;
    const found = inRoot(dir);
    if (found) return found;
    throw new FileNotFoundError(
      path.resolve(dir),
      `weight set "${set}" (${entry.files.map((f) => f.name).join(', ')}, looked for in <dir>/${entry.folder}/ and <dir>/; dir from ${what})`,
    );
  }
  // The tests' and benchmarks' data folder, only when they name it: never a default of the
  // library, whose users have no ../shared (the detector's own weights ship in the package).
  let shared: string | undefined;
  if (process.env.TFJS_FACENET_SHARED) {
    shared = path.join(path.resolve(process.env.TFJS_FACENET_SHARED), 'weights', entry.folder);
    if (complete(shared)) return shared;
  }
  const cache = path.join(path.resolve(opts.cacheDir ?? (await defaultCacheDir())), entry.folder);
  if (complete(cache)) return cache;
  // The package ships the face-api.js set (models/mtcnn), so that one is always found.
  if (set === 'faceapi') {
    const { shippedPath } = await import('../runtime/package-root.js');
    const shipped = shippedPath('models', 'mtcnn');
    if (complete(shipped)) return shipped;
  }
  throw new FileNotFoundError(
    cache,
    `weight set "${set}" (${shared ? `not in ${shared} either; ` : ''}run \`tfjs-facenet weights download ${set}\` or set TFJS_FACENET_WEIGHTS)`,
  );
}
