/**
 * MTCNN weights: the three sets tfjs-facenet reads, turned into one set of tensors.
 *
 * - `caffe`: `det1.npy`, `det2.npy`, `det3.npy` of davidsandberg/facenet (the original
 *   Caffe model). Layer names `conv1`, `PReLU1`/`prelu1`, `conv4-1`, `conv5` (R-Net fc), ….
 * - `faceapi`: the same numbers converted by face-api.js (a tfjs weights manifest and one
 *   shard; names like `pnet/conv1/weights`, `rnet/prelu4_alpha`, `onet/fc2_3/bias`). Every
 *   tensor is bit-identical to its `caffe` counterpart, fully-connected layers included (both
 *   flatten the transposed `[W, H, C]` feature map), so the two give identical detections.
 * - `seed`: LeslieZhoa/tensorflow-facenet's re-trained MTCNN (TensorFlow 1.x checkpoints,
 *   `PNet/conv1/weights`, `PNet/conv1/alphas`, `RNet/fc1/weights`, `ONet/landmark_fc/…`).
 *   Same layer shapes, but its fully-connected hidden layer uses ReLU rather than PReLU, and
 *   it expects BGR input in the normal (not transposed) orientation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, FileNotFoundError, WeightsFormatError } from '../errors.js';
import type { NamedArray, NamedArrays } from '../io/types.js';
import { nodeBuiltins } from '../runtime/node-platform.js';

/** A convolution: `filter` `[kh, kw, in, out]` (HWIO) and `bias` `[out]`. */
export interface ConvParams {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/** A fully-connected layer: `weights` `[in, out]` and `bias` `[out]`. */
export interface FcParams {
  weights: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** The first three convolutions, each followed by PReLU, that every one of the three networks begins with. */
export interface ConvPreluTrunk {
  conv1: ConvParams;
  prelu1: tf.Tensor1D;
  conv2: ConvParams;
  prelu2: tf.Tensor1D;
  conv3: ConvParams;
  prelu3: tf.Tensor1D;
}

/** P-Net: three 3×3 convolutions with PReLU, then 1×1 heads (face probability, box). */
export interface PNetParams extends ConvPreluTrunk {
  /** 2 logits: not-face, face. */
  conv4_1: ConvParams;
  /** 4 box-regression outputs. */
  conv4_2: ConvParams;
  /**
   * Both heads folded into one 1×1 convolution with 5 outputs, derived from `conv4_1` and
   * `conv4_2` when the weights load: the face logit minus the not-face logit, then the 4 box
   * offsets. A softmax over two classes is the logistic function of that margin, so the
   * detector gets everything from one small convolution instead of two plus a softmax, a
   * slice and a concatenation (each a full pass over the map on wasm).
   */
  head: ConvParams;
  /**
   * Copies of the weights the detector runs, one per pyramid level (wasm backend only), so
   * that the backend keeps each level's prepared convolutions from frame to frame.
   */
  levelCopies?: PNetRunWeights[];
}

/** What the detector runs of P-Net: the layers before the heads, and the folded head. */
export type PNetRunWeights = ConvPreluTrunk & Pick<PNetParams, 'head'>;

/** R-Net: three convolutions with PReLU, a 128-unit hidden layer, two heads. */
export interface RNetParams extends ConvPreluTrunk {
  fc1: FcParams;
  /** PReLU slopes of the hidden layer; absent → ReLU (the seed's nets). */
  prelu4?: tf.Tensor1D;
  fc2_1: FcParams;
  fc2_2: FcParams;
  /** `fc2_1` (as its face logit margin) and `fc2_2` in one layer, derived at load time: see {@link PNetParams.head}. */
  head: FcParams;
}

/** O-Net: four convolutions with PReLU, a 256-unit hidden layer, three heads. */
export interface ONetParams extends ConvPreluTrunk {
  conv4: ConvParams;
  prelu4: tf.Tensor1D;
  fc1: FcParams;
  /** PReLU slopes of the hidden layer; absent → ReLU (the seed's nets). */
  prelu5?: tf.Tensor1D;
  fc2_1: FcParams;
  fc2_2: FcParams;
  /** 10 landmark outputs. */
  fc2_3: FcParams;
  /** `fc2_1` (as its face logit margin), `fc2_2` and `fc2_3` in one layer, derived at load time: see {@link PNetParams.head}. */
  head: FcParams;
}

/**
 * Which detector the weights belong to, which decides pre- and post-processing:
 * `facenet` — davidsandberg/facenet's `detect_face` (Caffe weights: transposed RGB input);
 * `seed` — the seed project's `MtcnnDetector` (BGR input, its own box arithmetic).
 */
export type MtcnnVariant = 'facenet' | 'seed';

/** All three networks' tensors. */
export interface MtcnnParams {
  variant: MtcnnVariant;
  /** `caffe`, `faceapi` or `seed`. */
  format: string;
  /** Where the weights were read from. */
  source: string;
  pnet: PNetParams;
  rnet: RNetParams;
  onet: ONetParams;
}

/** Expected shapes, shared by all formats (the three sets have identical layer shapes). */
const SHAPES = {
  pnet: {
    conv1: [3, 3, 3, 10],
    conv2: [3, 3, 10, 16],
    conv3: [3, 3, 16, 32],
    conv4_1: [1, 1, 32, 2],
    conv4_2: [1, 1, 32, 4],
  },
  rnet: {
    conv1: [3, 3, 3, 28],
    conv2: [3, 3, 28, 48],
    conv3: [2, 2, 48, 64],
    fc1: [576, 128],
    fc2_1: [128, 2],
    fc2_2: [128, 4],
  },
  onet: {
    conv1: [3, 3, 3, 32],
    conv2: [3, 3, 32, 64],
    conv3: [3, 3, 64, 64],
    conv4: [2, 2, 64, 128],
    fc1: [1152, 256],
    fc2_1: [256, 2],
    fc2_2: [256, 4],
    fc2_3: [256, 10],
  },
} as const;

/** Reads named arrays by name, checking shapes, and builds tensors (all tracked for disposal). */
class ParamBuilder {
  readonly tensors: tf.Tensor[] = [];
  constructor(
    private readonly arrays: NamedArrays,
    private readonly source: string,
  ) {}

