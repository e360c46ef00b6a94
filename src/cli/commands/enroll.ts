/**
 * `tfjs-facenet enroll --gallery FILE <folders or images...>`: add people to a gallery
 * file (created when missing), or remove / rename identities.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { batchExitCode } from '../exit-codes.js';
import type { Gallery as GalleryT } from '../../gallery/gallery.js';
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
      'enroll people into a gallery file: a folder of folders (one per person), a folder of images named after the ' +
        'people, or single images (named after the file, or --name)',
    )
    .argument('[inputs...]', 'folders or images')
    .requiredOption('--gallery <file>', 'gallery file (created when it does not exist)')
    .option('--model <name|dir>', 'recognition model: a shipped one by name (default, dlib) or a model folder (default: the gallery\'s own, else default)')
    .option('--name <identity>', 'enroll every image given under this name')
    .option('--metric <m>', 'new gallery: squared-euclidean, cosine or mean-squared', 'squared-euclidean')
    .option('--threshold <t>', 'set the decision threshold stored in the gallery')
    .option('--margin <px>', "override the model's crop margin (new gallery only)")
    .option('--remove <identity>', 'remove an identity (repeatable)', collect, [])
    .option('--rename <old=new>', 'rename an identity (repeatable)', collect, [])
    .option('--json', 'print the report as JSON');
  addDetectorOptions(cmd).action(async (inputs: string[], flags: EnrollFlags) => {
    const { loadGallery, updateGallery } = await import('../../gallery/file.js');
    const { Gallery } = await import('../../gallery/gallery.js');
    const { checkMetric } = await import('../../gallery/metric.js');
    const { addEnrolled, isEnrolled } = await import('../../recognition/enroll.js');
    type Enroll = typeof import('../../recognition/enroll.js');
    const renames = flags.rename.map((spec) => {
      const [from, to, ...rest] = spec.split('=');
      if (!from || !to || rest.length) throw new ConfigError('--rename', `expected old=new, got '${spec}'`);
      return { from, to };
    });
    const threshold = flags.threshold !== undefined ? Number(flags.threshold) : undefined;
    // A snapshot of the gallery, for the model to use and the images already enrolled. The
    // file is read again under its lock before it is written, so that other processes'
    // changes made meanwhile are kept.
    const snapshot = existsSync(flags.gallery) ? await loadGallery(flags.gallery) : null;
    let newGallery: (() => GalleryT) | undefined;
    let embedded: Awaited<ReturnType<Enroll['embedEnrollment']>>['embedded'] = [];
    let failed: Awaited<ReturnType<Enroll['embedEnrollment']>>['failed'] = [];
    let ignored: string[] = [];
    let listedCount = 0;
    if (inputs.length > 0) {
      const { modelFolder } = await import('../../recognition/models.js');
      const modelDir = await modelFolder(flags.model ?? snapshot?.modelLocation ?? 'default');
      const { initBackend } = await import('../../runtime/backend.js');
      await initBackend();
      const { loadFacenetEmbedder } = await import('../../recognition/load.js');
      const { listEnrollmentSources, embedEnrollment } = await import('../../recognition/enroll.js');
      const { assertGalleryMatchesEmbedder } = await import('../../recognition/identify.js');
      const { startProgress } = await import('../../util/progress.js');
      const listed = await listEnrollmentSources(inputs, { name: flags.name });
      ignored = listed.ignored;
      listedCount = listed.sources.length;
      const embedder = await loadFacenetEmbedder({
        modelDir,
        detectorOptions: detectorOptionsFrom(flags),
        preprocessing: !snapshot && flags.margin !== undefined ? { margin: parseMargin(flags.margin) } : snapshot?.preprocessing ?? undefined,
      });
      try {
        if (snapshot) assertGalleryMatchesEmbedder(snapshot, embedder, flags.gallery);
        const metric = checkMetric(flags.metric ?? 'squared-euclidean');
        const model = {
          dimension: embedder.dimension,
          metric,
          // The model's own threshold (its calibration.json) is in squared Euclidean distance.
          threshold: metric === 'squared-euclidean' ? embedder.calibration?.threshold : undefined,
          fingerprint: embedder.fingerprint,
          preprocessing: { ...embedder.preprocessing },
          modelLocation: resolve(modelDir),
        };
        newGallery = () => Gallery.create(model);
        const todo = snapshot ? listed.sources.filter((s) => !isEnrolled(snapshot, s)) : listed.sources;
        const progress = startProgress('enroll', todo.length);
        try {
          ({ embedded, failed } = await embedEnrollment(embedder, todo, { onProgress: () => progress.tick(1) }));
        } finally {
          progress.stop();
        }
      } finally {
        embedder.dispose();
      }
    }
    if (!snapshot && !newGallery) throw new ConfigError('inputs', 'nothing to do: give images or folders to enroll');
    const changes: string[] = [];
    let added: ReturnType<Enroll['addEnrolled']> = { added: [], skipped: [] };
    const gallery = await updateGallery(flags.gallery, (current) => {
      const g = current ?? newGallery?.();
      if (!g) throw new ConfigError('--gallery', `${flags.gallery} no longer exists`);
      if (current && newGallery && snapshot === null) {
        // Another process created the gallery meanwhile: it must be of the same model.
        const fresh = newGallery();
        if (current.fingerprint !== fresh.fingerprint || current.dimension !== fresh.dimension) {
          throw new ConfigError('--gallery', `${flags.gallery} was created meanwhile with another model`);
        }
      }
      for (const name of flags.remove) {
        if (!g.remove(name)) throw new ConfigError('--remove', `no identity named "${name}" in ${flags.gallery}`);
        changes.push(`removed ${name}`);
      }
      for (const { from, to } of renames) {
        g.rename(from, to);
        changes.push(`renamed ${from} to ${to}`);
      }
      added = addEnrolled(g, embedded);
      if (threshold !== undefined) {
        g.threshold = threshold;
        changes.push(`threshold ${g.threshold}`);
      }
      return g;
    });
    const enrolled = added.added;
    const skipped = listedCount - embedded.length - failed.length + added.skipped.length;
    const summary = {
      gallery: flags.gallery,
      identities: gallery.identities.map((name) => ({ name, embeddings: gallery.count(name) })),
      enrolled,
      failed,
      skipped,
      ignored,
      changes,
    };
    if (flags.json) {
      process.stdout.write(JSON.stringify(summary) + '\n');
    } else {
      const lines = [
        `${flags.gallery}: ${gallery.identities.length} identities, ${gallery.size} embeddings (${gallery.metric}, threshold ${gallery.threshold})`,
      ];
      if (inputs.length > 0) {
        lines.push(`enrolled ${enrolled.length} image(s), ${failed.length} failed, ${skipped} already enrolled`);
      }
      for (const c of changes) lines.push(`  ${c}`);
      for (const i of summary.identities) lines.push(`  ${i.name}: ${i.embeddings}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
    for (const f of failed) process.stderr.write(`tfjs-facenet: ${f.path}: ${f.reason}\n`);
    if (inputs.length > 0) process.exitCode = batchExitCode(listedCount, failed.length);
  });
}

