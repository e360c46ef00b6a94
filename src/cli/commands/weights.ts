/**
 * `tfjs-facenet weights …`: download the MTCNN weight files into the cache, show where
 * each set is found, and verify the files against the pinned checksums.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { EXIT } from '../exit-codes.js';
import { WEIGHT_SET_NAMES, weightSet, type WeightSetName } from '../../weights/catalog.js';
import { defaultCacheDir, downloadWeights, resolveWeightsDir, verifyWeights } from '../../weights/download.js';
import { startProgress } from '../../util/progress.js';

/** `caffe`, `faceapi`, `seed` → that set; `all` (or nothing) → every set. */
function parseSets(arg: string | undefined): WeightSetName[] {
  if (arg === undefined || arg === 'all') return [...WEIGHT_SET_NAMES];
  if (!WEIGHT_SET_NAMES.includes(arg as WeightSetName)) {
    throw new ConfigError('set', `unknown weight set "${arg}" (one of ${WEIGHT_SET_NAMES.join(', ')}, all)`);
  }
  return [arg as WeightSetName];
}

function formatBytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} B`;
}

export function register(program: Command): void {
  const weights = program.command('weights').description('download, locate and verify the MTCNN weight files');

  weights
    .command('download')
    .description('download weight sets from their original repositories into the cache, checking SHA-256')
    .argument('[set]', `weight set: ${WEIGHT_SET_NAMES.join(', ')} or all`, 'all')
    .option('--cache <dir>', 'cache root (default: $TFJS_FACENET_CACHE, else $XDG_CACHE_HOME/tfjs-facenet, else ~/.cache/tfjs-facenet)')
    .option('--base-url <url>', 'mirror with the layout <url>/<owner>/<repo>/<commit>/<path> (default: GitHub raw host)')
    .action(async (setArg: string, opts: { cache?: string; baseUrl?: string }) => {
      for (const set of parseSets(setArg)) {
        const total = weightSet(set).files.reduce((s, f) => s + f.bytes, 0);
        const bar = startProgress(`weights ${set}`, total);
        const seen = new Map<string, number>();
        let result;
        try {
          result = await downloadWeights({
            set,
            cacheDir: opts.cache,
            baseUrl: opts.baseUrl,
            onProgress: (p) => {
              const before = seen.get(p.file) ?? 0;
              seen.set(p.file, p.receivedBytes);
              bar.tick(p.receivedBytes - before, { file: p.file });
            },
          });
        } finally {
          bar.stop();
        }
        const fetched = result.files.filter((f) => f.fetched).length;
        process.stdout.write(
          `${set}: ${result.dir} (${result.files.length} files, ${formatBytes(total)}; ` +
            `${fetched} fetched, ${result.files.length - fetched} already cached)\n`,
        );
      }
    });

  weights
    .command('path')
    .description('print the folder each weight set is loaded from, and the cache folder')
    .argument('[set]', `weight set: ${WEIGHT_SET_NAMES.join(', ')} or all`, 'all')
    .option('--weights <dir>', 'weights folder to look in first (default: $TFJS_FACENET_WEIGHTS)')
    .option('--cache <dir>', 'cache root to look in last')
    .action(async (setArg: string, opts: { weights?: string; cache?: string }) => {
      let missing = 0;
      for (const set of parseSets(setArg)) {
        try {
          const dir = await resolveWeightsDir(set, { weightsDir: opts.weights, cacheDir: opts.cache });
          process.stdout.write(`${set}\t${dir}\n`);
        } catch (e) {
          missing++;
          const explicit = opts.weights !== undefined || !!process.env.TFJS_FACENET_WEIGHTS;
          const why = explicit ? (e as Error).message : `run \`tfjs-facenet weights download ${set}\``;
          process.stdout.write(`${set}\t(not found; ${why})\n`);
        }
      }
      process.stdout.write(`cache\t${opts.cache ?? (await defaultCacheDir())}\n`);
      if (missing > 0 && setArg !== 'all') process.exitCode = 1;
    });

  weights
    .command('verify')
    .description('check sizes and SHA-256 of the weight files where each set is found (exit 1 on any mismatch, 3 when no set is found)')
    .argument('[set]', `weight set: ${WEIGHT_SET_NAMES.join(', ')} or all`, 'all')
    .option('--weights <dir>', 'weights folder to check (default: where `weights path` finds each set)')
    .option('--cache <dir>', 'cache root to look in last')
    .action(async (setArg: string, opts: { weights?: string; cache?: string }) => {
      let bad = 0;
      let verified = 0;
      for (const set of parseSets(setArg)) {
        let dir: string;
        try {
          dir = await resolveWeightsDir(set, { weightsDir: opts.weights, cacheDir: opts.cache });
        } catch (e) {
          // A set that is not installed anywhere fails only when it was asked for by name.
          if (setArg !== 'all') bad++;
          process.stdout.write(`${set}: not installed (${(e as Error).message})\n`);
          continue;
        }
        const checks = await verifyWeights(set, dir);
        verified++;
        const failed = checks.filter((c) => c.status !== 'ok');
        bad += failed.length;
        process.stdout.write(`${set}: ${dir}: ${checks.length - failed.length}/${checks.length} ok\n`);
        for (const c of failed) {
          const detail = c.status === 'size' ? ` (${c.actual} bytes)` : c.status === 'checksum' ? ` (sha256 ${c.actual})` : '';
          process.stdout.write(`  ${c.name}: ${c.status}${detail}\n`);
        }
      }
      if (verified === 0) {
        process.stderr.write('tfjs-facenet: no weight set found to verify\n');
        process.exitCode = EXIT.NOTHING_DONE;
      } else if (bad > 0) process.exitCode = EXIT.SOME_FAILED;
    });
}