  array(name: string, shape: readonly number[]): NamedArray {
    const a = this.arrays.get(name);
    if (!a) throw new WeightsFormatError(this.source, `missing tensor ${name}`);
    if (a.dtype !== 'float32' && a.dtype !== 'float64') {
      throw new WeightsFormatError(this.source, `${name} has dtype ${a.dtype}, expected float32`);
    }
    if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
      throw new WeightsFormatError(this.source, `${name} has shape [${a.shape}], expected [${shape}]`);
    }
    return a;
  }

  tensor<R extends tf.Rank>(name: string, shape: readonly number[]): tf.Tensor<R> {
    const a = this.array(name, shape);
    const t = tf.tensor(Float32Array.from(a.data as Float32Array | Float64Array), [...shape] as number[], 'float32') as unknown as tf.Tensor<R>;
    this.tensors.push(t);
    return t;
  }

  conv(prefix: string, shape: readonly number[], biasName = 'biases', weightsName = 'weights'): ConvParams {
    return {
      filter: this.tensor<tf.Rank.R4>(`${prefix}/${weightsName}`, shape),
      bias: this.tensor<tf.Rank.R1>(`${prefix}/${biasName}`, [shape[3]]),
    };
  }

  fc(prefix: string, shape: readonly number[], biasName = 'biases', weightsName = 'weights'): FcParams {
    return {
      weights: this.tensor<tf.Rank.R2>(`${prefix}/${weightsName}`, shape),
      bias: this.tensor<tf.Rank.R1>(`${prefix}/${biasName}`, [shape[1]]),
    };
  }

