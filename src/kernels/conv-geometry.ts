/**
 * The geometry both convolution-gradient kernels work from, read off tfjs's own
 * `computeConv2DInfo` so that padding modes, rounding and data formats mean exactly what
 * they mean for the forward convolution.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';

/** Geometry of one convolution-gradient problem, NHWC (`in*` is x, `out*` is dy). */
export interface ConvGradGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** The attributes the two gradient kernels share with the forward convolution. */
export type ConvGradAttrs = Pick<Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>;

/**
 * The geometry of the forward convolution of an input of `inputShape` with a filter of
 * `filterShape` (`[kh, kw, ci, co]`), and whether the tensors are NCHW.
 */
export function convGradGeometry(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvGradAttrs,
): { geo: ConvGradGeometry; channelsFirst: boolean } {
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  return {
    channelsFirst: info.dataFormat === 'channelsFirst',
    geo: {
      batch: info.batchSize,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      inChannels: info.inChannels,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      outChannels: info.outChannels,
      filterHeight: info.filterHeight,
      filterWidth: info.filterWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    },
  };
}
