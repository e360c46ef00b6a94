/**
 * `tfjs-facenet enroll --gallery STORE <folders or images...>`: add people to a gallery
 * (a file, `pglite:DIR` or `postgres://…`; created when missing), or remove / rename identities.
 *
 * Several runs may write one gallery at once: the images are embedded first, then every
 * change is made in one {@link GalleryStore.update} — under the file's lock for a gallery
 * file (re-read and merged), in one transaction for a database — so no run loses another's
 * changes, and an image its identity already holds (same absolute path) is not added twice.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { batchExitCode } from '../exit-codes.js';
import type { GalleryOptions } from '../../gallery/gallery.js';
import type { EnrollEntry, GalleryStore } from '../../gallery/store.js';
import type { EnrolledEmbedding, EnrollFailure, EnrollSource } from '../../recognition/enroll.js';
import { addDetectorOptions, detectorOptionsFrom, type DetectorFlags, parseInteger, parseMargin, modelOptionHelp } from '../options.js';

interface EnrollFlags extends DetectorFlags {
  gallery: string;
  model?: string;
  name?: string;
  metric?: string;
  threshold?: string;
  margin?: string;
  remove: string[];
  rename: string[];
  json?: boolean;
  workers: string;
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
    .option('--model <name|dir>', modelOptionHelp("the gallery's own, else default"))
    .option('--name <identity>', 'enroll every image given under this name')
    .option('--metric <m>', 'new gallery: squared-euclidean, cosine or mean-squared', 'squared-euclidean')
    .option('--threshold <t>', 'set the decision threshold stored in the gallery')
    .option('--margin <px>', "override the model's crop margin (new gallery only)")
    .option('--remove <identity>', 'remove an identity (repeatable)', collect, [])
    .option('--rename <old=new>', 'rename an identity (repeatable)', collect, [])
    .option('--json', 'print the report as JSON')
    .option('--workers <n>', 'worker threads detecting and embedding at once (each with its own backend and model); 1 = in this thread', '1');
  addDetectorOptions(cmd).action(async (inputs: string[], flags: EnrollFlags) => {
    const renames = flags.rename.map((spec) => {
      const [from, to, ...rest] = spec.split('=');
      if (!from || !to || rest.length) throw new ConfigError('--rename', `expected old=new, got '${spec}'`);
      return { from, to };
    });
    const { openGalleryStore } = await import('../../gallery/open-store.js');
    const store = await openGalleryStore(flags.gallery);
    try {
      await enrollInto(store, inputs, flags, renames);
    } finally {
      await store.close();
    }
  });
}

/** What the embedding step of a run produced. */
interface Embedded {
  /** Options of the gallery to create when the store holds none. */
  create: GalleryOptions;
  embedded: EnrolledEmbedding[];
  failed: EnrollFailure[];
  listed: number;
  ignored: string[];
}

/** The command on an open store: embed the new images, then make every change in one update, then report. */
async function enrollInto(
  store: GalleryStore,
  inputs: string[],
  flags: EnrollFlags,
  renames: { from: string; to: string }[],
): Promise<void> {
  const threshold = flags.threshold !== undefined ? Number(flags.threshold) : undefined;
  // A snapshot, for the model to use and the images already enrolled. The update below
  // decides on the store as it is then, keeping other processes' changes made meanwhile.
  const snapshot = await store.info();
  const run = inputs.length > 0 ? await embedInputs(store, snapshot, inputs, flags) : undefined;
  if (!snapshot && !run) throw new ConfigError('inputs', 'nothing to do: give images or folders to enroll');
  const { enrollmentSourceKey } = await import('../../recognition/enroll.js');
  const result = await store.update({
    // A gallery that vanished since the snapshot is not silently re-created.
    ...(snapshot ? {} : { create: run!.create }),
    remove: flags.remove,
    rename: renames,
    enroll: run ? await entriesOf(run.embedded) : [],
    skipEnrolledSources: true,
    ...(threshold !== undefined ? { threshold } : {}),
  });
  const skippedKeys = new Set(result.skipped.map((s) => `${s.name}\0${s.source}`));
  const enrolled: EnrollSource[] = (run?.embedded ?? [])
    .map((e) => e.source)
    .filter((s) => !skippedKeys.has(`${s.name}\0${enrollmentSourceKey(s.path)}`));
  const changes = [
    ...flags.remove.map((name) => `removed ${name}`),
    ...renames.map(({ from, to }) => `renamed ${from} to ${to}`),
    ...(threshold !== undefined ? [`threshold ${result.info.threshold}`] : []),
  ];
  const failed = run?.failed ?? [];
  const skipped = run ? run.listed - run.embedded.length - failed.length + result.skipped.length : 0;
  const identities = await store.identities();
  const size = identities.reduce((s, i) => s + i.count, 0);
  const summary = {
    gallery: flags.gallery,
    identities: identities.map((i) => ({ name: i.name, embeddings: i.count })),
    enrolled,
    failed,
    skipped,
    ignored: run?.ignored ?? [],
    changes,
  };
  if (flags.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    const lines = [
      `${flags.gallery}: ${identities.length} identities, ${size} embeddings (${result.info.metric}, threshold ${result.info.threshold})`,
    ];
    if (run) lines.push(`enrolled ${enrolled.length} image(s), ${failed.length} failed, ${skipped} already enrolled`);
    for (const c of changes) lines.push(`  ${c}`);
    for (const i of summary.identities) lines.push(`  ${i.name}: ${i.embeddings}`);
    process.stdout.write(lines.join('\n') + '\n');
  }
  for (const f of failed) process.stderr.write(`tfjs-facenet: ${f.path}: ${f.reason}\n`);
  if (run) process.exitCode = batchExitCode(run.listed, failed.length);
}

