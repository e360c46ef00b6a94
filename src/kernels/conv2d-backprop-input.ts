/**
 * `Conv2DBackpropInput` (the gradient of a 2-D convolution with respect to its input)
 * built from the backend's own forward `Conv2D`.
 *
 * Along one axis, with stride s, padding `padTop` and t = h + padTop:
 *
 *     dx[t] = Σ_{i, oh : oh·s + i = t} dy[oh] · W[i]
 *
 * Only the taps i ≡ t (mod s) contribute, so the output splits into s phases
 * p = t mod s. Writing t = q·s + p and i = p + m·s, phase p is
 *
 *     dx_p[q] = Σ_m dy[q - m] · W[p + m·s]
 *
 * a stride-1 "full" correlation of dy with the sub-filter W[p::s] rotated by 180°
 * (with its in/out channel axes swapped) — a forward convolution. In 2-D there are
 * sH·sW phases; their outputs are interleaved back and cropped to the input extent.
 * Stride 1 is the single-phase case. The work is the same as the forward convolution's,
 * whereas the wasm backend's built-in kernel is 5-10× slower than its forward convolution.
 *
 * Interleaving uses only `Concat` + reshape (concatenating the sW column phases on the
 * channel axis and reshaping puts phase pw at column q·sW + pw; likewise rows), and the
 * sub-filters are cut out in JavaScript (each tap is one contiguous [ci, co] block):
 * the wasm backend's `StridedSlice`, `Reverse` and 6-D `Transpose` are slow (measured
 * 42 ms, 24 ms and 117 ms on tensors of this size).
 */
import type { Conv2DBackpropInputAttrs, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { KernelRunner } from './kernel-runner.js';
import { convGradGeometry, type ConvGradGeometry } from './conv-geometry.js';

/** Geometry of one input-gradient problem, NHWC. */
export type InputGradGeometry = ConvGradGeometry;

/** How one phase of one axis is computed. */
export interface PhasePlan {
  /** Phase index p (t mod s). */
  phase: number;
  /** Filter taps in this phase: taps p, p+s, ... below k. 0 means this phase is all zeros. */
  taps: number;
  /** Rows of dy to cut at the front / back before the correlation. */
  cropBefore: number;
  cropAfter: number;
  /** Zero rows to add at the front / back. */
  padBefore: number;
  padAfter: number;
}

/** The phase decomposition along one axis. */
export interface AxisPlan {
  /** Outputs per phase (the same for all phases). */
  perPhase: number;
  /** After interleaving (length perPhase·s), where the input extent starts. */
  offset: number;
  phases: PhasePlan[];
}

/**
 * Plan the phases along one axis of the input gradient: input length `inSize`, output
 * (dy) length `outSize`, filter taps `k`, stride `s`, padding in front `padBefore`.
 * Every phase yields q = qMin..qMax where t = q·s + p covers [padBefore, padBefore+inSize).
 */
export function planAxis(inSize: number, outSize: number, k: number, s: number, padBefore: number): AxisPlan {
  const qMin = Math.floor(padBefore / s);
  const qMax = Math.floor((padBefore + inSize - 1) / s);
  const phases: PhasePlan[] = [];
  for (let p = 0; p < s; p++) {
    const taps = p < k ? Math.ceil((k - p) / s) : 0;
    // dx_p[q] reads dy[q - taps + 1 .. q]; over q in [qMin, qMax] that is
    // dy[qMin - taps + 1 .. qMax]: pad (or crop) dy to exactly that range.
    const before = taps - 1 - qMin;
    const after = qMax - (outSize - 1);
    phases.push({
      phase: p,
      taps,
      cropBefore: Math.max(0, -before),
      cropAfter: Math.max(0, -after),
      padBefore: Math.max(0, before),
      padAfter: Math.max(0, after),
    });
  }
  return { perPhase: qMax - qMin + 1, offset: padBefore - qMin * s, phases };
}

/**
 * The sub-filter of phase (ph, pw), rotated by 180° with its channel axes swapped:
 * taps W[ph + a·sH, pw + b·sW] for a < ph.taps, b < pw.taps, in reverse order,
 * as a `[ph.taps, pw.taps, co, ci]` tensor.
 */
function rotatedSubFilter(
  run: KernelRunner,
  filterValues: Float32Array,
  g: InputGradGeometry,
  ph: PhasePlan,
  pw: PhasePlan,
): TensorInfo {
  const block = g.inChannels * g.outChannels;
  const out = new Float32Array(ph.taps * pw.taps * block);
  for (let a = 0; a < ph.taps; a++) {
    for (let b = 0; b < pw.taps; b++) {
      const i = ph.phase + (ph.taps - 1 - a) * g.strideHeight;
      const j = pw.phase + (pw.taps - 1 - b) * g.strideWidth;
      const from = (i * g.filterWidth + j) * block;
      out.set(filterValues.subarray(from, from + block), (a * pw.taps + b) * block);
    }
  }
  const sub = run.fromValues([ph.taps, pw.taps, g.inChannels, g.outChannels], out);
  return run.transpose(sub, [0, 1, 3, 2]);
}

/** One phase (ph, pw): a stride-1 forward convolution of dy with the rotated sub-filter. */
function phaseGrad(
  run: KernelRunner,
  dy: TensorInfo,
  filterValues: Float32Array,
  g: InputGradGeometry,
  ph: PhasePlan,
  pw: PhasePlan,
  rows: number,
  cols: number,
): TensorInfo {
  const hKept = g.outHeight - ph.cropBefore - ph.cropAfter;
  const wKept = g.outWidth - pw.cropBefore - pw.cropAfter;
  if (ph.taps === 0 || pw.taps === 0 || hKept <= 0 || wKept <= 0) {
    return run.fromValues([g.batch, rows, cols, g.inChannels], new Float32Array(g.batch * rows * cols * g.inChannels));
  }
  let src = dy;
  if (hKept < g.outHeight || wKept < g.outWidth) {
    src = run.slice(dy, [0, ph.cropBefore, pw.cropBefore, 0], [g.batch, hKept, wKept, g.outChannels]);
  }
  return run.run(
    'Conv2D',
    { x: src, filter: rotatedSubFilter(run, filterValues, g, ph, pw) },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [ph.padBefore, ph.padAfter],
        [pw.padBefore, pw.padAfter],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    },
  );
}

