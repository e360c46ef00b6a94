/**
 * `tfjs-facenet enroll --gallery FILE <folders or images...>`: add people to a gallery
 * file (created when missing), or remove / rename identities.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
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
    const { loadGallery, saveGallery } = await import('../../gallery/file.js');
    const { Gallery } = await import('../../gallery/gallery.js');
    const { checkMetric } = await import('../../gallery/metric.js');
    const exists = existsSync(flags.gallery);
    let gallery = exists ? await loadGallery(flags.gallery) : null;
    const changes: string[] = [];
    for (const name of flags.remove) {
      if (!gallery || !gallery.remove(name)) throw new ConfigError('--remove', `no identity named "${name}" in ${flags.gallery}`);
      changes.push(`removed ${name}`);
    }
    for (const spec of flags.rename) {
      const [from, to, ...rest] = spec.split('=');
      if (!from || !to || rest.length) throw new ConfigError('--rename', `expected old=new, got '${spec}'`);
      if (!gallery) throw new ConfigError('--rename', `${flags.gallery} does not exist`);
      gallery.rename(from, to);
      changes.push(`renamed ${from} to ${to}`);
    }
    let report: Awaited<ReturnType<typeof import('../../recognition/enroll.js').enrollImages>> | undefined;
    let ignored: string[] = [];
    if (inputs.length > 0) {
      const { modelFolder } = await import('../../recognition/models.js');
      const modelDir = await modelFolder(flags.model ?? gallery?.modelLocation ?? 'default');
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
        preprocessing: !gallery && flags.margin !== undefined ? { margin: parseMargin(flags.margin) } : gallery?.preprocessing ?? undefined,
      });
      try {
        if (!gallery) {
          const metric = checkMetric(flags.metric ?? 'squared-euclidean');
          gallery = Gallery.create({
            dimension: embedder.dimension,
            metric,
            // The model's own threshold (its calibration.json) is in squared Euclidean distance.
            threshold: metric === 'squared-euclidean' ? embedder.calibration?.threshold : undefined,
            fingerprint: embedder.fingerprint,
            preprocessing: { ...embedder.preprocessing },
            modelLocation: resolve(modelDir),
          });
        }
        const progress = startProgress('enroll', listed.sources.length);
        try {
          report = await enrollImages(gallery, embedder, listed.sources, { onProgress: () => progress.tick(1) });
        } finally {
          progress.stop();
        }
      } finally {
        embedder.dispose();
      }
    }
    if (!gallery) throw new ConfigError('inputs', 'nothing to do: give images or folders to enroll');
    if (flags.threshold !== undefined) {
      gallery.threshold = Number(flags.threshold);
      changes.push(`threshold ${gallery.threshold}`);
    }
    await saveGallery(gallery, flags.gallery);
    const summary = {
      gallery: flags.gallery,
      identities: gallery.identities.map((name) => ({ name, embeddings: gallery!.count(name) })),
      enrolled: report?.enrolled ?? [],
      failed: report?.failed ?? [],
      ignored,
      changes,
    };
    if (flags.json) {
      process.stdout.write(JSON.stringify(summary) + '\n');
    } else {
      const lines = [
        `${flags.gallery}: ${gallery.identities.length} identities, ${gallery.size} embeddings (${gallery.metric}, threshold ${gallery.threshold})`,
      ];
      if (report) lines.push(`enrolled ${report.enrolled.length} image(s), ${report.failed.length} failed`);
      for (const f of report?.failed ?? []) lines.push(`  failed ${f.path}: ${f.reason}`);
      for (const c of changes) lines.push(`  ${c}`);
      for (const i of summary.identities) lines.push(`  ${i.name}: ${i.embeddings}`);
      process.stdout.write(lines.join('\n') + '\n');
    }
  });
}
