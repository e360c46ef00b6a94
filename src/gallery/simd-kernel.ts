/**
 * A tiny hand-assembled WebAssembly module with 128-bit SIMD kernels for exact
 * nearest-neighbour search: dot products of many stored rows with one query or with four
 * queries at once, and a plain sum (the memory-bandwidth floor the benchmark compares
 * against). Plain JavaScript cannot use SIMD and runs such loops compute-bound at about a
 * third of memory bandwidth; these kernels run close to it.
 *
 * The module imports its memory (`env.memory`, up to 65536 pages = 4 GiB), so the
 * embedding matrix can live in it without copies. All pointers are byte offsets; all
 * lengths are in floats and must be multiples of 16 (callers pad rows with zeros).
 *
 * Exports:
 * - `sum(ptr, n) → f32`: Σ of n floats;
 * - `dot1(mat, rows, stride, q, out)`: `out[r] = mat[r] · q` for `r < rows`, rows of `stride` floats;
 * - `dot4(mat, rows, stride, q4, out)`: four queries stored back to back (each `stride`
 *   floats), `out[4r + j] = mat[r] · q_j` — each row is read once for four queries.
 */

// --- a minimal wasm encoder -------------------------------------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Instructions.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = [0x6a];
const I32_MUL = [0x6c];
const I32_GE_U = [0x4f];
const F32_ADD = [0x92];
const f32Store = (offset: number) => [0x38, 2, ...uleb(offset)];
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = [0x0b];
const br = (d: number) => [0x0c, ...uleb(d)];
const brIf = (d: number) => [0x0d, ...uleb(d)];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const v128Load = (offset: number) => simd(0x00, 4, ...uleb(offset));
const V128_ZERO = simd(0x0c, ...new Array<number>(16).fill(0));
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const lane = (l: number) => simd(0x1f, l);

/** Horizontal sum of the v128 in local `v`, as an f32 on the stack. */
const hsum = (v: number) => [...get(v), ...lane(0), ...get(v), ...lane(1), ...F32_ADD, ...get(v), ...lane(2), ...F32_ADD, ...get(v), ...lane(3), ...F32_ADD];
/** `dst += src` for v128 locals. */
const vaddInto = (dst: number, src: number) => [...get(dst), ...get(src), ...F32X4_ADD, ...set(dst)];
/** `ptr += bytes` for an i32 local. */
const bump = (ptr: number, bytes: number[]) => [...get(ptr), ...bytes, ...I32_ADD, ...set(ptr)];
/** `acc += load(a + off) * load(b + off)`. */
const fma = (acc: number, a: number, b: number, off: number) => [
  ...get(acc), ...get(a), ...v128Load(off), ...get(b), ...v128Load(off), ...F32X4_MUL, ...F32X4_ADD, ...set(acc),
];

function body(locals: [number, number][], code: number[]): number[] {
  const b = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code, ...END];
  return [...uleb(b.length), ...b];
}

