/** A plain array with a shape, as read from a weights file before it becomes a tensor. */
export interface NamedArray {
  shape: number[];
  dtype: 'float32' | 'int32' | 'int64' | 'float64' | 'uint8' | 'bool' | 'string';
  /** Row-major (C order) values. int64 values are stored as float64 numbers. */
  data: Float32Array | Int32Array | Float64Array | Uint8Array | string[];
}

/** Named arrays, e.g. `PNet/conv1/weights` → its array. */
export type NamedArrays = Map<string, NamedArray>;
