/**
 * Gradient kernels (src/kernels): Conv2DBackpropFilter / Conv2DBackpropInput built from
 * the backend's forward convolution, checked three ways:
 *  - against central finite differences of a float64 JavaScript forward convolution
 *    (written here from the definition, with TensorFlow's SAME padding rule worked out
 *    here too — not taken from tfjs);
 *  - against the cpu backend's own built-in kernels;
 *  - end to end: tf.grads of a small non-linear function on the wasm backend (both kernels
 *    reached through the engine) against float64 finite differences.
 * Cases cover stride 1 and 2 (and 2×1), SAME / VALID / explicit padding, 1×7, 7×1, 1×1,
 * 3×3 and 5×3 kernels, non-square inputs and batches > 1.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { setupBackend, countLeaks } from './helpers.js';
import {
  registerTrainingKernels,
  unregisterTrainingKernels,
  builtinKernel,
  makeConv2DBackpropFilter,
  makeConv2DBackpropInput,
} from '../src/kernels/index.js';
import { planAxis } from '../src/kernels/conv2d-backprop-input.js';
import { usedInputExtent } from '../src/kernels/conv2d-backprop-filter.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], s: [1, 1], pad: 'same' },
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], s: [2, 2], pad: 'same' },
  { x: [2, 9, 7, 3], f: [3, 3, 3, 4], s: [2, 2], pad: 'valid' },
  { x: [2, 10, 8, 3], f: [3, 3, 3, 4], s: [2, 2], pad: 'valid' },
  { x: [3, 8, 6, 5], f: [1, 7, 5, 2], s: [1, 1], pad: 'same' },
  { x: [3, 8, 6, 5], f: [7, 1, 5, 2], s: [1, 1], pad: 'same' },
  { x: [3, 8, 6, 5], f: [1, 1, 5, 2], s: [1, 1], pad: 'same' },
  { x: [3, 8, 6, 5], f: [1, 1, 5, 2], s: [2, 2], pad: 'valid' },
  { x: [1, 11, 5, 2], f: [5, 3, 2, 3], s: [2, 1], pad: 'same' },
  { x: [2, 6, 7, 2], f: [3, 3, 2, 2], s: [1, 1], pad: [[0, 0], [2, 0], [0, 3], [0, 0]] },
];

const label = (c: Case): string => `x[${c.x}] f[${c.f}] s[${c.s}] ${JSON.stringify(c.pad)}`;

/** Deterministic uniform(-1, 1) values (mulberry32). */
function randomValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Padding and output size along one axis, by TensorFlow's rules: VALID → no padding,
 * out = ceil((n - k + 1) / s); SAME → out = ceil(n / s), total padding
 * max((out - 1)·s + k - n, 0), the smaller half in front.
 */
