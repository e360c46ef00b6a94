/**
 * `tfjs-facenet gallery migrate|export|import|index`: look after stored galleries — bring a
 * database's schema up to date, copy a gallery between a file, PGlite and PostgreSQL, and
 * build the approximate-search index.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { SqlGalleryStore } from '../../gallery/sql-store.js';
import type { GalleryStore } from '../../gallery/store.js';
import { parseInteger } from '../options.js';

const STORES = 'a gallery file, pglite:DIR or postgres://user@host/db';

async function withStore<T>(spec: string, work: (store: GalleryStore) => Promise<T>): Promise<T> {
  const { openGalleryStore } = await import('../../gallery/open-store.js');
  const store = await openGalleryStore(spec);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Copy the gallery in `from` to `to`; `to` must be empty unless `replace`. */
async function copyGallery(from: string, to: string, replace: boolean): Promise<string> {
  const gallery = await withStore(from, (s) => s.load());
  return withStore(to, async (target) => {
    if (!replace && (await target.info())) {
      throw new ConfigError('--replace', `${target.location} already holds a gallery; pass --replace to overwrite it`);
    }
    await target.replace(gallery);
    const ids = await target.identities();
    return `${from} → ${target.location}: ${ids.length} identities, ${ids.reduce((s, i) => s + i.count, 0)} embeddings`;
  });
}

export function register(program: Command): void {
  const gallery = program.command('gallery').description(`look after a stored gallery (${STORES})`);

  gallery
    .command('migrate')
    .description("bring a database gallery's schema up to this library's version (opening a database store does it too)")
    .argument('<store>', 'pglite:DIR or postgres://…')
    .action(async (spec: string) => {
      const { galleryStoreKind } = await import('../../gallery/open-store.js');
      if (galleryStoreKind(spec) === 'file') {
        const { GALLERY_FORMAT_VERSION } = await import('../../gallery/format.js');
        process.stdout.write(`${spec}: a gallery file (format version ${GALLERY_FORMAT_VERSION}) has no schema to migrate\n`);
        return;
      }
      await withStore(spec, async (store) => {
        const { from, to } = (store as SqlGalleryStore).schema;
        process.stdout.write(from === to ? `${store.location}: schema version ${to}, up to date\n` : `${store.location}: schema version ${from} → ${to}\n`);
      });
    });

  gallery
    .command('export')
    .description('copy a gallery to another store (e.g. a database gallery to a file)')
    .requiredOption('--gallery <store>', `the gallery to copy: ${STORES}`)
    .argument('<to>', `where to copy it: ${STORES}`)
    .option('--replace', 'overwrite a gallery already there')
    .action(async (to: string, flags: { gallery: string; replace?: boolean }) => {
      process.stdout.write((await copyGallery(flags.gallery, to, !!flags.replace)) + '\n');
    });

  gallery
    .command('import')
    .description('copy a gallery from another store into this one (e.g. a file into PostgreSQL)')
    .requiredOption('--gallery <store>', `the gallery to fill: ${STORES}`)
    .argument('<from>', `the gallery to copy: ${STORES}`)
    .option('--replace', 'overwrite the gallery already there')
    .action(async (from: string, flags: { gallery: string; replace?: boolean }) => {
      process.stdout.write((await copyGallery(from, flags.gallery, !!flags.replace)) + '\n');
    });

  gallery
    .command('index')
    .description('build the HNSW index that approximate matching uses (database stores keep it)')
    .requiredOption('--gallery <store>', STORES)
    .option('--m <n>', 'graph degree', '16')
    .option('--ef-construction <n>', 'candidate list size while building', '64')
    .action(async (flags: { gallery: string; m: string; efConstruction: string }) => {
      const m = parseInteger('--m', flags.m, 2);
      const efConstruction = parseInteger('--ef-construction', flags.efConstruction, 2);
      await withStore(flags.gallery, async (store) => {
        const started = performance.now();
        await store.createIndex({ m, efConstruction });
        process.stdout.write(`${store.location}: HNSW index (m ${m}, ef_construction ${efConstruction}) built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      });
    });
}
