/**
 * The Open Inference Protocol's tensor datatypes and how their elements are held in memory.
 * Shared by the JSON and binary encodings of /v2 tensors and by the ONNX runtime's tensors.
 */

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A tensor's elements, row-major: a typed array for numbers (BOOL as 0/1 bytes, FP16 as the raw
 * IEEE half-precision bits in a Uint16Array, 64-bit integers as bigints), strings for BYTES.
 */
export type TensorData = TypedArray | string[];

/** A tensor with its elements decoded and checked against its datatype and shape. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

interface DatatypeInfo {
  /** Bytes per element in the binary encoding; BYTES elements are length-prefixed strings. */
  readonly size: number;
  /** The typed array that holds the elements; null for BYTES. */
  readonly array: { new (length: number): TypedArray; BYTES_PER_ELEMENT: number } | null;
  /** The inclusive range of an integer type's JSON values. */
  readonly range?: readonly [number, number];
}

export const DATATYPE_INFO = {
  BOOL: { size: 1, array: Uint8Array },
  UINT8: { size: 1, array: Uint8Array, range: [0, 255] },
  UINT16: { size: 2, array: Uint16Array, range: [0, 65535] },
  UINT32: { size: 4, array: Uint32Array, range: [0, 4294967295] },
  UINT64: { size: 8, array: BigUint64Array, range: [0, Number.MAX_SAFE_INTEGER] },
  INT8: { size: 1, array: Int8Array, range: [-128, 127] },
  INT16: { size: 2, array: Int16Array, range: [-32768, 32767] },
  INT32: { size: 4, array: Int32Array, range: [-2147483648, 2147483647] },
  INT64: {
    size: 8,
    array: BigInt64Array,
    range: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  },
  FP16: { size: 2, array: Uint16Array },
  FP32: { size: 4, array: Float32Array },
  FP64: { size: 8, array: Float64Array },
  BYTES: { size: 0, array: null },
} as const satisfies Record<string, DatatypeInfo>;

export type Datatype = keyof typeof DATATYPE_INFO;
export const DATATYPES = Object.keys(DATATYPE_INFO) as Datatype[];

export function isDatatype(value: string): value is Datatype {
  return Object.prototype.hasOwnProperty.call(DATATYPE_INFO, value);
}

/** The number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dimension of shape) count *= dimension;
  return count;
}
