/**
 * `Conv2DBackpropFilter` (the gradient of a 2-D convolution with respect to its filter)
 * built from the backend's own fast forward kernels.
 *
 * The filter gradient is a correlation of the input with the output gradient:
 *
 *     dW[i, j, ci, co] = Σ_{n, oh, ow} xPad[n, oh·sH + i, ow·sW + j, ci] · dy[n, oh, ow, co]
 *
 * Read with the batch as the channel axis this is itself a forward convolution: input
 * `x` transposed to `[ci, H, W, N]` (ci plays the batch), filter `dy` transposed to
 * `[Ho, Wo, N, co]`, stride 1 and dilation = the forward stride, with the forward pass's
 * top/left padding applied explicitly. Its output `[ci, kh, kw, co]` transposed to
 * `[kh, kw, ci, co]` is dW. A 1×1 stride-1 unpadded filter gradient is just `xᵀ·dy`
 * (one matrix product).
 */
import type {
  Conv2DBackpropFilterAttrs,
  KernelBackend,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import { KernelRunner } from './kernel-runner.js';
import { convGradGeometry, type ConvGradGeometry } from './conv-geometry.js';

/** Geometry of one filter-gradient problem, NHWC. */
export type FilterGradGeometry = ConvGradGeometry;

/**
 * Rows (or columns) of the unpadded input that the forward convolution reads: in padded
 * coordinates the last tap is at `(out-1)·stride + k - 1`, so the first
 * `(out-1)·stride + k - padBefore` input rows are used (never more than the input has).
 * Rows past that (VALID convolutions whose size does not divide evenly) never meet a
 * gradient and are cut off before the correlation instead of being computed and discarded.
 */
export function usedInputExtent(inSize: number, outSize: number, k: number, stride: number, padBefore: number): number {
  return Math.min(inSize, (outSize - 1) * stride + k - padBefore);
}

/** Padding after the used input so that the correlation output is exactly k long. */
export function padAfterForGradient(usedIn: number, outSize: number, k: number, stride: number, padBefore: number): number {
  return Math.max(0, (outSize - 1) * stride + k - padBefore - usedIn);
}

/** dW for NHWC `x`, `dy` through one forward Conv2D of the same backend. */
export function filterGradByConv(run: KernelRunner, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const usedH = usedInputExtent(g.inHeight, g.outHeight, g.filterHeight, g.strideHeight, g.padTop);
  const usedW = usedInputExtent(g.inWidth, g.outWidth, g.filterWidth, g.strideWidth, g.padLeft);
  let xs = x;
  if (usedH < g.inHeight || usedW < g.inWidth) {
    xs = run.slice(x, [0, 0, 0, 0], [g.batch, usedH, usedW, g.inChannels]);
  }
  // [N, H, W, ci] -> [ci, H, W, N]: input channels become the batch, the batch becomes channels.
  const xT = run.transpose(xs, [3, 1, 2, 0]);
  // [N, Ho, Wo, co] -> [Ho, Wo, N, co]: the output gradient becomes the filter.
  const dyT = run.transpose(dy, [1, 2, 0, 3]);
  const padBottom = padAfterForGradient(usedH, g.outHeight, g.filterHeight, g.strideHeight, g.padTop);
  const padRight = padAfterForGradient(usedW, g.outWidth, g.filterWidth, g.strideWidth, g.padLeft);
  const corr = run.run(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [g.padTop, padBottom],
        [g.padLeft, padRight],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [g.strideHeight, g.strideWidth],
    },
  );
  // corr: [ci, kh, kw, co] -> [kh, kw, ci, co]
  return run.transpose(corr, [1, 2, 0, 3]);
}

/**
 * dW for a 1×1, stride-1, unpadded convolution: one matrix product xᵀ·dy. `x` is
 * transposed explicitly because a plain product runs several times faster than
 * `BatchMatMul` with `transposeA` on the wasm backend (measured: 5 ms vs 51 ms for
 * x [8·38·38, 64], dy [8·38·38, 80]).
 */
export function filterGradPointwise(run: KernelRunner, x: TensorInfo, dy: TensorInfo, g: FilterGradGeometry): TensorInfo {
  const rows = g.batch * g.inHeight * g.inWidth;
  const xT = run.transpose(run.reshape(x, [rows, g.inChannels]), [1, 0]);
  const a = run.reshape(xT, [1, g.inChannels, rows]);
  const b = run.reshape(dy, [1, rows, g.outChannels]);
  const prod = run.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  return run.reshape(prod, [1, 1, g.inChannels, g.outChannels]);
}

function isPointwise(g: FilterGradGeometry): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.outHeight === g.inHeight &&
    g.outWidth === g.inWidth
  );
}

/**
 * A `Conv2DBackpropFilter` kernel function for `backendName` that runs on that backend's
 * forward `Conv2D`, `Transpose`, `Slice` and `BatchMatMul` kernels. Supports NHWC and
 * NCHW, every padding mode (same, valid, number, explicit) and any stride.
 */
export function makeConv2DBackpropFilter(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    const { geo, channelsFirst } = convGradGeometry(x.shape, a.filterShape, a);
    return KernelRunner.compose(backend as KernelBackend, backendName, (run) => {
      let xh = x;
      let dyh = dy;
      if (channelsFirst) {
        xh = run.transpose(x, [0, 2, 3, 1]);
        dyh = run.transpose(dy, [0, 2, 3, 1]);
      }
      return isPointwise(geo) ? filterGradPointwise(run, xh, dyh, geo) : filterGradByConv(run, xh, dyh, geo);
    });
  };
}

