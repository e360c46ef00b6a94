/**
 * Runs other kernels of the same backend from inside a kernel function.
 *
 * A kernel function receives and returns backend-level `TensorInfo`s, not engine
 * tensors. Calling `tf.*` ops from inside it would put intermediate tensors on the
 * engine's gradient tape and scope stack; calling the backend's own registered kernels
 * directly keeps everything at the backend level. Every intermediate result is kept in
 * a list and released with `backend.disposeData` when the composite kernel finishes.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

export class KernelRunner {
  private readonly intermediates: TensorInfo[] = [];

  constructor(
    /** The backend instance handed to the composite kernel. */
    readonly backend: KernelBackend,
    /** Its registered name (`'wasm'`, `'cpu'`, ...). */
    readonly backendName: string,
  ) {}

  /**
   * Run the backend's kernel `name` and remember its output as an intermediate
   * (released by {@link dispose} unless passed in `keep`).
   */
  run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: object = {}): TensorInfo {
    const config = tf.getKernel(name, this.backendName);
    if (config == null) {
      throw new Error(`kernel ${name} is not registered for backend ${this.backendName}`);
    }
    const out = config.kernelFunc({
      inputs: inputs as Record<string, TensorInfo>,
      attrs: attrs as unknown as NamedAttrMap,
      backend: this.backend,
    });
    const outs = Array.isArray(out) ? out : [out];
    this.intermediates.push(...outs);
    return outs[0];
  }

  /** A new float32 tensor on the backend holding `values` (tracked as an intermediate). */
  fromValues(shape: number[], values: Float32Array): TensorInfo {
    const dataId = this.backend.write(values, shape, 'float32');
    const info: TensorInfo = { dataId, shape, dtype: 'float32' };
    this.intermediates.push(info);
    return info;
  }

  /** The values of `x`, read synchronously (cheap on the cpu and wasm backends). */
  read(x: TensorInfo): Float32Array {
    return this.backend.readSync(x.dataId) as Float32Array;
  }

  concat(xs: TensorInfo[], axis: number): TensorInfo {
    return this.run('Concat', xs, { axis });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /**
   * Run the body of a composite kernel with a fresh runner: on success every intermediate
   * except the returned output is released, on failure every intermediate.
   */
  static compose(backend: KernelBackend, backendName: string, body: (run: KernelRunner) => TensorInfo): TensorInfo {
    const run = new KernelRunner(backend, backendName);
    try {
      const out = body(run);
      run.dispose(out);
      return out;
    } catch (e) {
      run.dispose();
      throw e;
    }
  }

  /** Release every intermediate except `keep` (the composite kernel's output). */
  dispose(keep?: TensorInfo): void {
    for (const info of this.intermediates) {
      if (info !== keep) this.backend.disposeData(info.dataId);
    }
    this.intermediates.length = 0;
  }
}
