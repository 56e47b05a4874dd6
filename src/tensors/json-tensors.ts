/**
 * Tensors in the JSON encoding of the Open Inference Protocol: a request input's `data` (row-major,
 * flat or nested as the shape) checked against its datatype into a typed array, and a tensor's
 * elements back into the flat JSON values of a response output.
 */
import { InvalidInputError } from '../common/errors';
import { FieldErrorList, MAX_LISTED_ERRORS } from '../common/field-error-list';
import {
  DATATYPE_INFO,
  DATATYPES,
  type Datatype,
  elementCount,
  isDatatype,
  type Tensor,
  type TensorData,
} from './datatypes';
import { fromHalf, toHalf } from './fp16';

/** An input of an inference request whose elements come as JSON. */
export interface JsonTensorInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

/** True on little-endian hosts (all that Node supports in practice); typed arrays use host order. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Checks an input's datatype and shape (every dimension a whole number ≥ 0) and returns the
 * datatype and element count. Shared with the binary encoding.
 */
export function checkHeader(
  input: { name: string; shape: number[]; datatype: string },
  position: number,
): { datatype: Datatype; count: number } {
  const { name, shape, datatype } = input;
  if (typeof datatype !== 'string' || !isDatatype(datatype)) {
    throw new InvalidInputError(
      `Input ${name} (inputs[${position}]) has datatype ${describeValue(datatype)}; ` +
        `use one of ${DATATYPES.join(', ')}.`,
      [
        {
          field: `inputs[${position}].datatype`,
          message: `must be one of ${DATATYPES.join(', ')}`,
        },
      ],
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    const shown = Array.isArray(shape)
      ? `[${shape.map(describeValue).join(', ')}]`
      : 'not an array';
    throw new InvalidInputError(
      `Input ${name} (inputs[${position}]) has shape ${shown}; an input's shape is an array of ` +
        `whole numbers ≥ 0 (-1, a variable size, is for model metadata, not for tensors sent).`,
      [{ field: `inputs[${position}].shape`, message: 'must be whole numbers ≥ 0' }],
    );
  }
  return { datatype, count: elementCount(shape) };
}

/**
 * An input's JSON `data` → a Tensor, in one pass straight into its typed array (strings for BYTES).
 * `data` is row-major, either flat (shape-product many values) or nested exactly as the shape
 * ("natural" form: an array of shape[0] arrays of shape[1]… values). Values must fit the datatype:
 * booleans for BOOL; for integer types, numbers that are integers in the type's range, for INT64 and
 * UINT64 only safe integers (|n| ≤ 2^53 − 1: a JSON number beyond that has already lost digits; the
 * binary encoding carries the full range); finite numbers for FP16, FP32, FP64, and for FP16/FP32
 * ones that do not overflow to Infinity once rounded; strings for BYTES. null is refused: ONNX
 * tensors have no missing values. Throws InvalidInputError naming the input (`inputs[position]`),
 * with the first MAX_LISTED_ERRORS bad elements located (`inputs[2].data[17]`, `data[1][3]` when
 * nested) and all of them counted.
 */
export function decodeJsonTensor(input: JsonTensorInput, position: number): Tensor {
  const { name, shape, data } = input;
  const { datatype, count } = checkHeader(input, position);
  const where = `Input ${name} (inputs[${position}])`;
  if (!Array.isArray(data)) {
    throw new InvalidInputError(
      `${where} has no data array; send its ${count} element(s) as "data" (row-major, flat or ` +
        `nested as the shape), or as binary data with parameters.binary_data_size.`,
      [{ field: `inputs[${position}].data`, message: 'must be an array' }],
    );
  }
  const nested = shape.length > 1 && data.length > 0 && Array.isArray(data[0]);
  if (nested) checkNesting(data, shape, 0, [], where);
  else if (data.length !== count) {
    throw new InvalidInputError(
      `${where} has ${data.length} element(s) in data but its shape [${shape.join(', ')}] holds ` +
        `${count}; send ${count} value(s), flat in row-major order or nested as the shape.`,
      [{ field: `inputs[${position}].data`, message: `must hold ${count} element(s)` }],
    );
  }

  const info = DATATYPE_INFO[datatype];
  const out: TensorData = info.array ? new info.array(count) : new Array<string>(count);
  const decoder = new RunDecoder(datatype, out, position, name);
  if (nested) decoder.nested(data, shape, 0, []);
  else decoder.run(data, null);

  const { errors } = decoder;
  if (errors.count > 0) {
    const shown =
      errors.count > MAX_LISTED_ERRORS ? ` (the first ${MAX_LISTED_ERRORS} listed)` : '';
    throw new InvalidInputError(
      `${where} has ${errors.count} element(s) that are not ${datatype} values${shown}; ` +
        `each must be ${expectation(datatype)}.`,
      errors.listed,
    );
  }
  return { name, datatype, shape: [...shape], data: out };
}

/**
 * Checks that nested data has the shape's structure (lengths at every level) before anything is
 * allocated, so a huge shape with little data is refused instead of allocated.
 */
function checkNesting(
  data: unknown[],
  shape: readonly number[],
  depth: number,
  path: number[],
  where: string,
): void {
  if (data.length !== shape[depth]) {
    throw new InvalidInputError(
      `${where}: data${indexPath(path)} has ${data.length} element(s) but dimension ${depth} of ` +
        `its shape [${shape.join(', ')}] is ${shape[depth]}; nest data exactly as the shape, or send ` +
        `it flat (${elementCount(shape)} values, row-major).`,
    );
  }
  if (depth === shape.length - 1) return;
  for (let i = 0; i < data.length; i++) {
    const child = data[i];
    if (!Array.isArray(child)) {
      throw new InvalidInputError(
        `${where}: data${indexPath([...path, i])} is ${describeValue(child)}, not an array of ` +
          `${shape[depth + 1]} (dimension ${depth + 1} of its shape [${shape.join(', ')}]); nest ` +
          `data exactly as the shape, or send it flat (${elementCount(shape)} values, row-major).`,
      );
    }
    path.push(i);
    checkNesting(child, shape, depth + 1, path, where);
    path.pop();
  }
}

/** What one JSON value of a datatype must be, briefly, for an element's message. */
function briefExpectation(datatype: Datatype): string {
  switch (datatype) {
    case 'BOOL':
      return 'true or false';
    case 'BYTES':
      return 'a string';
    case 'FP16':
    case 'FP32':
    case 'FP64':
      return 'a finite number';
    default: {
      const [low, high] = DATATYPE_INFO[datatype].range;
      return `an integer in [${low}, ${high}]`;
    }
  }
}

/** What a JSON value of a datatype must be, in full, for the message of the error. */
function expectation(datatype: Datatype): string {
  switch (datatype) {
    case 'BOOL':
      return 'true or false';
    case 'BYTES':
      return 'a string';
    case 'FP16':
      return 'a finite number within ±65504 (FP16; send exact halves as binary data)';
    case 'FP32':
      return 'a finite number within ±3.4028235e38 (FP32)';
    case 'FP64':
      return 'a finite number';
    case 'INT64':
    case 'UINT64': {
      const [low, high] = DATATYPE_INFO[datatype].range;
      return (
        `an integer in [${low}, ${high}] (JSON numbers are exact only up to 2^53 − 1; send larger ` +
        `${datatype} values as binary data)`
      );
    }
    default: {
      const [low, high] = DATATYPE_INFO[datatype].range;
      return `an integer in [${low}, ${high}]`;
    }
  }
}

/** How a datatype's JSON values are checked and stored (numbers, so switches stay cheap). */
const Kind = { Bool: 0, Int: 1, Int64: 2, FP16: 3, FP32: 4, FP64: 5, Bytes: 6 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

function kindOf(datatype: Datatype): Kind {
  switch (datatype) {
    case 'BOOL':
      return Kind.Bool;
    case 'INT64':
    case 'UINT64':
      return Kind.Int64;
    case 'FP16':
      return Kind.FP16;
    case 'FP32':
      return Kind.FP32;
    case 'FP64':
      return Kind.FP64;
    case 'BYTES':
      return Kind.Bytes;
    default:
      return Kind.Int;
  }
}

const TWO_POW_32 = 4294967296;

/**
 * Decodes runs of JSON values (the whole of flat data, or each innermost array of nested data) into
 * consecutive elements of one output. One monomorphic loop per kind of datatype; a bad element
 * costs a message, a good one nothing but its store.
 */
class RunDecoder {
  readonly errors = new FieldErrorList();
  private readonly kind: Kind;
  private readonly low: number;
  private readonly high: number;
  /** For INT64/UINT64: the output's 32-bit words, written without a BigInt per element. */
  private readonly words: Uint32Array | null;
  private offset = 0;

  constructor(
    private readonly datatype: Datatype,
    private readonly out: TensorData,
    private readonly position: number,
    private readonly name: string,
  ) {
    this.kind = kindOf(datatype);
    const info = DATATYPE_INFO[datatype] as { range?: readonly [number, number] };
    [this.low, this.high] = info.range ?? [0, 0];
    this.words =
      this.kind === Kind.Int64
        ? new Uint32Array((out as BigInt64Array).buffer, 0, out.length * 2)
        : null;
  }

  nested(data: unknown[], shape: readonly number[], depth: number, path: number[]): void {
    if (depth === shape.length - 1) {
      this.run(data, path);
      return;
    }
    for (let i = 0; i < data.length; i++) {
      path.push(i);
      this.nested(data[i] as unknown[], shape, depth + 1, path);
      path.pop();
    }
  }

  /** Decodes `values` into the next values.length elements; `path` locates them when nested. */
  run(values: unknown[], path: number[] | null): void {
    const start = this.offset;
    const n = values.length;
    this.offset += n;
    switch (this.kind) {
      case Kind.FP64: {
        const out = this.out as Float64Array;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v === 'number' && v - v === 0) out[start + i] = v;
          else this.bad(path, i, v);
        }
        return;
      }
      case Kind.FP32: {
        const out = this.out as Float32Array;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          // v - v is 0 for finite numbers, NaN for ±Infinity and NaN.
          if (typeof v === 'number' && v - v === 0) {
            const f = Math.fround(v);
            out[start + i] = f;
            if (f - f !== 0) this.bad(path, i, v, 'overflows FP32 (beyond ±3.4028235e38)');
          } else this.bad(path, i, v);
        }
        return;
      }
      case Kind.FP16: {
        const out = this.out as Uint16Array;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v === 'number' && v - v === 0) {
            const bits = toHalf(v);
            out[start + i] = bits;
            if ((bits & 0x7fff) === 0x7c00) this.bad(path, i, v, 'overflows FP16 (beyond ±65504)');
          } else this.bad(path, i, v);
        }
        return;
      }
      case Kind.Int: {
        const out = this.out as Int32Array;
        const { low, high } = this;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v === 'number' && Number.isInteger(v) && v >= low && v <= high) {
            out[start + i] = v;
          } else this.bad(path, i, v);
        }
        return;
      }
      case Kind.Int64: {
        // Two 32-bit words per element, in host order: ToUint32 gives the low word of the two's
        // complement (for negatives too), floor(v / 2^32) the high one.
        const words = this.words as Uint32Array;
        const lowWord = LITTLE_ENDIAN ? 0 : 1;
        const highWord = 1 - lowWord;
        const { low, high } = this;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v === 'number' && Number.isInteger(v) && v >= low && v <= high) {
            const at = (start + i) * 2;
            words[at + lowWord] = v >>> 0;
            words[at + highWord] = Math.floor(v / TWO_POW_32) >>> 0;
          } else this.bad(path, i, v);
        }
        return;
      }
      case Kind.Bool: {
        const out = this.out as Uint8Array;
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (v === true) out[start + i] = 1;
          else if (v !== false) this.bad(path, i, v);
        }
        return;
      }
      case Kind.Bytes: {
        const out = this.out as string[];
        for (let i = 0; i < n; i++) {
          const v = values[i];
          if (typeof v === 'string') out[start + i] = v;
          else this.bad(path, i, v);
        }
        return;
      }
    }
  }

  /** Reports element `i` of the current run; messages are built only while the list has room. */
  private bad(path: number[] | null, i: number, value: unknown, problem?: string): void {
    const { errors } = this;
    if (errors.full) {
      errors.countUnlisted(1);
      return;
    }
    const field = `inputs[${this.position}].data${path ? indexPath(path) : ''}[${i}]`;
    let message: string;
    if (problem) message = `${describeValue(value)} ${problem}`;
    else if (value === null) {
      message = 'got null; ONNX tensors have no missing values, send a value for every element';
    } else {
      message = `got ${describeValue(value)}; expected ${briefExpectation(this.datatype)}`;
    }
    errors.add(field, `${this.name}: ${message}`);
  }
}

