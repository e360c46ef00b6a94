/**
 * A lock file beside a data file, so that processes sharing the file (two `enroll` runs, a
 * library user and the CLI) take turns at read-modify-write. Node only.
 *
 * The lock is `<path>.lock`, created with O_EXCL (exactly one creator wins) and holding the
 * owner's host, pid, start time and a random token. A lock is stale when its owner is gone
 * (same host, pid no longer running) or it is older than `staleMs`; a stale lock is moved
 * aside by rename — which only one process can do to a given file — and checked to be the
 * one judged stale before it is deleted, so a fresh lock is never broken by mistake.
 */
import { LockTimeoutError } from '../errors.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Give up after waiting this long (ms). Default 60 000. */
  timeoutMs?: number;
  /** A lock older than this (ms) is stale even when its owner cannot be checked. Default 120 000. */
  staleMs?: number;
  /** Poll interval while waiting (ms). Default 25–75, randomised so waiters do not march in step. */
  pollMs?: number;
}

/** What a lock file holds. */
interface LockOwner {
  host: string;
  pid: number;
  time: number;
  token: string;
}

/** The lock file that guards `path`. */
export function lockPathOf(path: string): string {
  return `${path}.lock`;
}

/** Whether a process with this pid exists (a lock file's owner, for stale-lock recovery). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o.pid === 'number' && typeof o.token === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Whether the lock described by `owner` (file modified at `mtimeMs`) is stale. */
function isStale(owner: LockOwner | null, mtimeMs: number, host: string, staleMs: number, now: number): boolean {
  if (now - mtimeMs > staleMs) return true;
  // A lock being written (empty or partial content) is young: not stale.
  if (!owner) return false;
  return owner.host === host && owner.pid !== process.pid && !isAlive(owner.pid);
}

/** A lock taken by {@link acquireFileLock}. */
export interface FileLock {
  /** The lock file. */
  readonly lockPath: string;
  /** Remove the lock file if it is still this holder's (it may have been judged stale and broken). */
  release(): Promise<void>;
}

/**
 * Take the lock of `path`, waiting up to `timeoutMs` (0: one attempt, plus one after breaking
 * a stale lock). Long holders (a writer open for hours) pass `staleMs: Infinity`, so only a
 * dead owner's lock is broken.
 * @throws {LockTimeoutError} when the lock could not be taken in time.
 */
export async function acquireFileLock(path: string, opts: FileLockOptions = {}): Promise<FileLock> {
  const { fsp, os, crypto, path: nodePath } = nodeBuiltins('locking files');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const staleMs = opts.staleMs ?? 120_000;
  const lockPath = lockPathOf(path);
  const host = os.hostname();
  const me: LockOwner = { host, pid: process.pid, time: Date.now(), token: crypto.randomBytes(8).toString('hex') };
  await fsp.mkdir(nodePath.dirname(lockPath), { recursive: true });
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await fsp.open(lockPath, 'wx');
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const broken = await breakIfStale(lockPath, host, staleMs);
    if (broken && attempt === 0) continue;
    if (Date.now() - started >= timeoutMs) {
      let holder = 'unknown';
      try {
        holder = (await fsp.readFile(lockPath, 'utf8')) || holder;
      } catch {
        // released meanwhile; report as unknown
      }
      throw new LockTimeoutError(lockPath, Date.now() - started, holder);
    }
    const poll = opts.pollMs ?? 25 + Math.random() * 50;
    await new Promise((r) => setTimeout(r, poll));
  }
  return {
    lockPath,
    async release() {
      try {
        const owner = parseOwner(await fsp.readFile(lockPath, 'utf8'));
        if (owner?.token === me.token) await fsp.rm(lockPath, { force: true });
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Run `fn` while holding the lock of `path`; the lock is released afterwards, also when
 * `fn` throws.
 * @throws {LockTimeoutError} when the lock could not be taken within `timeoutMs`.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const lock = await acquireFileLock(path, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Remove the lock at `lockPath` when it is stale; whether one was removed. */
async function breakIfStale(lockPath: string, host: string, staleMs: number): Promise<boolean> {
  const { fsp, crypto } = nodeBuiltins('locking files');
  let text: string;
  let mtimeMs: number;
  try {
    text = await fsp.readFile(lockPath, 'utf8');
    mtimeMs = (await fsp.stat(lockPath)).mtimeMs;
  } catch {
    return false; // released meanwhile
  }
  const owner = parseOwner(text);
  if (!isStale(owner, mtimeMs, host, staleMs, Date.now())) return false;
  const aside = `${lockPath}.stale.${crypto.randomBytes(4).toString('hex')}`;
  try {
    await fsp.rename(lockPath, aside);
  } catch {
    return false; // someone else moved it first
  }
  // Between reading and renaming, another process may have broken the stale lock and taken a
  // fresh one; if what was moved is not the lock judged stale, put it back (link fails if a
  // newer lock exists, in which case that one stands).
  const moved = await fsp.readFile(aside, 'utf8').catch(() => '');
  if (moved !== text) await fsp.link(aside, lockPath).catch(() => undefined);
  await fsp.rm(aside, { force: true });
  return moved === text;
}
