import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLinesLog } from '../src/train/log.js';

describe('JsonLinesLog', () => {
  it('appends one JSON object per line', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'facenet-log-')), 'sub', 'log.jsonl');
    const log = new JsonLinesLog(path);
    await log.write({ type: 'a', n: 1 });
    await log.write({ type: 'b', n: 2 });
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => JSON.parse(l).type)).toEqual(['a', 'b']);
  });

  it('after a run killed mid-line, the next record still starts a line of its own', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'facenet-log-')), 'log.jsonl');
    await writeFile(path, '{"type":"step","step":1}\n{"type":"step","st');
    const log = new JsonLinesLog(path);
    await log.write({ type: 'start', step: 1 });
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('{"type":"step","st');
    expect(JSON.parse(lines[2])).toMatchObject({ type: 'start', step: 1 });
  });
});
