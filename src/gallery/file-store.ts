/**
 * {@link GalleryStore} over a gallery file (Node only): every write reads the file, changes
 * the gallery in memory and saves it atomically. Writers in one process are serialized per
 * file; matching reuses the loaded gallery until the file changes on disk.
 */
import { ConfigError, FileNotFoundError } from '../errors.js';
import { loadGallery, saveGallery } from './file.js';
import { checkGalleryCompatible, type GalleryExpectation } from './format.js';
import { Gallery, type GalleryOptions, type MatchResult } from './gallery.js';
import { HnswGalleryIndex } from './hnsw.js';
import {
  checkCreateCompatible,
  checkEnrollEntries,
  galleryInfo,
  type EnrollEntry,
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
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
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
    if (!g) throw new FileNotFoundError(this.location, 'gallery');
    return g;
  }

  /** Run `change` on a fresh copy of the file's gallery and save it, one writer at a time. */
  private write<T>(change: (gallery: Gallery | null) => Promise<{ gallery: Gallery | null; result: T }>): Promise<T> {
    const previous = writeQueues.get(this.path) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      const stamp = await this.stamp();
      const fresh = stamp === null ? null : await loadGallery(this.path);
      const { gallery, result } = await change(fresh);
      if (gallery) {
        await saveGallery(gallery, this.path);
        this.cached = null;
      }
      return result;
    });
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

  enroll(entries: readonly EnrollEntry[]): Promise<void> {
    return this.write(async (gallery) => {
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery');
      checkEnrollEntries(entries, gallery.dimension);
      for (const e of entries) gallery.add(e.name, [...e.embeddings], e.sources);
      return { gallery, result: undefined };
    });
  }

  remove(name: string): Promise<boolean> {
    return this.write(async (gallery) => {
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery');
      const removed = gallery.remove(name);
      return { gallery: removed ? gallery : null, result: removed };
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.write(async (gallery) => {
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery');
      gallery.rename(from, to);
      return { gallery, result: undefined };
    });
  }

  setThreshold(threshold: number): Promise<void> {
    return this.write(async (gallery) => {
      if (!gallery) throw new FileNotFoundError(this.location, 'gallery');
      gallery.threshold = threshold;
      return { gallery, result: undefined };
    });
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
    if (!(await this.stamp())) throw new FileNotFoundError(this.location, 'gallery');
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
