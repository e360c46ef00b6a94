/**
 * Custom tfjs-layers layers that Inception-ResNet-v1 needs and tfjs-layers lacks or gets
 * wrong for this model. All are registered for serialization, so models containing them
 * can be saved with `model.save()` and loaded with `tf.loadLayersModel()` once this module
 * has been imported.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
/** Keyword arguments tfjs-layers passes to `Layer.call` (e.g. `training`). */
export type Kwargs = Record<string, unknown>;
type Shape = tfl.Shape;

function oneTensor(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

function oneShape(shape: Shape | Shape[]): Shape {
  return Array.isArray(shape[0]) ? (shape[0] as Shape) : (shape as Shape);
}

/**
 * Batch normalization with batch statistics over all axes but the last, with a hand-written
 * gradient. Differentiating `tf.batchNorm` instead runs its generic gradient, which tiles
 * the per-channel factors to the full activation size several times; this one needs two
 * per-channel means and three element-wise passes:
 *
 *     x̂ = (x - μ) / σ,  y = γ·x̂ + β
 *     ∂x = γ/σ · (dy - mean(dy) - x̂ · mean(dy · x̂)),  ∂β = Σ dy,  ∂γ = Σ dy · x̂
 *
 * Returns the output and the batch mean and (biased) variance; the caller disposes the
 * latter two.
 */
export function batchNormTraining(
  x: tf.Tensor,
  beta: tf.Tensor | undefined,
  gamma: tf.Tensor | undefined,
  epsilon: number,
): { out: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  let stats: tf.Tensor[] = [];
  const inputs = [x, ...(beta ? [beta] : []), ...(gamma ? [gamma] : [])];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xIn = args[0] as tf.Tensor;
    const g = gamma ? (args[beta ? 2 : 1] as tf.Tensor) : undefined;
    const b = beta ? (args[1] as tf.Tensor) : undefined;
    const { mean, variance } = tf.moments(xIn, axes);
    const invStd = tf.rsqrt(tf.add(variance, epsilon));
    const xHat = tf.mul(tf.sub(xIn, mean), invStd);
    let y = g ? tf.mul(xHat, g) : xHat;
    if (b) y = tf.add(y, b);
    // The forward function runs inside a tidy: keep the statistics for the moving averages.
    stats = [tf.keep(mean), tf.keep(variance)];
    save([xHat, invStd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv] = saved;
        const dyXHat = tf.mul(dy, xh);
        let dx = tf.mul(tf.sub(tf.sub(dy, tf.mean(dy, axes)), tf.mul(xh, tf.mean(dyXHat, axes))), inv);
        if (g) dx = tf.mul(dx, g);
        const grads = [dx];
        if (b) grads.push(tf.sum(dy, axes));
        if (g) grads.push(tf.sum(dyXHat, axes));
        return grads;
      },
    };
  });
  const out = op(...inputs);
  return { out, mean: stats[0], variance: stats[1] };
}

/** Options of {@link SlimBatchNorm}. */
export interface SlimBatchNormArgs extends LayerArgs {
  /** Moving-average decay of the population statistics. Default 0.995 (the reference's `decay`). */
  decay?: number;
  /** Added to the variance. Default 0.001. */
  epsilon?: number;
  /** Learn an offset `beta`. Default true (slim's default). */
  center?: boolean;
  /** Learn a scale `gamma`. Default false (slim's default; the reference keeps it). */
  scale?: boolean;
}

/**
 * Batch normalization over the last axis with the semantics of TF-slim's `batch_norm`
 * as the reference uses it: offset `beta`, no scale by default, population statistics
 * `moving_mean` / `moving_variance` updated in training as
 * `moving ← decay·moving + (1-decay)·batch`.
 *
 * Why not `tf.layers.batchNormalization`: with `scale: false` its training branch reads
 * the absent `gamma` and throws (tfjs-layers 4.22).
 *
 * For inputs of rank > 2 TF runs the fused kernel, whose variance for the moving
 * average carries Bessel's correction n/(n-1) (n = values per channel); rank-2 inputs
 * (the bottleneck) go through the plain moments with no correction. Both are mirrored.
 */
export class SlimBatchNorm extends tfl.layers.Layer {
  static className = 'FacenetSlimBatchNorm';
  readonly decay: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private movingMean!: tfl.LayerVariable;
  private movingVariance!: tfl.LayerVariable;

