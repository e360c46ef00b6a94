/**
 * `tfjs-facenet enroll --gallery STORE <folders or images...>`: add people to a gallery
 * (a file, `pglite:DIR` or `postgres://…`; created when missing), or remove / rename identities.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Gallery as GalleryType } from '../../gallery/gallery.js';
import { galleryInfo, type EnrollEntry, type GalleryStore } from '../../gallery/store.js';
import { addDetectorOptions, detectorOptionsFrom, parseMargin } from '../options.js';

interface EnrollFlags {
  gallery: string;
  model?: string;
  name?: string;
  metric?: string;
  threshold?: string;
  margin?: string;
  remove: string[];
  rename: string[];
  json?: boolean;
  weights?: string;
  minSize?: string;
  thresholds?: string;
  factor?: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  const cmd = program
    .command('enroll')
    .description(
      'enroll people into a gallery (file, pglite:DIR or postgres://…): a folder of folders (one per person), a folder of images named after the ' +
        'people, or single images (named after the file, or --name)',
    )
    .argument('[inputs...]', 'folders or images')
    .requiredOption('--gallery <store>', 'gallery file, pglite:DIR or postgres://… (created when it does not exist)')
    .option('--model <dir>', 'model directory (default: the one the gallery was enrolled with)')
    .option('--name <identity>', 'enroll every image given under this name')
    .option('--metric <m>', 'new gallery: squared-euclidean, cosine or mean-squared', 'squared-euclidean')
    .option('--threshold <t>', 'set the decision threshold stored in the gallery')
    .option('--margin <px>', "override the model's crop margin (new gallery only)")
    .option('--remove <identity>', 'remove an identity (repeatable)', collect, [])
    .option('--rename <old=new>', 'rename an identity (repeatable)', collect, [])
    .option('--json', 'print the report as JSON');
  addDetectorOptions(cmd).action(async (inputs: string[], flags: EnrollFlags) => {
    const { openGalleryStore } = await import('../../gallery/open-store.js');
    const store = await openGalleryStore(flags.gallery);
    try {
      await enrollInto(store, inputs, flags);
    } finally {
      await store.close();
    }
  });
}

/** The command on an open store: removals, renames, enrolment (one transaction), threshold, report. */
async function enrollInto(store: GalleryStore, inputs: string[], flags: EnrollFlags): Promise<void> {
  const { Gallery } = await import('../../gallery/gallery.js');
  const { checkMetric } = await import('../../gallery/metric.js');
  let stored = await store.info();
  const changes: string[] = [];
  for (const name of flags.remove) {
    if (!stored || !(await store.remove(name))) throw new ConfigError('--remove', `no identity named "${name}" in ${flags.gallery}`);
    changes.push(`removed ${name}`);
  }
  for (const spec of flags.rename) {
    const [from, to, ...rest] = spec.split('=');
    if (!from || !to || rest.length) throw new ConfigError('--rename', `expected old=new, got '${spec}'`);
    if (!stored) throw new ConfigError('--rename', `${flags.gallery} does not exist`);
    await store.rename(from, to);
    changes.push(`renamed ${from} to ${to}`);
  }
  let report: Awaited<ReturnType<typeof import('../../recognition/enroll.js').enrollImages>> | undefined;
  let ignored: string[] = [];
  if (inputs.length > 0) {
    const modelDir = flags.model ?? stored?.modelLocation;
    if (!modelDir) throw new ConfigError('--model', 'a model directory is needed to enroll into a new gallery');
    const { initBackend } = await import('../../runtime/backend.js');
    await initBackend();
    const { loadFacenetEmbedder } = await import('../../recognition/load.js');
    const { listEnrollmentSources, enrollImages } = await import('../../recognition/enroll.js');
    const { startProgress } = await import('../../util/progress.js');
    const listed = await listEnrollmentSources(inputs, { name: flags.name });
    ignored = listed.ignored;
    const embedder = await loadFacenetEmbedder({
      modelDir,
      detectorOptions: detectorOptionsFrom(flags),
      preprocessing: !stored && flags.margin !== undefined ? { margin: parseMargin(flags.margin) } : stored?.preprocessing ?? undefined,
    });
    try {
      // This run's embeddings, gathered in memory and written to the store in one transaction.
      const batch = Gallery.create(
        stored ?? {
          dimension: embedder.dimension,
          metric: checkMetric(flags.metric ?? 'squared-euclidean'),
          fingerprint: embedder.fingerprint,
          preprocessing: { ...embedder.preprocessing },
          modelLocation: resolve(modelDir),
        },
      );
      const progress = startProgress('enroll', listed.sources.length);
      try {
        report = await enrollImages(batch, embedder, listed.sources, { onProgress: () => progress.tick(1) });
      } finally {
        progress.stop();
      }
      stored = await store.create(galleryInfo(batch));
      await store.enroll(await entriesWithImageHashes(batch));
    } finally {
      embedder.dispose();
    }
  }
  if (!stored) throw new ConfigError('inputs', 'nothing to do: give images or folders to enroll');
  if (flags.threshold !== undefined) {
    await store.setThreshold(Number(flags.threshold));
    changes.push(`threshold ${Number(flags.threshold)}`);
  }
  const info = (await store.info())!;
  const identities = await store.identities();
  const size = identities.reduce((s, i) => s + i.count, 0);
  const summary = {
    gallery: flags.gallery,
    identities: identities.map((i) => ({ name: i.name, embeddings: i.count })),
    enrolled: report?.enrolled ?? [],
    failed: report?.failed ?? [],
    ignored,
    changes,
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    const lines = [
      `${flags.gallery}: ${identities.length} identities, ${size} embeddings (${info.metric}, threshold ${info.threshold})`,
    ];
    if (report) lines.push(`enrolled ${report.enrolled.length} image(s), ${report.failed.length} failed`);
    for (const f of report?.failed ?? []) lines.push(`  failed ${f.path}: ${f.reason}`);
    for (const c of changes) lines.push(`  ${c}`);
    for (const i of summary.identities) lines.push(`  ${i.name}: ${i.embeddings}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
}

/** The identities of `batch` as store entries, each embedding with the SHA-256 of the image it came from. */
async function entriesWithImageHashes(batch: GalleryType): Promise<EnrollEntry[]> {
  const { createHash } = await import('node:crypto');
  const entries: EnrollEntry[] = [];
  for (const g of batch.groups()) {
    const imageHashes = await Promise.all(
      g.sources.map(async (path) => (path ? createHash('sha256').update(await readFile(path)).digest('hex') : undefined)),
    );
    entries.push({ name: g.name, embeddings: g.embeddings, sources: g.sources, imageHashes });
  }
  return entries;
}
