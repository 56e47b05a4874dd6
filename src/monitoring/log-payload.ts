import { createHash } from 'node:crypto';
import { encodeBinaryData } from '../tensors/binary-tensors';
import { DATATYPE_INFO, Datatype, isDatatype, TypedArray } from '../tensors/datatypes';
import { fromHalf, toHalf } from '../tensors/fp16';

/**
 * How a logged request and its answer become the JSON text of `prediction_log.inputs` and
 * `outputs` (docs/monitoring.md describes the result for readers such as drift). Runs at flush,
 * off the request; every rule here keeps one entry's text bounded whatever the request held.
 */

/** v1: rows kept of `instances` (and of each per-row output); the count is kept beside them. */
export const MAX_LOGGED_ROWS = 1_000;
/** v2: a tensor with more elements is kept as a digest instead of its data. */
export const MAX_TENSOR_ELEMENTS = 4_096;
/** v2: so is a BYTES tensor whose strings add up to more characters than this. */
export const MAX_TENSOR_TEXT = 65_536;
/** v2: the values a digest keeps from the start of the tensor. */
export const DIGEST_HEAD = 16;

export interface TensorDigest {
  /** Hex SHA-256 of the tensor's binary encoding (the protocol's binary data extension). */
  sha256: string;
  head: unknown[];
}

/** A v2 tensor as logged: `data` when small, else `digest`; neither when the request had none. */
export interface LoggedTensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown[];
  digest?: TensorDigest;
}

/** `{ instances }` (v1) or `{ inputs }` (v2) as JSON text. */
export function serialiseInputs(inputs: object): string {
  const { instances, inputs: tensors } = inputs as { instances?: unknown; inputs?: unknown };
  if (Array.isArray(instances)) return stringify(truncateRows({ instances }));
  if (Array.isArray(tensors)) return stringify({ inputs: tensors.map(loggedTensor) });
  return stringify(inputs);
}

/** `{ predictions, probabilities?, classes? }` (v1) or `{ outputs }` (v2) as JSON text. */
export function serialiseOutputs(outputs: Record<string, unknown>): string {
  if (Array.isArray(outputs.outputs))
    return stringify({ outputs: outputs.outputs.map(loggedTensor) });
  return stringify(truncateRows(outputs));
}

/**
 * Keeps the first MAX_LOGGED_ROWS of every per-row array (all but `classes`, the labels of a
 * classifier) and records the row count they came from as `truncatedRows`.
 */
function truncateRows(fields: Record<string, unknown>): Record<string, unknown> {
  let truncatedRows = 0;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key !== 'classes' && Array.isArray(value) && value.length > MAX_LOGGED_ROWS) {
      truncatedRows = Math.max(truncatedRows, value.length);
      kept[key] = value.slice(0, MAX_LOGGED_ROWS);
    } else {
      kept[key] = value;
    }
  }
  return truncatedRows > 0 ? { ...kept, truncatedRows } : kept;
}

export function loggedTensor(tensor: unknown): LoggedTensor {
  const { name, shape, datatype, data } = tensor as {
    name: string;
    shape: number[];
    datatype: string;
    data?: unknown;
  };
  const logged: LoggedTensor = { name, shape, datatype };
  const count = shape.reduce((product, dimension) => product * dimension, 1);
  // No data: it came as binary data, or its buffer has moved to an ONNX session's thread.
  if (data === undefined || data === null) return logged;
  if (ArrayBuffer.isView(data) && (data as TypedArray).length !== count) return logged;
  const values = flatValues(data);
  if (values.length <= MAX_TENSOR_ELEMENTS && textLength(values) <= MAX_TENSOR_TEXT) {
    return { ...logged, data: jsonValues(datatype, values) };
  }
  return {
    ...logged,
    digest: {
      sha256: createHash('sha256')
        .update(binaryEncoding(datatype, shape, values))
        .digest('hex'),
      head: jsonValues(datatype, values.slice(0, DIGEST_HEAD)),
    },
  };
}

/** A tensor's elements, flat and row-major: a typed array as it is, a JSON array flattened. */
function flatValues(data: unknown): TypedArray | unknown[] {
  if (ArrayBuffer.isView(data)) return data as TypedArray;
  if (!Array.isArray(data)) throw new Error('tensor data is neither an array nor a typed array');
  return data.length > 0 && Array.isArray(data[0]) ? (data.flat(Infinity) as unknown[]) : data;
}

function textLength(values: TypedArray | unknown[]): number {
  if (!Array.isArray(values)) return 0;
  let length = 0;
  for (const value of values) if (typeof value === 'string') length += value.length;
  return length;
}

/** Elements as JSON values: what a JSON response would carry, with 64-bit integers kept exact. */
function jsonValues(datatype: string, values: TypedArray | unknown[]): unknown[] {
  if (Array.isArray(values)) return values.map(jsonSafe);
  // FP16 and BOOL arrive as raw bits and bytes.
  if (datatype === 'FP16') return Array.from(values as Uint16Array, fromHalf);
  if (datatype === 'BOOL') return Array.from(values as Uint8Array, (byte) => byte !== 0);
  return Array.from(values as ArrayLike<unknown>, jsonSafe);
}

/** The bytes a client would send for this tensor with the binary data extension. */
function binaryEncoding(datatype: string, shape: number[], values: TypedArray | unknown[]): Buffer {
  if (!isDatatype(datatype)) throw new Error(`unknown tensor datatype ${datatype}`);
  const data = Array.isArray(values) ? typedValues(datatype, values) : values;
  return encodeBinaryData({ name: '', datatype, shape, data });
}

/** JSON values (numbers, booleans, strings) in the datatype's typed array. */
function typedValues(datatype: Datatype, values: unknown[]): TypedArray | string[] {
  switch (datatype) {
    case 'BYTES':
      return values.map(String);
    case 'BOOL':
      return Uint8Array.from(values, (value) => (value ? 1 : 0));
    case 'FP16':
      return Uint16Array.from(values as number[], toHalf);
    case 'INT64':
      return BigInt64Array.from(values, (value) => BigInt(value as number));
    case 'UINT64':
      return BigUint64Array.from(values, (value) => BigInt(value as number));
    default: {
      const array = DATATYPE_INFO[datatype].array as unknown as {
        from(values: ArrayLike<number>): TypedArray;
      };
      return array.from(values as number[]);
    }
  }
}

/** A bigint as a number while that is exact, else as its decimal text. */
function jsonSafe(value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** JSON.stringify that also takes bigints and typed arrays found anywhere in the value. */
function stringify(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'bigint') return jsonSafe(item);
    if (ArrayBuffer.isView(item) && !(item instanceof DataView)) {
      return Array.from(item as unknown as ArrayLike<unknown>, jsonSafe);
    }
    return item;
  });
}