  constructor(args: SlimBatchNormArgs = {}) {
    super(args);
    this.decay = args.decay ?? 0.995;
    this.epsilon = args.epsilon ?? 0.001;
    this.center = args.center ?? true;
    this.scale = args.scale ?? false;
    this.supportsMasking = true;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = oneShape(inputShape);
    const dim = shape[shape.length - 1];
    if (dim == null) throw new Error(`${this.name}: the channel axis must have a known size`);
    if (this.scale) {
      this.gamma = this.addWeight('gamma', [dim], 'float32', tfl.initializers.ones(), undefined, true);
    }
    if (this.center) {
      this.beta = this.addWeight('beta', [dim], 'float32', tfl.initializers.zeros(), undefined, true);
    }
    this.movingMean = this.addWeight('moving_mean', [dim], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [dim], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const training = kwargs['training'] === true;
      const beta = this.beta ? (this.beta.read() as tf.Tensor1D) : undefined;
      const gamma = this.gamma ? (this.gamma.read() as tf.Tensor1D) : undefined;
      if (!training) {
        return tf.batchNorm(
          x,
          this.movingMean.read() as tf.Tensor1D,
          this.movingVariance.read() as tf.Tensor1D,
          beta,
          gamma,
          this.epsilon,
        );
      }
      const { out, mean, variance } = batchNormTraining(x, beta, gamma, this.epsilon);
      try {
        const n = x.size / x.shape[x.shape.length - 1];
        const forMoving = x.rank > 2 && n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
        const update = (v: tfl.LayerVariable, batch: tf.Tensor) =>
          v.write(tf.add(tf.mul(v.read(), this.decay), tf.mul(batch, 1 - this.decay)));
        update(this.movingMean, mean);
        update(this.movingVariance, forMoving);
      } finally {
        tf.dispose([mean, variance]);
      }
      return out;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), decay: this.decay, epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}

/** Options of {@link ScaledResidual}. */
export interface ScaledResidualArgs extends LayerArgs {
  /** Factor of the residual branch. */
  scale: number;
}

/** `[x, residual] → x + scale · residual`: the shortcut sum of the Inception-ResNet blocks. */
export class ScaledResidual extends tfl.layers.Layer {
  static className = 'FacenetScaledResidual';
  readonly scale: number;

  constructor(args: ScaledResidualArgs) {
    super(args);
    this.scale = args.scale;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw new Error(`${this.name}: expects [shortcut, residual]`);
      }
      return tf.add(inputs[0], tf.mul(inputs[1], this.scale));
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}

/** Options of {@link L2Normalize}. */
export interface L2NormalizeArgs extends LayerArgs {
  /** Lower bound of the squared norm. Default 1e-10 (as the reference's `tf.nn.l2_normalize`). */
  epsilon?: number;
}

/** `x / sqrt(max(Σ x², ε))` along the last axis. */
export class L2Normalize extends tfl.layers.Layer {
  static className = 'FacenetL2Normalize';
  readonly epsilon: number;

  constructor(args: L2NormalizeArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-10;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = oneTensor(inputs);
      const sumSq = tf.sum(tf.square(x), -1, true);
      return tf.mul(x, tf.rsqrt(tf.maximum(sumSq, this.epsilon)));
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

/** Options of {@link ZeroPadChannels}. */
export interface ZeroPadChannelsArgs extends LayerArgs {
  /** Zero channels appended after the input's channels. */
  channels: number;
}

/**
 * Appends zero channels (`[…, c] → […, c + channels]`): the identity shortcut of a residual
 * block whose branch widens the channels (dlib's ResNet adds its shortcut this way).
 */
export class ZeroPadChannels extends tfl.layers.Layer {
  static className = 'FacenetZeroPadChannels';
  readonly channels: number;

  constructor(args: ZeroPadChannelsArgs) {
    super(args);
    this.channels = args.channels;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = oneTensor(inputs);
    const pad: [number, number][] = x.shape.map(() => [0, 0]);
    pad[pad.length - 1] = [0, this.channels];
    return tf.pad(x, pad);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = [...oneShape(inputShape)];
    const c = shape[shape.length - 1];
    shape[shape.length - 1] = c == null ? null : c + this.channels;
    return shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels };
  }
}

/**
 * A per-channel affine map `x · scale + offset` over the last axis, with learned (or loaded)
 * `scale` and `offset`: dlib's `affine` layer (a frozen batch norm), and a fixed input
 * normalisation.
 */
export class ChannelAffine extends tfl.layers.Layer {
  static className = 'FacenetChannelAffine';
  private scale!: tfl.LayerVariable;
  private offset!: tfl.LayerVariable;

  override build(inputShape: Shape | Shape[]): void {
    const shape = oneShape(inputShape);
    const dim = shape[shape.length - 1];
    if (dim == null) throw new Error(`${this.name}: the channel axis must have a known size`);
    this.scale = this.addWeight('scale', [dim], 'float32', tfl.initializers.ones());
    this.offset = this.addWeight('offset', [dim], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.add(tf.mul(oneTensor(inputs), this.scale.read()), this.offset.read()));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }
}

tf.serialization.registerClass(SlimBatchNorm);
tf.serialization.registerClass(ChannelAffine);
tf.serialization.registerClass(ZeroPadChannels);
tf.serialization.registerClass(ScaledResidual);
tf.serialization.registerClass(L2Normalize);
