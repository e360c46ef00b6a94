import { describe, it, expect } from 'vitest';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLfwPairs, lfwImageRelativePath } from '../src/eval/lfw-pairs.js';
import { readLfwPairs, resolveLfwPairs } from '../src/eval/lfw-files.js';
import { DataFormatError, FileNotFoundError } from '../src/errors.js';
import { sharedPath } from './helpers.js';

describe('the real LFW pairs.txt', () => {
  it('parses into 6000 pairs in 10 folds of 300 + 300', async () => {
    const p = await readLfwPairs(sharedPath('data', 'lfw-pairs.txt'));
    expect(p.nrofFolds).toBe(10);
    expect(p.pairsPerFold).toBe(300);
    expect(p.pairs.length).toBe(6000);
    expect(p.pairs.filter((x) => x.issame).length).toBe(3000);
    for (let f = 0; f < 10; f++) expect(p.pairs.filter((x) => x.fold === f).length).toBe(600);
    // First line after the header, and the first mismatched pair (line 302).
    expect(p.pairs[0]).toMatchObject({
      fold: 0,
      issame: true,
      first: { name: 'Abel_Pacheco', index: 1 },
      second: { name: 'Abel_Pacheco', index: 4 },
      line: 2,
    });
    expect(p.pairs[300]).toMatchObject({
      fold: 0,
      issame: false,
      first: { name: 'Abdel_Madi_Shabneh', index: 1 },
      second: { name: 'Dean_Barker', index: 1 },
      line: 302,
    });
    expect(p.pairs[5999].fold).toBe(9);
    expect(p.pairs[5999].issame).toBe(false);
  });

  it('every pair image exists under lfw/: 7701 distinct images', async () => {
    const p = await readLfwPairs(sharedPath('data', 'lfw-pairs.txt'));
    const r = resolveLfwPairs(p, sharedPath('data', 'lfw'));
    expect(r.missing).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.pairs.length).toBe(6000);
    expect(r.images.length).toBe(7701);
    expect(r.images[r.pairs[0].image1]).toBe(join(sharedPath('data', 'lfw'), 'Abel_Pacheco', 'Abel_Pacheco_0001.jpg'));
    expect(r.images[r.pairs[0].image2]).toMatch(/Abel_Pacheco_0004\.jpg$/);
  });
});

describe('malformed pairs files', () => {
  const good = '2 1\nA 1 2\nB 1 C 3\nD 2 3\nE 4 F 5\n';

  it('accepts a small well-formed file, trailing blank lines and CRLF', () => {
    const p = parseLfwPairs(good + '\n\n');
    expect(p.pairs.map((x) => [x.fold, x.issame])).toEqual([
      [0, true],
      [0, false],
      [1, true],
      [1, false],
    ]);
    expect(parseLfwPairs(good.replace(/\n/g, '\r\n')).pairs.length).toBe(4);
    // One-number header (pairsDevTrain.txt): a single fold.
    expect(parseLfwPairs('1\nA 1 2\nB 1 C 1\n').nrofFolds).toBe(1);
  });

  const bad: [string, string, RegExp, number][] = [
    ['empty file', '', /empty/, 1],
    ['bad header', 'ten 300\n', /number of folds "ten"/, 1],
    ['three-field header', '1 2 3\n', /header/, 1],
    ['too few lines', '2 1\nA 1 2\nB 1 C 3\nD 2 3\n', /announces .* 4 pairs, but the file has 3/, 5],
    ['too many lines', good + 'G 1 2\n', /5 pair lines/, 6],
    ['mismatched line in the matched block', '2 1\nA 1 B 2\nB 1 C 3\nD 2 3\nE 4 F 5\n', /matched pair "name i j" \(fold 1, pair 1\), got 4 fields/, 2],
    ['matched line in the mismatched block', '2 1\nA 1 2\nB 1 C 3\nD 2 3\nE 4 5\n', /mismatched pair .*fold 2/, 5],
    ['non-numeric image number', '2 1\nA 1 2\nB x C 3\nD 2 3\nE 4 F 5\n', /image number "x"/, 3],
    ['zero image number', '2 1\nA 0 2\nB 1 C 3\nD 2 3\nE 4 F 5\n', /image number "0"/, 2],
    ['blank line inside', '2 1\nA 1 2\n\nD 2 3\nE 4 F 5\n', /blank line/, 3],
  ];
  for (const [what, text, message, line] of bad) {
    it(`${what}: DataFormatError naming line ${line}`, () => {
      let err: unknown;
      try {
        parseLfwPairs(text, 'my-pairs.txt');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataFormatError);
      const e = err as DataFormatError;
      expect(e.line).toBe(line);
      expect(e.message).toMatch(message);
      expect(e.message).toContain(`my-pairs.txt:${line}`);
    });
  }

  it('a missing pairs file is a FileNotFoundError', async () => {
    await expect(readLfwPairs('/nonexistent/pairs.txt')).rejects.toBeInstanceOf(FileNotFoundError);
  });
});

describe('image paths and missing files', () => {
  it('formats <Name>/<Name>_NNNN.jpg', () => {
    expect(lfwImageRelativePath({ name: 'George_W_Bush', index: 12 })).toBe('George_W_Bush/George_W_Bush_0012.jpg');
    expect(lfwImageRelativePath({ name: 'X', index: 12345 }, 'png')).toBe('X/X_12345.png');
  });

  it('reports missing images and skips their pairs; accepts .png', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lfw-'));
    try {
      for (const [name, idx, ext] of [
        ['A', 1, 'jpg'],
        ['A', 2, 'png'],
        ['B', 1, 'jpg'],
        ['D', 2, 'jpg'],
      ] as const) {
        await mkdir(join(dir, name), { recursive: true });
        await writeFile(join(dir, name, `${name}_000${idx}.${ext}`), 'x');
      }
      const p = parseLfwPairs('2 1\nA 1 2\nB 1 C 3\nD 2 3\nA 1 B 1\n');
      const r = resolveLfwPairs(p, dir);
      expect(r.pairs.map((x) => x.line)).toEqual([2, 5]);
      expect(r.skipped.map((x) => x.line)).toEqual([3, 4]);
      expect(r.missing).toEqual([join(dir, 'C', 'C_0003.jpg'), join(dir, 'D', 'D_0003.jpg')]);
      expect(r.images).toEqual([join(dir, 'A', 'A_0001.jpg'), join(dir, 'A', 'A_0002.png'), join(dir, 'B', 'B_0001.jpg')]);
      expect([r.pairs[1].image1, r.pairs[1].image2]).toEqual([0, 2]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
