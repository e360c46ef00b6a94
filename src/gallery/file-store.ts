/**
 * {@link GalleryStore} over a gallery file (Node only): every write takes the file's lock
 * (`util/file-lock.ts`, as {@link updateGallery} does), reads the file as it is then, changes
 * the gallery in memory and writes it atomically, so processes sharing the file keep each
 * other's changes. Matching reuses the loaded gallery until the file changes on disk.
 */
import { ConfigError, FileNotFoundError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { withFileLock } from '../util/file-lock.js';
import { loadGallery } from './file.js';
import { checkGalleryCompatible, encodeGallery, type GalleryExpectation } from './format.js';
import { Gallery, type GalleryOptions, type MatchResult } from './gallery.js';
import { HnswGalleryIndex } from './hnsw.js';
import {
  checkCreateCompatible,
  checkEnrollEntries,
  checkThreshold,
  galleryInfo,
  planEnrollment,
  type EnrollEntry,
  type GalleryUpdate,
  type GalleryUpdateResult,
  type GalleryStore,
  type GalleryStoreInfo,
  type StoredIdentity,
  type StoreIndexOptions,
  type StoreMatchOptions,
} from './store.js';

/** The tail of the write queue of each file (by resolved path): one writer at a time per process. */
const writeQueues = new Map<string, Promise<unknown>>();

/** A gallery file as a {@link GalleryStore}. */
export class FileGalleryStore implements GalleryStore {
  private cached: { gallery: Gallery; stamp: string } | null = null;
  private index: { index: HnswGalleryIndex; gallery: Gallery; opts: StoreIndexOptions } | null = null;

  private constructor(
    readonly location: string,
    private readonly path: string,
  ) {}

  /** A store on `path` (the file need not exist yet). */
  static async open(path: string): Promise<FileGalleryStore> {
    const { resolve } = await import('node:path');
    return new FileGalleryStore(path, resolve(path));
  }

  /** Size and modification time: what tells that another writer saved the file. */
  private async stamp(): Promise<string | null> {
    const { stat } = await import('node:fs/promises');
    try {
      const s = await stat(this.path);
      return `${s.size}:${s.mtimeMs}:${s.ino}`;
    } catch (e) {
      // A missing file, or a path through a file: no gallery (loadGallery says which).
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw e;
    }
  }

  /** The gallery as it is on disk now, or null when there is no file. */
  private async current(): Promise<Gallery | null> {
    const stamp = await this.stamp();
    if (stamp === null) return null;
    if (this.cached?.stamp !== stamp) this.cached = { gallery: await loadGallery(this.path), stamp };
    return this.cached.gallery;
  }

  private async required(): Promise<Gallery> {
    const g = await this.current();
    if (!g) throw new FileNotFoundError(this.location, 'gallery file');
    return g;
  }

  /**
   * Under the file's lock, run `change` on the gallery as it is on disk now (null when there
   * is none) and write what it returns (nothing when it returns null). In-process writers
   * queue here rather than poll the lock file.
   */
  private write<T>(change: (gallery: Gallery | null) => Promise<{ gallery: Gallery | null; result: T }>): Promise<T> {
    const previous = writeQueues.get(this.path) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() =>
      withFileLock(this.path, async () => {
        const fresh = (await this.stamp()) === null ? null : await loadGallery(this.path);
        const { gallery, result } = await change(fresh);
        if (gallery) {
          await writeFileAtomic(this.path, await encodeGallery(gallery));
          this.cached = null;
        }
        return result;
      }),
    );
    writeQueues.set(this.path, run);
    void run.finally(() => {
      if (writeQueues.get(this.path) === run) writeQueues.delete(this.path);
    }).catch(() => undefined);
    return run;
  }

  async info(): Promise<GalleryStoreInfo | null> {
    const g = await this.current();
    return g ? galleryInfo(g) : null;
  }

  create(opts: GalleryOptions): Promise<GalleryStoreInfo> {
    return this.write(async (stored) => {
      if (stored) {
        checkCreateCompatible(galleryInfo(stored), opts, this.location);
        return { gallery: null, result: galleryInfo(stored) };
      }
      const gallery = Gallery.create(opts);
      return { gallery, result: galleryInfo(gallery) };
    });
  }

  async open(expect?: GalleryExpectation): Promise<GalleryStoreInfo> {
    const info = galleryInfo(await this.required());
    if (expect) checkGalleryCompatible(info, expect, this.location);
    return info;
  }

  async identities(): Promise<StoredIdentity[]> {
    const g = await this.required();
    return g.identities.map((name) => ({ name, count: g.count(name) }));
  }

  async enroll(entries: readonly EnrollEntry[]): Promise<void> {
    await this.update({ enroll: entries });
  }

  async update(changes: GalleryUpdate): Promise<GalleryUpdateResult> {
    if (changes.threshold !== undefined) checkThreshold(changes.threshold);
    return await this.write(async (stored) => {
      let gallery = stored;
      if (gallery && changes.create) checkCreateCompatible(galleryInfo(gallery), changes.create, this.location);
      gallery ??= changes.create ? Gallery.create(changes.create) : null;
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery file');
      const g = gallery;
      for (const name of changes.remove ?? []) {
        if (!g.remove(name)) throw new ConfigError('remove', `no identity named "${name}" in ${this.location}`);
      }
      for (const { from, to } of changes.rename ?? []) g.rename(from, to);
      const entries = changes.enroll ?? [];
      checkEnrollEntries(entries, g.dimension);
      const plan = planEnrollment(entries, changes.skipEnrolledSources ?? false, (name) => (g.has(name) ? g.sourcesOf(name) : []));
      const added = [];
      const skipped = [];
      for (const e of plan) {
        if (e.skip) {
          skipped.push({ name: e.name, source: e.source });
        } else {
          g.add(e.name, [e.embedding], [e.source]);
          added.push({ name: e.name, source: e.source });
        }
      }
      if (changes.threshold !== undefined) g.threshold = changes.threshold;
      return { gallery: g, result: { info: galleryInfo(g), added, skipped } };
    });
  }

  async sourcesOf(names: readonly string[]): Promise<Map<string, string[]>> {
    const g = await this.required();
    const out = new Map<string, string[]>();
    for (const name of names) {
      if (g.has(name)) out.set(name, g.sourcesOf(name).filter((s): s is string => s !== undefined));
    }
    return out;
  }

  remove(name: string): Promise<boolean> {
    return this.write(async (gallery) => {
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery file');
      const removed = gallery.remove(name);
      return { gallery: removed ? gallery : null, result: removed };
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.write(async (gallery) => {
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery file');
      gallery.rename(from, to);
      return { gallery, result: undefined };
    });
  }

  async setThreshold(threshold: number): Promise<void> {
    await this.update({ threshold });
  }

  async match(query: ArrayLike<number>, opts: StoreMatchOptions = {}): Promise<MatchResult> {
    const gallery = await this.required();
    if (!opts.approximate) return gallery.match(query, { topK: opts.topK, threshold: opts.threshold });
    if (!this.index) throw new ConfigError('approximate', `no HNSW index on ${this.location}: call createIndex() first`);
    if (this.index.gallery !== gallery) this.index = { ...this.index, index: await HnswGalleryIndex.build(gallery, this.index.opts), gallery };
    return this.index.index.match(query, { topK: opts.topK, threshold: opts.threshold ?? gallery.threshold });
  }

  /** The file format keeps no index: it is built in memory (hnswlib-node) and rebuilt when the file changes. */
  async createIndex(opts: StoreIndexOptions = {}): Promise<void> {
    const gallery = await this.required();
    this.index = { index: await HnswGalleryIndex.build(gallery, opts), gallery, opts };
  }

  async load(opts: { storage?: GalleryOptions['storage'] } = {}): Promise<Gallery> {
    // loadGallery's typed errors name what is wrong with the path (missing, a directory, …).
    return loadGallery(this.path, { storage: opts.storage });
  }

  replace(gallery: Gallery): Promise<void> {
    return this.write(async () => ({ gallery, result: undefined }));
  }

  clear(): Promise<void> {
    return this.write(async () => {
      const { rm } = await import('node:fs/promises');
      await rm(this.path, { force: true });
      this.cached = null;
      this.index = null;
      return { gallery: null, result: undefined };
    });
  }

  async close(): Promise<void> {
    await writeQueues.get(this.path)?.catch(() => undefined);
    this.cached = null;
    this.index = null;
  }
}
