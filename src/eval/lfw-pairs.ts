/**
 * The LFW verification protocol's `pairs.txt`: parsing (pure, no I/O) and the mapping from
 * a pair to its two image file names.
 *
 * File layout (the standard "View 2" file): a header line `<folds> <pairsPerFold>` (e.g.
 * `10 300`), then for each fold `pairsPerFold` matched pairs `name i j` followed by
 * `pairsPerFold` mismatched pairs `name1 i name2 j`. Image numbers are 1-based. The
 * development files (`pairsDevTrain.txt`) have a one-number header `<pairsPerFold>` and a
 * single fold; they are accepted too.
 */
import { DataFormatError } from '../errors.js';

/** One face image named by a pair: a person and the 1-based image number. */
export interface LfwImageRef {
  name: string;
  index: number;
}

/** One line of `pairs.txt`. */
export interface LfwPair {
  /** 0-based fold the pair belongs to (its position in the file). */
  fold: number;
  /** True for a matched (same person) pair. */
  issame: boolean;
  first: LfwImageRef;
  second: LfwImageRef;
  /** 1-based line number in the file, for messages. */
  line: number;
}

/** A parsed `pairs.txt`. */
export interface LfwPairs {
  nrofFolds: number;
  /** Matched pairs per fold (and as many mismatched ones). */
  pairsPerFold: number;
  /** All pairs in file order: fold 0 matched, fold 0 mismatched, fold 1 matched, … */
  pairs: LfwPair[];
}

function parsePositiveInt(token: string, what: string, source: string, line: number): number {
  if (!/^\d+$/.test(token)) throw new DataFormatError(source, `${what} "${token}" is not a positive integer`, line);
  const n = Number(token);
  if (!(n >= 1) || !Number.isSafeInteger(n)) {
    throw new DataFormatError(source, `${what} "${token}" is not a positive integer`, line);
  }
  return n;
}

/**
 * Parse the text of an LFW `pairs.txt`. The structure is checked strictly: the header,
 * the number of lines, and that each fold holds `pairsPerFold` three-field matched lines
 * followed by `pairsPerFold` four-field mismatched lines.
 *
 * @param source names the input in error messages (usually the file path).
 * @throws {DataFormatError} naming the line at fault.
 */
export function parseLfwPairs(text: string, source = 'pairs.txt'): LfwPairs {
  const lines = text.split(/\r?\n/);
  // Trailing blank lines are harmless; blank lines inside the list are not.
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === '') end--;
  if (end === 0) throw new DataFormatError(source, 'the file is empty', 1);

  const header = lines[0].trim().split(/\s+/);
  let nrofFolds: number;
  let pairsPerFold: number;
  if (header.length === 2) {
    nrofFolds = parsePositiveInt(header[0], 'number of folds', source, 1);
    pairsPerFold = parsePositiveInt(header[1], 'pairs per fold', source, 1);
  } else if (header.length === 1) {
    nrofFolds = 1;
    pairsPerFold = parsePositiveInt(header[0], 'number of pairs', source, 1);
  } else {
    throw new DataFormatError(source, `header must be "<folds> <pairs per fold>", got "${lines[0].trim()}"`, 1);
  }
  const expected = nrofFolds * pairsPerFold * 2;
  const found = end - 1;
  if (found !== expected) {
    throw new DataFormatError(
      source,
      `header announces ${nrofFolds} folds × ${pairsPerFold} × 2 = ${expected} pairs, but the file has ${found} pair lines`,
      found < expected ? end + 1 : 1 + expected + 1,
    );
  }

  const pairs: LfwPair[] = new Array(expected);
  for (let k = 0; k < expected; k++) {
    const lineNo = k + 2;
    const raw = lines[k + 1].trim();
    const fold = Math.floor(k / (2 * pairsPerFold));
    const issame = k % (2 * pairsPerFold) < pairsPerFold;
    if (raw === '') throw new DataFormatError(source, 'blank line inside the pair list', lineNo);
    const t = raw.split(/\s+/);
    // Matched: "name i j" (both images of t[0]); mismatched: "name1 i name2 j".
    const fields = issame ? 3 : 4;
    if (t.length !== fields) {
      const form = issame ? 'a matched pair "name i j"' : 'a mismatched pair "name1 i name2 j"';
      throw new DataFormatError(
        source,
        `expected ${form} (fold ${fold + 1}, pair ${(k % pairsPerFold) + 1}), got ${t.length} fields`,
        lineNo,
      );
    }
    pairs[k] = {
      fold,
      issame,
      first: { name: t[0], index: parsePositiveInt(t[1], 'image number', source, lineNo) },
      second: { name: issame ? t[0] : t[2], index: parsePositiveInt(t[fields - 1], 'image number', source, lineNo) },
      line: lineNo,
    };
  }
  return { nrofFolds, pairsPerFold, pairs };
}

/**
 * The path of an LFW image relative to the LFW root: `<Name>/<Name>_NNNN.<ext>`
 * (`/`-separated, image number zero-padded to four digits).
 */
export function lfwImageRelativePath(ref: LfwImageRef, ext = 'jpg'): string {
  return `${ref.name}/${ref.name}_${String(ref.index).padStart(4, '0')}.${ext}`;
}