  /** Track tensors made from the others (a tensor, or a layer's tensors), so they are disposed with them. */
  keep<T extends tf.Tensor | ConvParams | FcParams>(v: T): T {
    for (const t of v instanceof tf.Tensor ? [v] : Object.values(v)) this.tensors.push(t as tf.Tensor);
    return v;
  }

  vec(name: string, n: number): tf.Tensor1D {
    return this.tensor<tf.Rank.R1>(name, [n]);
  }

  /** Run `build`; on failure dispose what was made so far. */
  static make<T>(arrays: NamedArrays, source: string, build: (b: ParamBuilder) => T): T {
    const b = new ParamBuilder(arrays, source);
    try {
      return build(b);
    } catch (e) {
      for (const t of b.tensors) t.dispose();
      throw e;
    }
  }
}

/** Look a name up case-insensitively (the Caffe files spell `PReLU1` in P-Net, `prelu1` elsewhere). */
function withCaseInsensitiveKeys(arrays: NamedArrays): NamedArrays {
  const out: NamedArrays = new Map(arrays);
  for (const [k, v] of arrays) if (!out.has(k.toLowerCase())) out.set(k.toLowerCase(), v);
  return out;
}

type NetName = 'pnet' | 'rnet' | 'onet';

/** How one weights format names the variables of the three networks. */
interface NameScheme {
  /** Variable prefix of a convolution or fully-connected layer (named as in {@link PNetParams} etc.). */
  layer(net: NetName, layer: string): string;
  /** PReLU slopes following conv layer `index` (1-based), or the hidden fc layer (`hidden`); `null` → ReLU there. */
  prelu(net: NetName, index: number, hidden: boolean): string | null;
  /** Name of the bias under a layer prefix (the weights are always `weights`). */
  bias: string;
}

/**
 * The three networks from any format: layers, shapes and build order are the same for all;
 * only the variable names (`names`) differ.
 */
function buildNets(b: ParamBuilder, names: NameScheme): Pick<MtcnnParams, 'pnet' | 'rnet' | 'onet'> {
  const S = SHAPES;
  const conv = (net: NetName, layer: string, shape: readonly number[]) => b.conv(names.layer(net, layer), shape, names.bias);
  const fc = (net: NetName, layer: string, shape: readonly number[]) => b.fc(names.layer(net, layer), shape, names.bias);
  const prelu = (net: NetName, index: number, n: number) => b.vec(names.prelu(net, index, false)!, n);
  // The hidden layer's slopes, under `key` — or no such key at all for ReLU.
  const hidden = <K extends string>(key: K, net: NetName, index: number, n: number): Partial<Record<K, tf.Tensor1D>> => {
    const name = names.prelu(net, index, true);
    return (name === null ? {} : { [key]: b.vec(name, n) }) as Partial<Record<K, tf.Tensor1D>>;
  };
  const pnetLayers = {
    conv1: conv('pnet', 'conv1', S.pnet.conv1),
    prelu1: prelu('pnet', 1, 10),
    conv2: conv('pnet', 'conv2', S.pnet.conv2),
    prelu2: prelu('pnet', 2, 16),
    conv3: conv('pnet', 'conv3', S.pnet.conv3),
    prelu3: prelu('pnet', 3, 32),
    conv4_1: conv('pnet', 'conv4_1', S.pnet.conv4_1),
    conv4_2: conv('pnet', 'conv4_2', S.pnet.conv4_2),
  };
  const pnet: PNetParams = { ...pnetLayers, head: b.keep(foldPnetHead(pnetLayers.conv4_1, pnetLayers.conv4_2)) };
  pnet.levelCopies = pnetCopies(b, pnet);
  const rnetLayers = {
    conv1: conv('rnet', 'conv1', S.rnet.conv1),
    prelu1: prelu('rnet', 1, 28),
    conv2: conv('rnet', 'conv2', S.rnet.conv2),
    prelu2: prelu('rnet', 2, 48),
    conv3: conv('rnet', 'conv3', S.rnet.conv3),
    prelu3: prelu('rnet', 3, 64),
    fc1: fc('rnet', 'fc1', S.rnet.fc1),
    ...hidden('prelu4', 'rnet', 4, 128),
    fc2_1: fc('rnet', 'fc2_1', S.rnet.fc2_1),
    fc2_2: fc('rnet', 'fc2_2', S.rnet.fc2_2),
  };
  const rnet: RNetParams = { ...rnetLayers, head: b.keep(foldFcHeads(rnetLayers.fc2_1, [rnetLayers.fc2_2])) };
  const onetLayers = {
    conv1: conv('onet', 'conv1', S.onet.conv1),
    prelu1: prelu('onet', 1, 32),
    conv2: conv('onet', 'conv2', S.onet.conv2),
    prelu2: prelu('onet', 2, 64),
    conv3: conv('onet', 'conv3', S.onet.conv3),
    prelu3: prelu('onet', 3, 64),
    conv4: conv('onet', 'conv4', S.onet.conv4),
    prelu4: prelu('onet', 4, 128),
    fc1: fc('onet', 'fc1', S.onet.fc1),
    ...hidden('prelu5', 'onet', 5, 256),
    fc2_1: fc('onet', 'fc2_1', S.onet.fc2_1),
    fc2_2: fc('onet', 'fc2_2', S.onet.fc2_2),
    fc2_3: fc('onet', 'fc2_3', S.onet.fc2_3),
  };
  const onet: ONetParams = { ...onetLayers, head: b.keep(foldFcHeads(onetLayers.fc2_1, [onetLayers.fc2_2, onetLayers.fc2_3])) };
  return { pnet, rnet, onet };
}

/**
 * The heads of a network folded into one layer: the face logit minus the not-face logit of
 * the classifier `cls` (a two-class softmax is the logistic function of that margin), then
 * the outputs of `rest` in order; weights concatenated along `axis` (the output axis).
 */
function foldHeads<W extends tf.Tensor>(cls: { w: W; b: tf.Tensor1D }, rest: { w: W; b: tf.Tensor1D }[], axis: number): { w: W; b: tf.Tensor1D } {
  return tf.tidy(() => {
    const margin = <T extends tf.Tensor>(t: T, ax: number): T => {
      const [notFace, face] = tf.split(t, 2, ax);
      return tf.sub(face, notFace) as T;
    };
    return {
      w: tf.concat([margin(cls.w, axis), ...rest.map((r) => r.w)], axis) as W,
      b: tf.concat([margin(cls.b, 0), ...rest.map((r) => r.b)], 0) as tf.Tensor1D,
    };
  });
}

const asConv = (c: ConvParams) => ({ w: c.filter, b: c.bias });
const asFc = (f: FcParams) => ({ w: f.weights, b: f.bias });

/** {@link PNetParams.head}: `[face − not-face, box × 4]`. */
function foldPnetHead(cls: ConvParams, box: ConvParams): ConvParams {
  const { w, b } = foldHeads(asConv(cls), [asConv(box)], 3);
  return { filter: w, bias: b };
}

/** R-Net's / O-Net's `head`: `[face − not-face, box × 4 (, landmarks × 10)]`. */
function foldFcHeads(cls: FcParams, rest: FcParams[]): FcParams {
  const { w, b } = foldHeads(asFc(cls), rest.map(asFc), 1);
  return { weights: w, bias: b };
}

/**
 * Caffe layer names where they differ from ours: P-Net's heads are `conv4-1`/`conv4-2`,
 * R-Net's fully-connected layers `conv4`, `conv5-1`, `conv5-2`, O-Net's `conv5`, `conv6-1…3`.
 */
const CAFFE_LAYERS: Record<NetName, Record<string, string>> = {
  pnet: { conv4_1: 'conv4-1', conv4_2: 'conv4-2' },
  rnet: { fc1: 'conv4', fc2_1: 'conv5-1', fc2_2: 'conv5-2' },
  onet: { fc1: 'conv5', fc2_1: 'conv6-1', fc2_2: 'conv6-2', fc2_3: 'conv6-3' },
};

/** `det1-3.npy` keys (lower-cased, under `pnet/`, `rnet/`, `onet/`): `conv1/weights`, `prelu1/alpha`, …. */
const CAFFE_NAMES: NameScheme = {
  layer: (net, layer) => `${net}/${CAFFE_LAYERS[net][layer] ?? layer}`,
  prelu: (net, index) => `${net}/prelu${index}/alpha`,
  bias: 'biases',
};

/** face-api.js: `pnet/conv1/weights`, `pnet/conv1/bias`, `pnet/prelu1_alpha`, `rnet/fc2_1/…`. */
const FACEAPI_NAMES: NameScheme = {
  layer: (net, layer) => `${net}/${layer}`,
  prelu: (net, index) => `${net}/prelu${index}_alpha`,
  bias: 'bias',
};

/** The seed's heads are `cls_fc`, `bbox_fc`, `landmark_fc`. */
const SEED_LAYERS: Record<string, string> = { fc2_1: 'cls_fc', fc2_2: 'bbox_fc', fc2_3: 'landmark_fc' };
const SEED_NETS: Record<NetName, string> = { pnet: 'PNet', rnet: 'RNet', onet: 'ONet' };

/** The seed's checkpoints: `PNet/conv1/weights`, `PNet/conv1/alphas`, `RNet/cls_fc/biases`; ReLU hidden layers. */
const SEED_NAMES: NameScheme = {
  layer: (net, layer) => `${SEED_NETS[net]}/${SEED_LAYERS[layer] ?? layer}`,
  prelu: (net, index, hidden) => (hidden ? null : `${SEED_NETS[net]}/conv${index}/alphas`),
  bias: 'biases',
};

/**
 * Build parameters from the three Caffe `.npy` dicts (as returned by `readMtcnnCaffeNpy`:
 * keys `layer/param`).
 */
export function paramsFromCaffe(det1: NamedArrays, det2: NamedArrays, det3: NamedArrays, source = 'mtcnn caffe npy'): MtcnnParams {
  const p1 = withCaseInsensitiveKeys(det1);
  const p2 = withCaseInsensitiveKeys(det2);
  const p3 = withCaseInsensitiveKeys(det3);
  const all: NamedArrays = new Map();
  for (const [k, v] of p1) all.set(`pnet/${k}`, v);
  for (const [k, v] of p2) all.set(`rnet/${k}`, v);
  for (const [k, v] of p3) all.set(`onet/${k}`, v);
  return ParamBuilder.make(all, source, (b) => ({ variant: 'facenet', format: 'caffe', source, ...buildNets(b, CAFFE_NAMES) }));
}

/** Build parameters from face-api.js's MTCNN weight map (names as in its manifest). */
export function paramsFromFaceApi(arrays: NamedArrays, source = 'face-api.js mtcnn manifest'): MtcnnParams {
  return ParamBuilder.make(arrays, source, (b) => ({ variant: 'facenet', format: 'faceapi', source, ...buildNets(b, FACEAPI_NAMES) }));
}

/** Build parameters from the seed's three checkpoints (variables `PNet/…`, `RNet/…`, `ONet/…`). */
export function paramsFromSeed(arrays: NamedArrays, source = 'seed checkpoints'): MtcnnParams {
  return ParamBuilder.make(arrays, source, (b) => ({ variant: 'seed', format: 'seed', source, ...buildNets(b, SEED_NAMES) }));
}

/** Pyramid levels with weights of their own; deeper levels share the last copy. */
const PNET_LEVEL_COPIES = 16;

/**
 * Copies of P-Net's weights, one per pyramid level, made when the weights load on the wasm
 * backend: that backend keeps one prepared XNNPACK convolution per weight tensor, set up for
 * the last input size it saw, and re-preparing every convolution for every level of every
 * frame (its indirection buffers) cost ≈ 10 ms of a 640×480 frame's detection. With a copy
 * per level, frames of one size reuse each level's preparation. Same numbers, same results.
 */
function pnetCopies(b: ParamBuilder, p: PNetParams): PNetRunWeights[] | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const copy = <T extends tf.Tensor>(t: T): T => b.keep(tf.clone(t));
  const conv = (c: ConvParams): ConvParams => ({ filter: copy(c.filter), bias: copy(c.bias) });
  return Array.from({ length: PNET_LEVEL_COPIES }, () => ({
    conv1: conv(p.conv1),
    prelu1: copy(p.prelu1),
    conv2: conv(p.conv2),
    prelu2: copy(p.prelu2),
    conv3: conv(p.conv3),
    prelu3: copy(p.prelu3),
    head: conv(p.head),
  }));
}

