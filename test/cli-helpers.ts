/** Running the command-line tool from the tests. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { sharedDir } from './helpers.js';

/** What a CLI run left behind: exit code (1 when the process failed without one) and its output. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI from source through tsx, exactly as a user would run the built dist/cli.js,
 * with the shared data folder of this test run (`TFJS_FACENET_SHARED`) unless `env` says
 * otherwise. Asynchronous, so a server in the test process keeps answering meanwhile.
 */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { maxBuffer: 16 << 20, env: { ...process.env, TFJS_FACENET_SHARED: sharedDir(), ...env } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A CLI run with the child's peak resident set size. */
export interface MeasuredCliResult extends CliResult {
  maxRssMiB: number;
}

/**
 * {@link runCli}, measuring the child's peak resident set size with GNU time
 * (`/usr/bin/time -v`) when the machine has it, else with a preloaded reporter of the
 * process's own `maxRSS` (test/fixtures/report-max-rss.mjs).
 */
export function runCliMeasured(args: string[]): Promise<MeasuredCliResult> {
  const stats = join(tmpdir(), `cli-time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const gnuTime = existsSync('/usr/bin/time');
  const node = [process.execPath, ...(gnuTime ? [] : ['--import', resolvePath('test/fixtures/report-max-rss.mjs')]), '--import', 'tsx', 'src/cli/main.ts', ...args];
  const [command, ...rest] = gnuTime ? ['/usr/bin/time', '-v', '-o', stats, ...node] : node;
  return new Promise((done) => {
    execFile(command, rest, { maxBuffer: 16 << 20, env: { ...process.env, TFJS_FACENET_SHARED: sharedDir() } }, async (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let kib: number;
      if (gnuTime) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(await readFile(stats, 'utf8').catch(() => ''));
        kib = m ? Number(m[1]) : NaN;
        await rm(stats, { force: true });
      } else {
        const m = /max-rss-kib (\d+)\n/.exec(stderr);
        kib = m ? Number(m[1]) : NaN;
        stderr = stderr.replace(/max-rss-kib \d+\n/, '');
      }
      done({ code, stdout, stderr, maxRssMiB: kib / 1024 });
    });
  });
}