function axisGeometry(n: number, k: number, s: number, pad: Pad, axis: 1 | 2): { out: number; before: number } {
  if (Array.isArray(pad)) {
    const [b, a] = pad[axis];
    return { out: Math.floor((n + b + a - k) / s) + 1, before: b };
  }
  if (pad === 'valid') return { out: Math.ceil((n - k + 1) / s), before: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Float64 forward convolution y = conv2d(x, w), NHWC, straight from the definition. */
function conv2dRef(x: ArrayLike<number>, w: ArrayLike<number>, c: Case): { y: Float64Array; shape: number[] } {
  const [N, H, W, CI] = c.x;
  const [KH, KW, , CO] = c.f;
  const gh = axisGeometry(H, KH, c.s[0], c.pad, 1);
  const gw = axisGeometry(W, KW, c.s[1], c.pad, 2);
  const y = new Float64Array(N * gh.out * gw.out * CO);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < gh.out; oh++) {
      for (let ow = 0; ow < gw.out; ow++) {
        for (let i = 0; i < KH; i++) {
          const r = oh * c.s[0] + i - gh.before;
          if (r < 0 || r >= H) continue;
          for (let j = 0; j < KW; j++) {
            const q = ow * c.s[1] + j - gw.before;
            if (q < 0 || q >= W) continue;
            for (let a = 0; a < CI; a++) {
              const xv = x[((n * H + r) * W + q) * CI + a];
              for (let b = 0; b < CO; b++) {
                y[((n * gh.out + oh) * gw.out + ow) * CO + b] += xv * w[((i * KW + j) * CI + a) * CO + b];
              }
            }
          }
        }
      }
    }
  }
  return { y, shape: [N, gh.out, gw.out, CO] };
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * Central finite differences of L = Σ conv2d(x, w) · r with respect to every element of
 * `which` (x or w), in float64.
 */
function finiteDifferences(x: Float32Array, w: Float32Array, r: Float32Array, c: Case, which: 'x' | 'w'): Float64Array {
  const h = 1e-3;
  const xs = Float64Array.from(x);
  const ws = Float64Array.from(w);
  const target = which === 'x' ? xs : ws;
  const g = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const v = target[i];
    target[i] = v + h;
    const up = dot(conv2dRef(xs, ws, c).y, r);
    target[i] = v - h;
    const down = dot(conv2dRef(xs, ws, c).y, r);
    target[i] = v;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** Run a kernel function on `backendName` with host arrays; returns the output values and shape. */
function runOn(
  backendName: string,
  kernelFunc: KernelFunc,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: object,
): { shape: number[]; values: Float32Array; leakedDataIds: number } {
  const backend = tf.findBackend(backendName)!;
  const before = backend.numDataIds();
  const infos: Record<string, TensorInfo> = {};
  for (const [k, a] of Object.entries(inputs)) {
    infos[k] = { dataId: backend.write(a.values, a.shape, 'float32'), shape: a.shape, dtype: 'float32' };
  }
  const out = kernelFunc({ inputs: infos, backend, attrs: attrs as never }) as TensorInfo;
  const values = Float32Array.from(backend.readSync(out.dataId) as Float32Array);
  backend.disposeData(out.dataId);
  for (const info of Object.values(infos)) backend.disposeData(info.dataId);
  return { shape: out.shape, values, leakedDataIds: backend.numDataIds() - before };
}

/** max |a - b| / max(1, max |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

function caseData(c: Case, seed: number) {
  const x = randomValues(size(c.x), seed);
  const w = randomValues(size(c.f), seed + 1);
  const yShape = conv2dRef(x, w, c).shape;
  const r = randomValues(size(yShape), seed + 2);
  return { x, w, r, yShape };
}

const filterAttrs = (c: Case) => ({ strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f });
const inputAttrs = (c: Case) => ({ strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });

let installed: ReturnType<typeof registerTrainingKernels>;

beforeAll(async () => {
  const name = await setupBackend();
  expect(name).toBe('wasm');
  installed = registerTrainingKernels();
});

describe('registerTrainingKernels', () => {
  it('installs the filter gradient on wasm and cpu and the input gradient on wasm, idempotently', () => {
    const table = installed.map((k) => `${k.kernelName}@${k.backendName}:${k.replacedBuiltin}`).sort();
    expect(table).toEqual([
      'Conv2DBackpropFilter@cpu:true',
      'Conv2DBackpropFilter@wasm:false',
      'Conv2DBackpropInput@wasm:true',
    ]);
    const fnBefore = tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc;
    expect(registerTrainingKernels()).toEqual(installed);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc).toBe(fnBefore);
    // The cpu built-in stays reachable for comparisons.
    expect(builtinKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc).not.toBe(
      tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc,
    );
  });

  it('unregisterTrainingKernels restores the built-ins, and registering again reinstalls', () => {
    const cpuBuiltin = builtinKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc;
    const wasmBuiltin = builtinKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc;
    const oursOnWasm = tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc;
    unregisterTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc).toBe(cpuBuiltin);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc).toBe(wasmBuiltin);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).not.toBe(oursOnWasm);
    registerTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc).not.toBe(cpuBuiltin);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc).not.toBe(wasmBuiltin);
  });
});

describe('kernel geometry helpers', () => {
  it('usedInputExtent drops the rows a VALID stride-2 convolution never reads', () => {
    // 9 rows, k=3, s=2, VALID: outputs at rows 0..2, 2..4, 4..6, 6..8 → all 9 used.
    expect(usedInputExtent(9, 4, 3, 2, 0)).toBe(9);
    // 10 rows: still 4 outputs (floor((10-3)/2)+1), the last row (index 9) is never read.
    expect(usedInputExtent(10, 4, 3, 2, 0)).toBe(9);
  });

  it('planAxis splits a stride-2, 3-tap axis into phases of 2 and 1 taps', () => {
    // n=9, k=3, s=2, SAME: out=5, total pad=(5-1)*2+3-9=2, 1 in front.
    const plan = planAxis(9, 5, 3, 2, 1);
    expect(plan.phases.map((p) => p.taps)).toEqual([2, 1]);
    // t = h + 1 runs over 1..9: q from 0 to 4, offset 1.
    expect(plan.perPhase).toBe(5);
    expect(plan.offset).toBe(1);
    // 1×1 stride 2: phase 1 has no taps at all.
    expect(planAxis(8, 4, 1, 2, 0).phases.map((p) => p.taps)).toEqual([1, 0]);
  });
});

describe.each(CASES)('Conv2DBackpropFilter %#', (c) => {
  it(`${label(c)}: matches finite differences, the cpu built-in, on wasm and cpu, without leaks`, () => {
    const { x, w, r, yShape } = caseData(c, 11);
    const fd = finiteDifferences(x, w, r, c, 'w');
    const inputs = { x: { shape: c.x, values: x }, dy: { shape: yShape, values: r } };
    const viaWasm = runOn('wasm', tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc, inputs, filterAttrs(c));
    const viaCpu = runOn('cpu', makeConv2DBackpropFilter('cpu'), inputs, filterAttrs(c));
    const cpuBuiltin = runOn('cpu', builtinKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc, inputs, filterAttrs(c));
    expect(viaWasm.shape).toEqual(c.f);
    expect(viaCpu.shape).toEqual(c.f);
    expect(relErr(viaWasm.values, fd)).toBeLessThan(2e-5);
    expect(relErr(viaCpu.values, fd)).toBeLessThan(2e-5);
    expect(relErr(viaWasm.values, cpuBuiltin.values)).toBeLessThan(2e-5);
    expect(relErr(cpuBuiltin.values, fd)).toBeLessThan(2e-5);
    expect(viaWasm.leakedDataIds).toBe(0);
    expect(viaCpu.leakedDataIds).toBe(0);
  });
});

describe.each(CASES)('Conv2DBackpropInput %#', (c) => {
  it(`${label(c)}: matches finite differences and the cpu built-in, without leaks`, () => {
    const { x, w, r, yShape } = caseData(c, 23);
    const fd = finiteDifferences(x, w, r, c, 'x');
    const inputs = { dy: { shape: yShape, values: r }, filter: { shape: c.f, values: w } };
    const viaWasm = runOn('wasm', tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc, inputs, inputAttrs(c));
    const viaCpu = runOn('cpu', makeConv2DBackpropInput('cpu'), inputs, inputAttrs(c));
    const cpuBuiltin = runOn('cpu', tf.getKernel('Conv2DBackpropInput', 'cpu')!.kernelFunc, inputs, inputAttrs(c));
    expect(viaWasm.shape).toEqual(c.x);
    expect(relErr(viaWasm.values, fd)).toBeLessThan(2e-5);
    expect(relErr(viaCpu.values, fd)).toBeLessThan(2e-5);
    expect(relErr(viaWasm.values, cpuBuiltin.values)).toBeLessThan(2e-5);
    expect(viaWasm.leakedDataIds).toBe(0);
    expect(viaCpu.leakedDataIds).toBe(0);
  });
});

describe('NCHW data format', () => {
  it('both kernels accept NCHW and agree with the cpu built-ins', () => {
    const c: Case = { x: [2, 9, 7, 3], f: [3, 3, 3, 4], s: [2, 2], pad: 'same' };
    const nchw = (shape: number[]) => [shape[0], shape[3], shape[1], shape[2]];
    const { w, yShape } = caseData(c, 5);
    const xNCHW = randomValues(size(c.x), 41);
    const dyNCHW = randomValues(size(yShape), 42);
    const fAttrs = { ...filterAttrs(c), dataFormat: 'NCHW' };
    const iAttrs = { ...inputAttrs(c), dataFormat: 'NCHW', inputShape: nchw(c.x) };
    const fIn = { x: { shape: nchw(c.x), values: xNCHW }, dy: { shape: nchw(yShape), values: dyNCHW } };
    const iIn = { dy: { shape: nchw(yShape), values: dyNCHW }, filter: { shape: c.f, values: w } };
    const f1 = runOn('wasm', tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc, fIn, fAttrs);
    const f2 = runOn('cpu', builtinKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc, fIn, fAttrs);
    expect(relErr(f1.values, f2.values)).toBeLessThan(2e-5);
    const i1 = runOn('wasm', tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc, iIn, iAttrs);
    const i2 = runOn('cpu', tf.getKernel('Conv2DBackpropInput', 'cpu')!.kernelFunc, iIn, iAttrs);
    expect(i1.shape).toEqual(nchw(c.x));
    expect(relErr(i1.values, i2.values)).toBeLessThan(2e-5);
  });
});

describe('a layer-sized problem', () => {
  it('Mixed_6a-like 3×3 stride-2 VALID, 48→64 channels: wasm kernels agree with the cpu built-ins', () => {
    const c: Case = { x: [2, 17, 17, 48], f: [3, 3, 48, 64], s: [2, 2], pad: 'valid' };
    const { x, w, r, yShape } = caseData(c, 77);
    const fIn = { x: { shape: c.x, values: x }, dy: { shape: yShape, values: r } };
    const iIn = { dy: { shape: yShape, values: r }, filter: { shape: c.f, values: w } };
    const f1 = runOn('wasm', tf.getKernel('Conv2DBackpropFilter', 'wasm')!.kernelFunc, fIn, filterAttrs(c));
    const f2 = runOn('cpu', builtinKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc, fIn, filterAttrs(c));
    expect(relErr(f1.values, f2.values)).toBeLessThan(2e-5);
    const i1 = runOn('wasm', tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc, iIn, inputAttrs(c));
    const i2 = runOn('cpu', tf.getKernel('Conv2DBackpropInput', 'cpu')!.kernelFunc, iIn, inputAttrs(c));
    expect(relErr(i1.values, i2.values)).toBeLessThan(2e-5);
  });
});

describe('end to end through the engine on wasm', () => {
  it.each([CASES[2], CASES[4], CASES[8]])('tf.grads of Σ conv2d(x, w)² matches float64 finite differences (%#)', async (c) => {
    const { x, w } = caseData(c, 91);
    const f = (xt: tf.Tensor4D, wt: tf.Tensor4D) =>
      tf.sum(tf.square(tf.conv2d(xt, wt, c.s, c.pad as 'same' | 'valid')));
    const xt = tf.tensor4d(x, c.x);
    const wt = tf.tensor4d(w, c.f);
    let gx: Float32Array = new Float32Array();
    let gw: Float32Array = new Float32Array();
    const leaked = await countLeaks(async () => {
      const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([xt, wt]);
      gx = (await dx.data()) as Float32Array;
      gw = (await dw.data()) as Float32Array;
      tf.dispose([dx, dw]);
    });
    tf.dispose([xt, wt]);
    expect(leaked).toBe(0);
    // Finite differences of the same function in float64, at 12 spread-out elements each.
    const loss = (xs: Float64Array, ws: Float64Array) => {
      const { y } = conv2dRef(xs, ws, c);
      return dot(y, y);
    };
    const xs = Float64Array.from(x);
    const ws = Float64Array.from(w);
    const h = 1e-4;
    for (const [arr, grad] of [
      [xs, gx],
      [ws, gw],
    ] as const) {
      let scale = 1;
      for (const g of grad) scale = Math.max(scale, Math.abs(g));
      for (let k = 0; k < 12; k++) {
        const i = Math.floor(((k + 0.5) / 12) * arr.length);
        const v = arr[i];
        arr[i] = v + h;
        const up = loss(xs, ws);
        arr[i] = v - h;
        const down = loss(xs, ws);
        arr[i] = v;
        expect(Math.abs(grad[i] - (up - down) / (2 * h)) / scale).toBeLessThan(1e-4);
      }
    }
  });
});