/** Embed the images of `inputs` that the gallery does not already hold under their identity. */
async function embedInputs(
  store: GalleryStore,
  snapshot: Awaited<ReturnType<GalleryStore['info']>>,
  inputs: string[],
  flags: EnrollFlags,
): Promise<Embedded> {
  const { modelFolder } = await import('../../recognition/models.js');
  const modelDir = await modelFolder(flags.model ?? snapshot?.modelLocation ?? 'default');
  const { checkMetric } = await import('../../gallery/metric.js');
  const { initBackend } = await import('../../runtime/backend.js');
  await initBackend();
  const { loadFacenetEmbedder } = await import('../../recognition/load.js');
  const { listEnrollmentSources, embedEnrollment, enrollmentSourceKey } = await import('../../recognition/enroll.js');
  const { assertGalleryMatchesEmbedder } = await import('../../recognition/identify.js');
  const { startProgress } = await import('../../util/progress.js');
  const workers = parseInteger('--workers', flags.workers, 1);
  const listed = await listEnrollmentSources(inputs, { name: flags.name });
  const embedder = await loadFacenetEmbedder({
    modelDir,
    detectorOptions: detectorOptionsFrom(flags),
    preprocessing: !snapshot && flags.margin !== undefined ? { margin: parseMargin(flags.margin) } : snapshot?.preprocessing ?? undefined,
  });
  try {
    if (snapshot) assertGalleryMatchesEmbedder(snapshot, embedder, flags.gallery);
    const metric = checkMetric(flags.metric ?? 'squared-euclidean');
    const create: GalleryOptions = {
      dimension: embedder.dimension,
      metric,
      // The model's own threshold (its calibration.json) is in squared Euclidean distance.
      threshold: metric === 'squared-euclidean' ? embedder.calibration?.threshold : undefined,
      fingerprint: embedder.fingerprint,
      preprocessing: { ...embedder.preprocessing },
      modelLocation: resolve(modelDir),
    };
    const held = snapshot ? await store.sourcesOf(listed.sources.map((s) => s.name)) : new Map<string, string[]>();
    const todo = listed.sources.filter((s) => !held.get(s.name)?.includes(enrollmentSourceKey(s.path)));
    // Workers embed with the preprocessing this thread's embedder resolved (the gallery's, or a new one's).
    const poolSize = Math.min(workers, todo.length);
    const pool =
      poolSize > 1
        ? await (await import('../../recognition/face-pool.js')).FacePool.start({
            workers: poolSize,
            model: modelDir,
            detector: detectorOptionsFrom(flags),
            preprocessing: { ...embedder.preprocessing },
          })
        : null;
    const progress = startProgress('enroll', todo.length);
    try {
      const { embedded, failed } = await embedEnrollment(pool ? (path) => pool.embed(path) : embedder, todo, {
        window: pool ? 4 * poolSize : 1,
        onProgress: () => progress.tick(1),
      });
      return { create, embedded, failed, listed: listed.sources.length, ignored: listed.ignored };
    } finally {
      progress.stop();
      await pool?.close();
    }
  } finally {
    embedder.dispose();
  }
}

/**
 * Store entries of a run's embeddings: each under its identity, with the image's absolute
 * path as source (what makes a repeat run add nothing) and its SHA-256 (kept by database stores).
 */
async function entriesOf(embedded: readonly EnrolledEmbedding[]): Promise<EnrollEntry[]> {
  const { createHash } = await import('node:crypto');
  const { enrollmentSourceKey } = await import('../../recognition/enroll.js');
  return Promise.all(
    embedded.map(async ({ source, embedding }) => ({
      name: source.name,
      embeddings: [embedding],
      sources: [enrollmentSourceKey(source.path)],
      imageHashes: [createHash('sha256').update(await readFile(source.path)).digest('hex')],
    })),
  );
}
