/** Running the command-line tool from the tests. */
import { execFile } from 'node:child_process';
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
