/**
 * `np.argsort(values)` (default `kind='quicksort'`) as NumPy's C code computes it: an
 * introsort — median-of-three quicksort down to 16-element runs finished by insertion sort,
 * heapsort past a depth limit. It is not stable, and MTCNN's NMS keeps "the last index of
 * the ascending order" among equal scores, so reproducing NumPy's exact permutation is what
 * makes ties resolve as in the reference.
 */

/** NumPy's `SMALL_QUICKSORT`. */
const SMALL_QUICKSORT = 15;

/** `npy_get_msb`: index of the highest set bit. */
function msb(n: number): number {
  let depth = 0;
  while ((n = Math.floor(n / 2)) > 0) depth++;
  return depth;
}

/**
 * Sift `tmp` down from heap position `i` of the 1-based heap `tosort[lo … lo+n-1]` (max-heap
 * by `v`), as both loops of NumPy's `aheapsort_` do.
 */
function siftDown(v: ArrayLike<number>, tosort: Int32Array, lo: number, i: number, tmp: number, n: number): void {
  const base = lo - 1;
  for (let j = i << 1; j <= n; ) {
    if (j < n && v[tosort[base + j]] < v[tosort[base + j + 1]]) j += 1;
    if (v[tmp] < v[tosort[base + j]]) {
      tosort[base + i] = tosort[base + j];
      i = j;
      j += j;
    } else break;
  }
  tosort[base + i] = tmp;
}

/** `aheapsort_`: heap sort of `tosort[lo … lo+n-1]` by `v`. */
function aheapsort(v: ArrayLike<number>, tosort: Int32Array, lo: number, n: number): void {
  // 1-based heap indexing on tosort[lo - 1 + k].
  const base = lo - 1;
  for (let l = n >> 1; l > 0; --l) siftDown(v, tosort, lo, l, tosort[base + l], n);
  for (; n > 1; ) {
    const tmp = tosort[base + n];
    tosort[base + n] = tosort[base + 1];
    n -= 1;
    siftDown(v, tosort, lo, 1, tmp, n);
  }
}

/**
 * Indices that sort `values` ascending, permuted exactly as NumPy 1.x's `np.argsort` does
 * (NaN-free input).
 */
export function argsortNumpy(values: ArrayLike<number>): Int32Array {
  const num = values.length;
  const t = new Int32Array(num);
  for (let i = 0; i < num; i++) t[i] = i;
  if (num < 2) return t;
  const v = values;
  const swap = (a: number, b: number): void => {
    const x = t[a];
    t[a] = t[b];
    t[b] = x;
  };
  let pl = 0;
  let pr = num - 1;
  const stack: number[] = [];
  const depthStack: number[] = [];
  let cdepth = msb(num) * 2;
  for (;;) {
    let sorted = false;
    if (cdepth < 0) {
      aheapsort(v, t, pl, pr - pl + 1);
      sorted = true;
    }
    if (!sorted) {
      while (pr - pl > SMALL_QUICKSORT) {
        const pm = pl + ((pr - pl) >> 1);
        if (v[t[pm]] < v[t[pl]]) swap(pm, pl);
        if (v[t[pr]] < v[t[pm]]) swap(pr, pm);
        if (v[t[pm]] < v[t[pl]]) swap(pm, pl);
        const vp = v[t[pm]];
        let pi = pl;
        let pj = pr - 1;
        swap(pm, pj);
        for (;;) {
          do ++pi;
          while (v[t[pi]] < vp);
          do --pj;
          while (vp < v[t[pj]]);
          if (pi >= pj) break;
          swap(pi, pj);
        }
        swap(pi, pr - 1);
        // Push the larger partition, continue with the smaller.
        if (pi - pl < pr - pi) {
          stack.push(pi + 1, pr);
          pr = pi - 1;
        } else {
          stack.push(pl, pi - 1);
          pl = pi + 1;
        }
        depthStack.push(--cdepth);
      }
      // Insertion sort.
      for (let pi = pl + 1; pi <= pr; ++pi) {
        const vi = t[pi];
        const vp = v[vi];
        let pj = pi;
        let pk = pi - 1;
        while (pj > pl && vp < v[t[pk]]) t[pj--] = t[pk--];
        t[pj] = vi;
      }
    }
    if (stack.length === 0) break;
    pr = stack.pop()!;
    pl = stack.pop()!;
    cdepth = depthStack.pop()!;
  }
  return t;
}
