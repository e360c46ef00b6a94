/**
 * The `tfjs-facenet` command-line program. Each sub-command lives in its own module
 * under `./commands` and registers itself on the program.
 *
 * Every failure ends here: one line on stderr and an exit code from `exit-codes.ts`
 * (`failure.ts` decides which); `--verbose` adds the stack. Without this, an error thrown
 * inside the minified wasm backend made Node print that whole file's source line.
 */
import '../runtime/install-node.js';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { shippedPath } from '../runtime/package-root.js';
import { exitCodeOf, failureReport } from './failure.js';

// Before parsing: a failure while the program is still being set up must honour it too.
const verbose = process.argv.includes('--verbose');

function fail(e: unknown): never {
  process.stderr.write(failureReport(e, verbose));
  process.exit(exitCodeOf(e));
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const version = (JSON.parse(readFileSync(shippedPath('package.json'), 'utf8')) as { version: string }).version;

const program = new Command('tfjs-facenet')
  .description('FaceNet face detection, alignment, training and recognition on TensorFlow.js')
  .version(version, '-V, --version', 'print the version of tfjs-facenet')
  .option('--backend <name>', 'TensorFlow.js backend: tensorflow, wasm or cpu (default: fastest that loads)')
  .option('--verbose', 'on failure, print the stack trace as well')
  .addHelpText(
    'after',
    '\nExit codes: 0 done; 1 some inputs failed (listed on stderr); 2 usage error; 3 nothing could be done ' +
      '(missing or unreadable input, model or gallery); 4 internal error; 130 interrupted.\n' +
      'Every command has its own help: tfjs-facenet <command> --help',
  )
  // Commander's parse errors are thrown to the handler below (exit 2) instead of exiting 1;
  // sub-commands registered afterwards inherit this.
  .exitOverride()
  .hook('preAction', (cmd) => {
    const backend = cmd.opts().backend as string | undefined;
    if (backend) process.env.TFJS_FACENET_BACKEND = backend;
  });

// Sub-commands (each module exports `register(program)`).
const commands: Array<() => Promise<{ register(p: Command): void }>> = [
  () => import('./commands/weights.js'),
  () => import('./commands/detect.js'),
  () => import('./commands/align.js'),
  () => import('./commands/train.js'),
  () => import('./commands/eval-lfw.js'),
  () => import('./commands/enroll.js'),
  () => import('./commands/identify.js'),
  () => import('./commands/gallery.js'),
  () => import('./commands/convert.js'),
  () => import('./commands/embed.js'),
];

try {
  for (const load of commands) (await load()).register(program);
  await program.parseAsync(process.argv);
} catch (e) {
  fail(e);
}