/** P-Net's weights for pyramid level `level` (0 = the largest): see `pnetCopies`. */
export function pnetLevelWeights(p: PNetParams, level: number): PNetRunWeights {
  const copies = p.levelCopies;
  return copies ? copies[Math.min(level, copies.length - 1)] : p;
}

/** Every tensor of a parameter set (P-Net's level copies included). */
export function paramTensors(params: MtcnnParams): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  const visit = (v: unknown): void => {
    if (v instanceof tf.Tensor) out.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) visit(x);
  };
  visit(params.pnet);
  visit(params.rnet);
  visit(params.onet);
  return out;
}

/** Dispose every tensor of a parameter set. */
export function disposeParams(params: MtcnnParams): void {
  for (const t of paramTensors(params)) t.dispose();
}

/** Decode a tfjs weights manifest and its shard bytes into named arrays. */
export function decodeFaceApiWeights(
  manifest: tf.io.WeightsManifestConfig,
  shards: Uint8Array[],
  source = 'face-api.js mtcnn manifest',
): NamedArrays {
  const specs = manifest.flatMap((g) => g.weights);
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const buf = new Uint8Array(total);
  let off = 0;
  for (const s of shards) {
    buf.set(s, off);
    off += s.byteLength;
  }
  let named: tf.NamedTensorMap;
  try {
    named = tf.io.decodeWeights(buf.buffer, specs);
  } catch (e) {
    throw new WeightsFormatError(source, `cannot decode the weight shards: ${(e as Error).message}`, { cause: e });
  }
  const out: NamedArrays = new Map();
  for (const [name, t] of Object.entries(named)) {
    out.set(name, { shape: t.shape.slice(), dtype: 'float32', data: t.dataSync() as Float32Array });
    t.dispose();
  }
  return out;
}

