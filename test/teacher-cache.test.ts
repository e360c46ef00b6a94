/**
 * The teacher-embedding cache: records survive reopening, a torn or damaged tail is cut off
 * (the complete records before it are kept), a killed filling process resumes without
 * recomputing, another teacher's cache is refused, and a second live writer is refused.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError, LockTimeoutError } from '../src/errors.js';
import { centerEmbeddings, encodeTeacherRecords, parseTeacherRecords, TeacherCache } from '../src/train/teacher-cache.js';

const header = { teacher: 'abc123', dimension: 4 };
const vec = (seed: number) => Float32Array.from([seed, seed + 0.5, -seed, 1 / (seed + 1)]);

describe('teacher cache', () => {
  it('encodes records that parse back exactly, and stops at the first damaged one', () => {
    const records = [
      { key: 'a/1.png', mirrored: false, embedding: vec(1) },
      { key: 'ü/ß 2.png', mirrored: true, embedding: vec(2) },
      { key: 'c/3.png', mirrored: false, embedding: vec(3) },
    ];
    const bytes = encodeTeacherRecords(records, 4);
    const back = parseTeacherRecords(bytes, 4);
    expect(back.intactBytes).toBe(bytes.length);
    expect(back.records).toEqual(records);
    const damaged = bytes.slice();
    const second = 4 + 3 + 7 + 16 + 4; // length of the first record
    damaged[second + 10] ^= 0xff; // inside the second record's payload
    const cut = parseTeacherRecords(damaged, 4);
    expect(cut.records.map((r) => r.key)).toEqual(['a/1.png']);
    expect(cut.intactBytes).toBe(second);
  });

  it('keeps what was complete when the file ends mid-record, and appends after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcache-'));
    const path = join(dir, 'teacher.cache');
    const cache = await TeacherCache.open(path, header);
    await cache.append([
      { key: 'x/1.png', mirrored: false, embedding: vec(1) },
      { key: 'x/1.png', mirrored: true, embedding: vec(2) },
    ]);
    await cache.close();
    const full = statSync(path).size;
    truncateSync(path, full - 5); // a crash while writing the second record
    const again = await TeacherCache.open(path, header);
    expect(again.size).toBe(1);
    expect(Array.from(again.get('x/1.png')!)).toEqual(Array.from(vec(1)));
    expect(again.has('x/1.png', true)).toBe(false);
    await again.append([{ key: 'x/2.png', mirrored: false, embedding: vec(3) }]);
    await again.close();
    const third = await TeacherCache.open(path, header);
    expect(third.size).toBe(2);
    expect(Array.from(third.get('x/2.png')!)).toEqual(Array.from(vec(3)));
    await third.close();
  });

  it('refuses another teacher, a foreign file, and a second live writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcache-'));
    const path = join(dir, 'teacher.cache');
    const cache = await TeacherCache.open(path, header);
    await expect(TeacherCache.open(path, header)).rejects.toThrow(LockTimeoutError);
    await cache.close();
    await expect(TeacherCache.open(path, { teacher: 'other', dimension: 4 })).rejects.toThrow(DataFormatError);
    await expect(TeacherCache.open(path, { teacher: 'abc123', dimension: 8 })).rejects.toThrow(/4-d embeddings of teacher abc123/);
    const foreign = join(dir, 'foreign.cache');
    writeFileSync(foreign, 'hello\nworld');
    await expect(TeacherCache.open(foreign, header)).rejects.toThrow(/not a teacher-embedding cache/);
    // A lock left by a process that no longer exists is taken over.
    writeFileSync(`${path}.lock`, JSON.stringify({ host: hostname(), pid: 999999999, time: 0, token: 'gone' }));
    const reopened = await TeacherCache.open(path, header);
    await reopened.close();
  });

  it('resumes a killed filling run without recomputing what was stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcache-'));
    const path = join(dir, 'teacher.cache');
    // A child appends records in batches of 10 forever; it is killed mid-run.
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
      import ${JSON.stringify(join(import.meta.dirname, '../src/runtime/install-node.ts'))};
      import { TeacherCache } from ${JSON.stringify(join(import.meta.dirname, '../src/train/teacher-cache.ts'))};
      const c = await TeacherCache.open(${JSON.stringify(path)}, { teacher: 'abc123', dimension: 4 });
      for (let b = 0; ; b++) {
        const recs = Array.from({ length: 10 }, (_, i) => ({ key: 'k/' + (b * 10 + i), mirrored: false, embedding: Float32Array.from([b, i, 1, 2]) }));
        await c.append(recs);
        if (b === 3) process.stdout.write('ready\\n');
      }
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    appendFileSync(path, Buffer.from([7, 0, 0])); // and a torn write on top
    const cache = await TeacherCache.open(path, header);
    const n = cache.size;
    expect(n).toBeGreaterThanOrEqual(40);
    expect(n % 10).toBe(0); // whole batches only: a datasync'ed batch is complete
    for (let k = 0; k < n; k++) {
      expect(Array.from(cache.get(`k/${k}`)!)).toEqual([Math.floor(k / 10), k % 10, 1, 2]);
    }
    await cache.close();
    const bytes = readFileSync(path);
    expect(parseTeacherRecords(bytes.subarray(bytes.indexOf(10) + 1), 4).intactBytes).toBe(bytes.length - bytes.indexOf(10) - 1);
  }, 60_000);
});

describe('centerEmbeddings', () => {
  it('subtracts the mean and renormalises (worked by hand)', () => {
    // mean of (1,0), (0,1), (1,1) is (2/3, 2/3); (1/3, -2/3) has length √5/3, (1/3, 1/3) √2/3
    const [a, b, c] = centerEmbeddings([Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(1, 1)]);
    expect(a[0]).toBeCloseTo(1 / Math.sqrt(5), 6);
    expect(a[1]).toBeCloseTo(-2 / Math.sqrt(5), 6);
    expect(b[0]).toBeCloseTo(-2 / Math.sqrt(5), 6);
    expect(c[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(c[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });
  it('leaves a vector equal to the mean at zero and does not change its input', () => {
    const v = Float32Array.of(0.6, 0.8);
    const [out] = centerEmbeddings([v]);
    expect(Array.from(out)).toEqual([0, 0]);
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(centerEmbeddings([])).toEqual([]);
  });
});
