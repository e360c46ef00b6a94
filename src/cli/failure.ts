/**
 * How the `tfjs-facenet` command reports a failure: one line naming the problem on stderr
 * and an exit code from the table in `exit-codes.ts`; the stack only with `--verbose`.
 * Pure functions, so the mapping is tested without starting a process.
 */
import { ConfigError, FacenetError } from '../errors.js';
import { EXIT, type ExitCode } from './exit-codes.js';

/** Commander's own errors (unknown option, missing argument, …) carry a `code` starting with `commander.`. */
interface CommanderLike {
  code: string;
  exitCode: number;
}

function isCommanderError(e: unknown): e is CommanderLike {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('commander.');
}

/**
 * The exit code of a failure: bad flags or arguments → usage (2); any other error of the
 * library (a missing file, a damaged model, an image without a face, …) → nothing could be
 * done (3); anything else is a bug → internal (4). Commander's help and version "errors"
 * exit 0.
 */
export function exitCodeOf(e: unknown): ExitCode {
  if (isCommanderError(e)) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (e instanceof ConfigError) return EXIT.USAGE;
  if (e instanceof FacenetError) return EXIT.NOTHING_DONE;
  return EXIT.INTERNAL;
}

/** The first line of a message, trimmed: some errors (the wasm runtime's) span pages. */
function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line.trim();
}

/**
 * What to print for a failure, newline-terminated; empty for commander's errors, which it
 * has already printed itself. Library errors print their message; others are named as an
 * internal error, with a hint to rerun with `--verbose` (which adds the stack).
 */
export function failureReport(e: unknown, verbose: boolean): string {
  if (isCommanderError(e)) return '';
  const err = e instanceof Error ? e : new Error(String(e));
  const head =
    e instanceof FacenetError
      ? `tfjs-facenet: ${firstLine(err.message)}`
      : `tfjs-facenet: internal error: ${err.name}: ${firstLine(err.message)}${verbose ? '' : ' (run with --verbose for the stack)'}`;
  if (!verbose) return `${head}\n`;
  return `${head}\n${err.stack ?? ''}\n`;
}
