/**
 * A reusable float32 buffer for network inputs that are filled and handed to `tf.tensor` in
 * one synchronous step (the backend copies them, or the tensor is disposed before the step
 * ends). Reusing it spares the garbage collector several megabytes per detected frame.
 */
export class FloatScratch {
  private buffer = new Float32Array(0);

  /** @param keepLimit buffers larger than this many floats are not kept between calls. */
  constructor(private readonly keepLimit = 4 * 1024 * 1024) {}

  /**
   * A zero-filled view of `length` floats, valid until the next `take` — callers must not
   * hold it across an `await`.
   */
  take(length: number): Float32Array {
    if (length > this.keepLimit) return new Float32Array(length);
    if (this.buffer.length < length) this.buffer = new Float32Array(Math.min(this.keepLimit, Math.max(length, this.buffer.length * 2)));
    const view = this.buffer.subarray(0, length);
    view.fill(0);
    return view;
  }
}