function indexPath(path: readonly number[]): string {
  let text = '';
  for (const i of path) text += `[${i}]`;
  return text;
}

/** A JSON value, briefly, for messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  return Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * A tensor's elements as the flat, row-major `data` of a JSON response output: numbers (INT64 and
 * UINT64 bigints as the nearest Number: exact up to 2^53 − 1, rounded beyond, as any JSON reader
 * would read them; ask for binary data to get them exact), booleans for BOOL, the numbers that FP16
 * bits stand for, strings for BYTES. FP32 elements come as the doubles they exactly are
 * (0.1f → 0.10000000149011612).
 */
export function jsonData(tensor: Tensor): unknown[] {
  const { datatype, data } = tensor;
  const n = data.length;
  if (datatype === 'BYTES') return (data as string[]).slice();
  const values: unknown[] = new Array(n);
  switch (datatype) {
    case 'BOOL':
      for (let i = 0; i < n; i++) values[i] = data[i] !== 0;
      break;
    case 'FP16':
      for (let i = 0; i < n; i++) values[i] = fromHalf(data[i] as number);
      break;
    case 'INT64':
    case 'UINT64':
      for (let i = 0; i < n; i++) values[i] = Number(data[i] as bigint);
      break;
    default:
      for (let i = 0; i < n; i++) values[i] = data[i];
  }
  return values;
}