function buildModule(): Uint8Array<ArrayBuffer> {
  // sum(p, n): locals 0 p, 1 n | 2 end | 3..6 acc
  const sumCode = body(
    [[1, I32], [4, V128]],
    [
      ...get(0), ...get(1), ...i32c(4), ...I32_MUL, ...I32_ADD, ...set(2),
      ...BLOCK, ...LOOP,
      ...get(0), ...get(2), ...I32_GE_U, ...brIf(1),
      ...[3, 4, 5, 6].flatMap((acc, k) => [...get(acc), ...get(0), ...v128Load(16 * k), ...F32X4_ADD, ...set(acc)]),
      ...bump(0, i32c(64)),
      ...br(0), ...END, ...END,
      ...vaddInto(3, 4), ...vaddInto(5, 6), ...vaddInto(3, 5),
      ...hsum(3),
    ],
  );
  // dot1(m, rows, stride, q, out): 0 m, 1 rows, 2 stride, 3 q, 4 out | 5 rowEnd, 6 qp, 7 outEnd, 8 rowBytes | 9..12 acc
  const dot1Code = body(
    [[4, I32], [4, V128]],
    [
      ...get(2), ...i32c(4), ...I32_MUL, ...set(8),
      ...get(4), ...get(1), ...i32c(4), ...I32_MUL, ...I32_ADD, ...set(7),
      ...BLOCK, ...LOOP,
      ...get(4), ...get(7), ...I32_GE_U, ...brIf(1),
      ...V128_ZERO, ...set(9), ...V128_ZERO, ...set(10), ...V128_ZERO, ...set(11), ...V128_ZERO, ...set(12),
      ...get(0), ...get(8), ...I32_ADD, ...set(5),
      ...get(3), ...set(6),
      ...BLOCK, ...LOOP,
      ...get(0), ...get(5), ...I32_GE_U, ...brIf(1),
      ...fma(9, 0, 6, 0), ...fma(10, 0, 6, 16), ...fma(11, 0, 6, 32), ...fma(12, 0, 6, 48),
      ...bump(0, i32c(64)), ...bump(6, i32c(64)),
      ...br(0), ...END, ...END,
      ...vaddInto(9, 10), ...vaddInto(11, 12), ...vaddInto(9, 11),
      ...get(4), ...hsum(9), ...f32Store(0),
      ...bump(4, i32c(4)),
      ...br(0), ...END, ...END,
    ],
  );
  // dot4(m, rows, stride, q4, out): 0 m, 1 rows, 2 stride, 3 q4, 4 out
  //   | 5 rowEnd, 6 q0, 7 q1, 8 q2, 9 q3, 10 outEnd, 11 rowBytes | 12..15 acc, 16 x
  const qacc = (acc: number, q: number, off: number) => [
    ...get(acc), ...get(16), ...get(q), ...v128Load(off), ...F32X4_MUL, ...F32X4_ADD, ...set(acc),
  ];
  const dot4Code = body(
    [[7, I32], [5, V128]],
    [
      ...get(2), ...i32c(4), ...I32_MUL, ...set(11),
      ...get(4), ...get(1), ...i32c(16), ...I32_MUL, ...I32_ADD, ...set(10),
      ...BLOCK, ...LOOP,
      ...get(4), ...get(10), ...I32_GE_U, ...brIf(1),
      ...V128_ZERO, ...set(12), ...V128_ZERO, ...set(13), ...V128_ZERO, ...set(14), ...V128_ZERO, ...set(15),
      ...get(0), ...get(11), ...I32_ADD, ...set(5),
      ...get(3), ...set(6),
      ...get(6), ...get(11), ...I32_ADD, ...set(7),
      ...get(7), ...get(11), ...I32_ADD, ...set(8),
      ...get(8), ...get(11), ...I32_ADD, ...set(9),
      ...BLOCK, ...LOOP,
      ...get(0), ...get(5), ...I32_GE_U, ...brIf(1),
      // Two 4-float chunks per iteration: x = row chunk, reused for the four queries.
      ...[0, 16].flatMap((off) => [
        ...get(0), ...v128Load(off), ...set(16),
        ...qacc(12, 6, off), ...qacc(13, 7, off), ...qacc(14, 8, off), ...qacc(15, 9, off),
      ]),
      ...bump(0, i32c(32)), ...bump(6, i32c(32)), ...bump(7, i32c(32)), ...bump(8, i32c(32)), ...bump(9, i32c(32)),
      ...br(0), ...END, ...END,
      ...get(4), ...hsum(12), ...f32Store(0),
      ...get(4), ...hsum(13), ...f32Store(4),
      ...get(4), ...hsum(14), ...f32Store(8),
      ...get(4), ...hsum(15), ...f32Store(12),
      ...bump(4, i32c(16)),
      ...br(0), ...END, ...END,
    ],
  );

  const types = [
    [0x60, ...vec([[I32], [I32]]), ...vec([[F32]])], // (i32, i32) → f32
    [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])], // (i32 ×5) → ()
  ];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x01, ...uleb(1), ...uleb(65536)]])),
    ...section(3, vec([[0], [1], [1]])),
    ...section(7, vec([
      [...str('sum'), 0x00, 0],
      [...str('dot1'), 0x00, 1],
      [...str('dot4'), 0x00, 2],
    ])),
    ...section(10, [...uleb(3), ...sumCode, ...dot1Code, ...dot4Code]),
  ];
  return new Uint8Array(bytes);
}

/** The instantiated kernels and the memory they work on. */
export interface SimdKernels {
  memory: WebAssembly.Memory;
  sum(ptr: number, n: number): number;
  dot1(mat: number, rows: number, stride: number, q: number, out: number): void;
  dot4(mat: number, rows: number, stride: number, q4: number, out: number): void;
}

let moduleCache: WebAssembly.Module | null | undefined;

/** The compiled module, or null when this JavaScript engine has no WebAssembly SIMD. */
export function simdModule(): WebAssembly.Module | null {
  if (moduleCache !== undefined) return moduleCache;
  try {
    const bytes = buildModule();
    moduleCache = typeof WebAssembly !== 'undefined' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    moduleCache = null;
  }
  return moduleCache;
}

/** Bytes per wasm page. */
export const WASM_PAGE = 65536;
/** Largest wasm32 memory: 65536 pages = 4 GiB. */
export const WASM_MAX_PAGES = 65536;

/**
 * Instantiate the kernels on a new memory of `initialPages` pages (growable to 4 GiB).
 * Returns null when WebAssembly SIMD is unavailable (callers fall back to plain loops).
 */
export function instantiateSimdKernels(initialPages = 1): SimdKernels | null {
  const mod = simdModule();
  if (!mod) return null;
  const memory = new WebAssembly.Memory({ initial: initialPages, maximum: WASM_MAX_PAGES });
  const inst = new WebAssembly.Instance(mod, { env: { memory } });
  const e = inst.exports as unknown as Omit<SimdKernels, 'memory'>;
  return { memory, sum: e.sum, dot1: e.dot1, dot4: e.dot4 };
}
