/**
 * The exit codes of every `tfjs-facenet` command, in one place (documented in the README's
 * command-line section).
 */
export const EXIT = Object.freeze({
  /** Everything asked for was done. */
  OK: 0,
  /** Some inputs failed (each listed on stderr); the others were processed. */
  SOME_FAILED: 1,
  /** Bad flags or arguments. */
  USAGE: 2,
  /** Nothing could be done with the inputs (e.g. no image enrolled, unreadable gallery or model). */
  NOTHING_DONE: 3,
  /** An unexpected internal error (stack trace with `--verbose`). */
  INTERNAL: 4,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
});

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of a command that processed `total` inputs of which `failed` failed: OK when
 * none failed, SOME_FAILED when some did, NOTHING_DONE when all did or there was no input.
 */
export function batchExitCode(total: number, failed: number): ExitCode {
  if (total === 0) return EXIT.NOTHING_DONE;
  if (failed === 0) return EXIT.OK;
  return failed < total ? EXIT.SOME_FAILED : EXIT.NOTHING_DONE;
}
