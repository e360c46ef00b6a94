/**
 * The `tfjs-facenet` command-line program. Each sub-command lives in its own module
 * under `./commands` and registers itself on the program.
 */
import '../runtime/install-node.js';
import { Command } from 'commander';
import { FacenetError } from '../errors.js';

const program = new Command('tfjs-facenet')
  .description('FaceNet face detection, alignment, training and recognition on TensorFlow.js')
  .option('--backend <name>', 'TensorFlow.js backend: tensorflow, wasm or cpu (default: fastest that loads)')
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

for (const load of commands) (await load()).register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof FacenetError) {
    process.stderr.write(`tfjs-facenet: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
