/**
 * dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1`, the network
 * face-api.js calls FaceRecognitionNet) as a TensorFlow.js layers model.
 *
 * 150×150 RGB face chip → 7×7/2 convolution → 3×3/2 max pool → 13 residual blocks
 * (32, 64, 128, 256 channels; the first block of each width halves the resolution) →
 * global average → 128-d linear embedding. Every convolution is followed by dlib's affine
 * "scale" layer (its frozen batch norm), kept as a layer of its own so that the weights stay
 * exactly the values face-api ships (8-bit quantized, stored as such). The input
 * normalisation `(x − mean RGB) / 255` is the model's first layer: it takes RGB 0…255.
 *
 * Weights come from face-api's converted copy of dlib's model (see `dlib-weights.ts`); dlib
 * releases its models into the public domain.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { ChannelAffine, ZeroPadChannels } from '../facenet/layers.js';

/** Side of the face chip the network takes. */
export const DLIB_RESNET_INPUT_SIZE = 150;
/** Length of its embedding. */
export const DLIB_RESNET_DIMENSION = 128;
/** Channel means subtracted from the input (RGB, 0…255). */
export const DLIB_MEAN_RGB: readonly [number, number, number] = [122.782, 117.001, 104.298];
/** Divisor of the centred input (face-api's; dlib's own C++ code divides by 256). */
export const DLIB_INPUT_SCALE = 255;

/** One residual block: name (as in face-api's weights), output channels, whether it halves the resolution. */
export interface DlibResidualBlock {
  name: string;
  filters: number;
  down: boolean;
}

/** The residual blocks in order. */
export const DLIB_RESNET_BLOCKS: readonly DlibResidualBlock[] = Object.freeze([
  { name: 'conv32_1', filters: 32, down: false },
  { name: 'conv32_2', filters: 32, down: false },
  { name: 'conv32_3', filters: 32, down: false },
  { name: 'conv64_down', filters: 64, down: true },
  { name: 'conv64_1', filters: 64, down: false },
  { name: 'conv64_2', filters: 64, down: false },
  { name: 'conv64_3', filters: 64, down: false },
  { name: 'conv128_down', filters: 128, down: true },
  { name: 'conv128_1', filters: 128, down: false },
  { name: 'conv128_2', filters: 128, down: false },
  { name: 'conv256_down', filters: 256, down: true },
  { name: 'conv256_1', filters: 256, down: false },
  { name: 'conv256_2', filters: 256, down: false },
  { name: 'conv256_down_out', filters: 256, down: true },
]);

/** Names of the input normalisation, the stem convolution and the final linear layer. */
export const DLIB_INPUT_NORMALIZATION = 'input_normalization';
export const DLIB_STEM = 'conv32_down';
export const DLIB_EMBEDDING = 'fc';

/** Convolution (`<name>/conv`), dlib's affine scale (`<name>/scale`), optional ReLU. */
function conv(x: SymbolicTensor, name: string, filters: number, kernel: number, stride: number, relu: boolean): SymbolicTensor {
  let y = tfl.layers
    .conv2d({ name: `${name}/conv`, filters, kernelSize: kernel, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: true })
    .apply(x) as SymbolicTensor;
  y = new ChannelAffine({ name: `${name}/scale` }).apply(y) as SymbolicTensor;
  return relu ? (tfl.layers.reLU({ name: `${name}/relu` }).apply(y) as SymbolicTensor) : y;
}

/** Spatial side of a tensor (square everywhere in this network). */
const side = (x: SymbolicTensor): number => x.shape[1] as number;

/**
 * A residual block. The plain block adds its input; the down block adds its input averaged
 * over 2×2 cells, widened with zero channels and, where the strided convolution came out one
 * pixel smaller than the pooled shortcut, the branch is zero-padded at the bottom and right
 * (dlib's `add_prev` sums tensors of different sizes over their common top-left part padded
 * with zeros).
 */
function residualBlock(x: SymbolicTensor, block: DlibResidualBlock): SymbolicTensor {
  const inChannels = x.shape[3] as number;
  let branch = conv(x, `${block.name}/conv1`, block.filters, 3, block.down ? 2 : 1, true);
  branch = conv(branch, `${block.name}/conv2`, block.filters, 3, 1, false);
  let shortcut = x;
  if (block.down) {
    shortcut = tfl.layers.averagePooling2d({ name: `${block.name}/pool`, poolSize: 2, strides: 2, padding: 'valid' }).apply(x) as SymbolicTensor;
    const extra = side(shortcut) - side(branch);
    if (extra > 0) {
      branch = tfl.layers
        .zeroPadding2d({ name: `${block.name}/pad`, padding: [[0, extra], [0, extra]] })
        .apply(branch) as SymbolicTensor;
    }
    if (block.filters > inChannels) {
      shortcut = new ZeroPadChannels({ name: `${block.name}/widen`, channels: block.filters - inChannels }).apply(shortcut) as SymbolicTensor;
    }
  }
  const sum = tfl.layers.add({ name: `${block.name}/add` }).apply([branch, shortcut]) as SymbolicTensor;
  return tfl.layers.reLU({ name: `${block.name}/relu` }).apply(sum) as SymbolicTensor;
}

/**
 * Build dlib's face-recognition ResNet (untrained; `dlibResnetFromFaceApi` loads the real
 * weights). Input `[n, 150, 150, 3]` RGB 0…255, output `[n, 128]` (not
 * normalised).
 */
export function buildDlibResnet(): tfl.LayersModel {
  const input = tfl.input({ name: 'chips', shape: [DLIB_RESNET_INPUT_SIZE, DLIB_RESNET_INPUT_SIZE, 3] });
  let x = new ChannelAffine({ name: DLIB_INPUT_NORMALIZATION, trainable: false }).apply(input) as SymbolicTensor;
  x = conv(x, DLIB_STEM, 32, 7, 2, true);
  x = tfl.layers.maxPooling2d({ name: 'stem/pool', poolSize: 3, strides: 2, padding: 'valid' }).apply(x) as SymbolicTensor;
  for (const block of DLIB_RESNET_BLOCKS) x = residualBlock(x, block);
  x = tfl.layers.globalAveragePooling2d({ name: 'global_average' }).apply(x) as SymbolicTensor;
  const out = tfl.layers.dense({ name: DLIB_EMBEDDING, units: DLIB_RESNET_DIMENSION, useBias: false }).apply(x) as SymbolicTensor;
  return tfl.model({ name: 'DlibFaceRecognitionResnet', inputs: input, outputs: out });
}