/** dx for NHWC `dy` and filter `[kh, kw, ci, co]` through forward convolutions. */
export function inputGradByConv(run: KernelRunner, dy: TensorInfo, filter: TensorInfo, g: InputGradGeometry): TensorInfo {
  const sH = g.strideHeight;
  const sW = g.strideWidth;
  const planH = planAxis(g.inHeight, g.outHeight, g.filterHeight, sH, g.padTop);
  const planW = planAxis(g.inWidth, g.outWidth, g.filterWidth, sW, g.padLeft);
  const rows = planH.perPhase;
  const cols = planW.perPhase;
  const filterValues = run.read(filter);
  const rowPhases: TensorInfo[] = [];
  for (const ph of planH.phases) {
    const colPhases = planW.phases.map((pw) => phaseGrad(run, dy, filterValues, g, ph, pw, rows, cols));
    // [N, rows, cols, sW·ci] -> [N, rows, cols·sW, ci]: column q·sW + pw holds phase pw.
    rowPhases.push(
      colPhases.length === 1
        ? colPhases[0]
        : run.reshape(run.concat(colPhases, 3), [g.batch, rows, cols * sW, g.inChannels]),
    );
  }
  // [N, rows, sH·cols·sW, ci] -> [N, rows·sH, cols·sW, ci]: row q·sH + ph holds phase ph.
  const full =
    rowPhases.length === 1
      ? rowPhases[0]
      : run.reshape(run.concat(rowPhases, 2), [g.batch, rows * sH, cols * sW, g.inChannels]);
  if (planH.offset === 0 && planW.offset === 0 && rows * sH === g.inHeight && cols * sW === g.inWidth) return full;
  return run.slice(full, [0, planH.offset, planW.offset, 0], [g.batch, g.inHeight, g.inWidth, g.inChannels]);
}

/**
 * A `Conv2DBackpropInput` kernel function for `backendName` that runs on that backend's
 * forward `Conv2D`, `PadV2`, `Reverse`, `Transpose` and `Slice` kernels. Supports NHWC
 * and NCHW, every padding mode and any stride.
 */
export function makeConv2DBackpropInput(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    const { geo, channelsFirst } = convGradGeometry(a.inputShape, filter.shape, a);
    return KernelRunner.compose(backend as KernelBackend, backendName, (run) => {
      const dyh = channelsFirst ? run.transpose(dy, [0, 2, 3, 1]) : dy;
      const dx = inputGradByConv(run, dyh, filter, geo);
      return channelsFirst ? run.transpose(dx, [0, 3, 1, 2]) : dx;
    });
  };
}