/** Where to find the weights: a named set, or a folder holding one of the three formats. */
export type MtcnnWeightsSource = 'caffe' | 'faceapi' | 'seed' | (string & {});

const SET_NAMES = ['caffe', 'faceapi', 'seed'] as const;

/** Which format a folder holds, judged by its files; `null` when none. */
async function detectFormat(dir: string): Promise<'caffe' | 'faceapi' | 'seed' | null> {
  const { readdir } = nodeBuiltins('reading MTCNN weights from a folder').fsp;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  if (['det1.npy', 'det2.npy', 'det3.npy'].every((f) => names.includes(f))) return 'caffe';
  if (names.some((f) => f.endsWith('weights_manifest.json'))) return 'faceapi';
  if (['PNet', 'RNet', 'ONet'].every((f) => names.includes(f))) return 'seed';
  return null;
}

/** Read the weights in a folder of a known format (Node). */
export async function readMtcnnParams(format: 'caffe' | 'faceapi' | 'seed', dir: string): Promise<MtcnnParams> {
  const { join } = nodeBuiltins('reading MTCNN weights from a folder').path;
  if (format === 'caffe') {
    const { readMtcnnCaffeNpy } = await import('../io/npy.js');
    const [d1, d2, d3] = await Promise.all([1, 2, 3].map((i) => readMtcnnCaffeNpy(join(dir, `det${i}.npy`))));
    return paramsFromCaffe(d1, d2, d3, dir);
  }
  if (format === 'faceapi') {
    const { readdir } = nodeBuiltins('reading MTCNN weights from a folder').fsp;
    const { readFileBytes } = await import('../io/node-fs.js');
    const manifestName = (await readdir(dir)).find((f) => f.endsWith('weights_manifest.json'));
    if (!manifestName) throw new WeightsFormatError(dir, 'no *weights_manifest.json');
    const manifestPath = join(dir, manifestName);
    let manifest: tf.io.WeightsManifestConfig;
    try {
      manifest = JSON.parse(new TextDecoder().decode(await readFileBytes(manifestPath, 'weights manifest')));
    } catch (e) {
      if (e instanceof SyntaxError) throw new WeightsFormatError(manifestPath, `not JSON: ${e.message}`, { cause: e });
      throw e;
    }
    if (!Array.isArray(manifest)) throw new WeightsFormatError(manifestPath, 'expected an array of weight groups');
    const shards = await Promise.all(
      manifest.flatMap((g) => g.paths).map((p) => readFileBytes(join(dir, p), 'weights shard')),
    );
    return paramsFromFaceApi(decodeFaceApiWeights(manifest, shards, manifestPath), manifestPath);
  }
  const { readTfCheckpoint } = await import('../io/tf-checkpoint.js');
  const all: NamedArrays = new Map();
  for (const net of ['PNet', 'RNet', 'ONet']) {
    const arrays = await readTfCheckpoint(join(dir, net), { filter: (n) => n.startsWith(`${net}/`) && !n.endsWith('/Momentum') });
    for (const [k, v] of arrays) all.set(k, v);
  }
  return paramsFromSeed(all, dir);
}

