/** A progress bar for long jobs (stderr, only on a TTY unless forced). Node only. */
import * as nodeModule from 'node:module';

type CliProgress = typeof import('cli-progress');

/**
 * cli-progress, loaded on first use with `require`: a static import would make browser
 * bundles of the library evaluate it (it extends Node's EventEmitter) and fail to load.
 */
function cliProgressModule(): CliProgress {
  return nodeModule.createRequire(import.meta.url)('cli-progress') as CliProgress;
}

export interface Progress {
  /** Advance by `n` (default 1), optionally updating the extra fields shown after the bar. */
  tick(n?: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * Start a progress bar of `total` steps labelled `label`. When stderr is not a terminal
 * (CI, pipes) it prints nothing so that logs stay readable.
 */
export function startProgress(label: string, total: number, opts: { force?: boolean } = {}): Progress {
  const enabled = opts.force || !!process.stderr.isTTY;
  if (!enabled) {
    return { tick() {}, stop() {} };
  }
  const cliProgress = cliProgressModule();
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted} {extra}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { extra: '' });
  let value = 0;
  return {
    tick(n = 1, fields) {
      value += n;
      const extra = fields
        ? Object.entries(fields)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(4) : v}`)
            .join(' ')
        : undefined;
      bar.update(value, extra !== undefined ? { extra } : undefined);
    },
    stop() {
      bar.stop();
    },
  };
}
