/**
 * What a newcomer meets first, checked without packing: the CLI's failure report and exit
 * codes, the detector loading its shipped weights from any working directory, symbolic
 * links in identity folders. (The packed tarball itself: test/pack.test.ts.)
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError, FileNotFoundError, NoFaceError } from '../src/errors.js';
import { EXIT } from '../src/cli/exit-codes.js';
import { exitCodeOf, failureReport } from '../src/cli/failure.js';
import { listFolder, listIdentityFolders } from '../src/datasets/folders.js';
import { listEnrollmentSources } from '../src/recognition/enroll.js';
import { loadMtcnn } from '../src/mtcnn/detector.js';
import { disposeParams, loadMtcnnParams } from '../src/mtcnn/weights.js';
import { countLeaks, setupBackend, sharedPath } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'facenet-newcomer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The error commander throws for an unknown option, caught from a real parse. */
function commanderError(args: string[]): unknown {
  const p = new Command('x').exitOverride().configureOutput({ writeErr: () => {} }).option('--a');
  try {
    p.parse(args, { from: 'user' });
  } catch (e) {
    return e;
  }
  throw new Error('parse did not fail');
}

describe('CLI failure report', () => {
  it('maps usage errors to 2, library errors to 3, anything else to 4, help and version to 0', () => {
    expect(exitCodeOf(commanderError(['--nope']))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(EXIT.OK);
    expect(exitCodeOf(new ConfigError('--top-k', 'must be an integer ≥ 1, got 0'))).toBe(EXIT.USAGE);
    expect(exitCodeOf(new FileNotFoundError('/x/lfw', 'LFW image folder'))).toBe(EXIT.NOTHING_DONE);
    expect(exitCodeOf(new NoFaceError('a.jpg'))).toBe(EXIT.NOTHING_DONE);
    expect(exitCodeOf(new TypeError('x is undefined'))).toBe(EXIT.INTERNAL);
    expect(exitCodeOf('a string was thrown')).toBe(EXIT.INTERNAL);
  });

  it('prints one line; an internal error says so and hints at --verbose, which adds the stack', () => {
    expect(failureReport(new FileNotFoundError('/x/lfw', 'LFW image folder'), false)).toBe('tfjs-facenet: LFW image folder not found: /x/lfw\n');
    // A many-line message (the wasm runtime's aborts span pages) is cut to its first line.
    const wasm = new Error(`RuntimeError: unreachable\n${'x'.repeat(40_000)}`);
    const quiet = failureReport(wasm, false);
    expect(quiet).toBe('tfjs-facenet: internal error: Error: RuntimeError: unreachable (run with --verbose for the stack)\n');
    const loud = failureReport(wasm, true).split('\n');
    expect(loud[0]).toBe('tfjs-facenet: internal error: Error: RuntimeError: unreachable');
    expect(loud.slice(1).join('\n')).toBe(`${wasm.stack}\n`);
    // Commander has already printed its own message.
    expect(failureReport(commanderError(['--nope']), false)).toBe('');
  });
});

describe('the shipped MTCNN weights', () => {
  it('load with no arguments from any working directory, and detect the same faces as the caffe set', async () => {
    await setupBackend();
    const cwd = process.cwd();
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const leaked = await countLeaks(async () => {
      process.chdir(elsewhere); // no ../shared, no models/ here
      let shipped;
      try {
        const params = await loadMtcnnParams();
        expect(params.source).toBe(join(repoRoot, 'models', 'mtcnn', 'mtcnn_model-weights_manifest.json'));
        disposeParams(params);
        shipped = await loadMtcnn();
      } finally {
        process.chdir(cwd);
      }
      const caffe = await loadMtcnn({ weights: 'caffe' });
      try {
        expect(shipped.weightsFormat).toBe('faceapi');
        const image = sharedPath('data/samples/groups/bbt2.jpg');
        const a = await shipped.detect(image);
        const b = await caffe.detect(image);
        expect(a.length).toBeGreaterThan(0);
        // The same numbers in another file format: identical detections.
        expect(a).toEqual(b);
      } finally {
        shipped.dispose();
        caffe.dispose();
      }
    });
    expect(leaked).toBe(0);
  });
});

describe('identity folders reached through symbolic links', () => {
  it('are listed and enrolled like real folders; broken links are ignored', async () => {
    const real = join(work, 'real-amy');
    mkdirSync(real);
    writeFileSync(join(real, 'amy1.png'), 'x');
    writeFileSync(join(real, 'notes.txt'), 'x');
    const people = join(work, 'people');
    mkdirSync(join(people, 'raj'), { recursive: true });
    writeFileSync(join(people, 'raj', 'raj1.png'), 'x');
    symlinkSync(real, join(people, 'amy'), 'dir');
    symlinkSync(join(work, 'gone'), join(people, 'broken'));
    symlinkSync(join(real, 'amy1.png'), join(people, 'raj', 'raj2.png'));

    expect((await listFolder(people)).map((e) => [e.name, e.kind])).toEqual([
      ['amy', 'dir'],
      ['broken', 'other'],
      ['raj', 'dir'],
    ]);
    const listed = await listIdentityFolders(people);
    expect(listed.classes).toEqual([
      { name: 'amy', images: [join(people, 'amy', 'amy1.png')] },
      { name: 'raj', images: [join(people, 'raj', 'raj1.png'), join(people, 'raj', 'raj2.png')] },
    ]);
    expect(listed.ignored).toEqual([join(people, 'amy', 'notes.txt')]);
    const { sources, ignored } = await listEnrollmentSources([people]);
    expect(sources).toEqual([
      { name: 'amy', path: join(people, 'amy', 'amy1.png') },
      { name: 'raj', path: join(people, 'raj', 'raj1.png') },
      { name: 'raj', path: join(people, 'raj', 'raj2.png') },
    ]);
    expect(ignored).toEqual([join(people, 'amy', 'notes.txt'), join(people, 'broken')]);
  });
});
