/** Running an example program (TypeScript, through tsx) as a child process, as a user would. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root (examples resolve `tfjs-facenet` through its tsconfig). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ExampleRun {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the process has exited. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Everything printed on stdout so far. */
  stdout(): string;
}

/** Start `examples/<script>` with `args`. */
export function runExample(script: string, args: string[], env: NodeJS.ProcessEnv = {}): ExampleRun {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${script}`, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, stdout: () => stdout };
}
