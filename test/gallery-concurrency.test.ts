/**
 * Gallery files shared by processes: the lock file (mutual exclusion, stale-lock recovery,
 * time-out), read-modify-write that keeps every writer's changes, and four `enroll`
 * processes on one gallery at once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedPath } from './helpers.js';
import { runCli } from './cli-helpers.js';
import { saveTinyModel } from './tiny-embedder.js';
import { Gallery } from '../src/gallery/gallery.js';
import { loadGallery, saveGallery, updateGallery } from '../src/gallery/file.js';
import { withFileLock, lockPathOf } from '../src/util/file-lock.js';
import { IncompatibleFileError, LockTimeoutError, FileNotFoundError } from '../src/errors.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'gallery-concurrency-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unitVector = (dim: number, i: number) => Float32Array.from({ length: dim }, (_, j) => (j === i % dim ? 1 : 0));

describe('withFileLock', () => {
  it('lets one holder in at a time', async () => {
    const path = join(tmp, 'mutex.dat');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withFileLock(path, async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(20);
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(await readdir(tmp)).not.toContain('mutex.dat.lock');
  });

  it('breaks the lock of a dead process, waits for a live one, and times out naming the lock', async () => {
    const path = join(tmp, 'stale.dat');
    // A process that has exited: its pid is free.
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid: number = await new Promise((r) => child.on('exit', () => r(child.pid!)));
    await writeFile(lockPathOf(path), JSON.stringify({ host: hostname(), pid: deadPid, time: Date.now(), token: 'dead' }));
    expect(await withFileLock(path, async () => 'taken', { timeoutMs: 2000 })).toBe('taken');

    // A live holder (the parent of this process) with a fresh lock is waited for, then given up on.
    await writeFile(lockPathOf(path), JSON.stringify({ host: hostname(), pid: process.ppid, time: Date.now(), token: 'live' }));
    const err = await withFileLock(path, async () => 'no', { timeoutMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect(err.lockPath).toBe(lockPathOf(path));
    expect(err.message).toMatch(/held by another process/);
    // The same lock, once older than staleMs, is stale whoever holds it.
    expect(await withFileLock(path, async () => 'old', { timeoutMs: 2000, staleMs: 0 })).toBe('old');
  });
});

describe('updateGallery', () => {
  it('keeps the changes of every concurrent writer (each re-reads under the lock)', async () => {
    const path = join(tmp, 'shared.gallery');
    const writers = 8;
    await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        updateGallery(path, async (current) => {
          const g = current ?? Gallery.create({ dimension: 4 });
          await sleep(10); // a slow writer: without the lock, the others would overwrite its file
          g.add(`person${i}`, unitVector(4, i), [`/img/${i}.png`]);
          return g;
        }),
      ),
    );
    const g = await loadGallery(path);
    expect(g.identities.sort()).toEqual(Array.from({ length: writers }, (_, i) => `person${i}`).sort());
    for (const name of g.identities) expect(g.count(name)).toBe(1);
    expect((await readdir(tmp)).filter((f) => f.startsWith('shared.gallery'))).toEqual(['shared.gallery']);
  });

  it('refuses a directory or a path through a file, with typed errors', async () => {
    await expect(loadGallery(tmp)).rejects.toBeInstanceOf(IncompatibleFileError);
    await expect(loadGallery(tmp)).rejects.toThrow(/is a directory/);
    const file = join(tmp, 'plain.txt');
    await writeFile(file, 'x');
    await expect(loadGallery(join(file, 'g.gallery'))).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(saveGallery(Gallery.create({ dimension: 2 }), join(tmp, 'ok.gallery'))).resolves.toBeUndefined();
  });
});

describe('four enroll processes on one gallery', () => {
  it('every person is present exactly once, and a repeat run adds nothing', async () => {
    const modelDir = join(tmp, 'model');
    await saveTinyModel(modelDir, 5);
    const gallery = join(tmp, 'four.gallery');
    const people = ['amy', 'howard', 'penny', 'raj'];
    const folder = (p: string) => sharedPath('data', 'samples', 'people', p);
    const images = (p: string) => [join(folder(p), `${p}1.png`), join(folder(p), `${p}2.png`)];
    const runs = await Promise.all(
      people.map((p) => runCli(['enroll', '--gallery', gallery, '--model', modelDir, '--name', p, ...images(p)])),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const g = await loadGallery(gallery);
    expect([...g.identities].sort()).toEqual(people);
    for (const p of people) {
      expect(g.count(p)).toBe(2);
      expect([...g.sourcesOf(p)].sort()).toEqual(images(p).map((f) => resolve(f)));
    }
    const repeat = await runCli(['enroll', '--gallery', gallery, '--name', 'amy', ...images('amy')]);
    expect(repeat.code).toBe(0);
    expect(repeat.stdout).toMatch(/enrolled 0 image\(s\), 0 failed, 2 already enrolled/);
    expect((await loadGallery(gallery)).size).toBe(8);
  }, 600_000);
});