/** The folder, relative to the package root, of the MTCNN weights the package ships (face-api.js format). */
export const SHIPPED_MTCNN_DIR = 'models/mtcnn';

/**
 * Load MTCNN weights (Node). With no `weights` (and no `weightsDir`): the set the package
 * ships ({@link SHIPPED_MTCNN_DIR}, found relative to the package, the same numbers as
 * `caffe`). Otherwise a named set (`'caffe'`, `'faceapi'`, `'seed'`; `'caffe'` when only
 * `weightsDir` is given), looked up with the weights resolver (the `weightsDir` option, env
 * `TFJS_FACENET_WEIGHTS`, the download cache), or a folder path whose format is recognised
 * from its files.
 *
 * @throws {FileNotFoundError} when the files are missing.
 * @throws {WeightsFormatError} when they are not valid MTCNN weights.
 * @throws {ConfigError} when a folder holds no recognised format.
 */
export async function loadMtcnnParams(weights?: MtcnnWeightsSource, weightsDir?: string): Promise<MtcnnParams> {
  if (weights === undefined && weightsDir === undefined) {
    const { shippedPath } = await import('../runtime/package-root.js');
    return readMtcnnParams('faceapi', shippedPath(...SHIPPED_MTCNN_DIR.split('/')));
  }
  weights ??= 'caffe';
  if ((SET_NAMES as readonly string[]).includes(weights)) {
    const set = weights as (typeof SET_NAMES)[number];
    const { resolveWeightsDir } = await import('../weights/download.js');
    const dir = await resolveWeightsDir(set, { weightsDir });
    return readMtcnnParams(set, dir);
  }
  const { resolve } = nodeBuiltins('reading MTCNN weights from a folder').path;
  const { existsSync } = nodeBuiltins('reading MTCNN weights from a folder').fs;
  const dir = resolve(weights);
  if (!existsSync(dir)) {
    throw new FileNotFoundError(dir, 'MTCNN weights folder');
  }
  const format = await detectFormat(dir);
  if (!format) {
    throw new ConfigError(
      'weights',
      `${dir} holds no MTCNN weights (expected det1-3.npy, a *weights_manifest.json, or PNet/RNet/ONet checkpoint folders)`,
    );
  }
  return readMtcnnParams(format, dir);
}
