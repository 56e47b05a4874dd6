/**
 * Triton's binary tensor data extension, as KServe documents it too
 * (https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md).
 *
 * Request: the HTTP body is the JSON inference request (its length in bytes in the
 * `Inference-Header-Content-Length` header) followed by the binary data of the inputs that carry
 * `parameters.binary_data_size` (and no `data`), concatenated in the order of those inputs.
 * Elements are little-endian, row-major, without padding; BOOL is one byte (0 or 1); a BYTES
 * element is a 4-byte little-endian unsigned length followed by that many bytes.
 *
 * Response: an output goes binary when its entry in the request's `outputs` has
 * `parameters.binary_data: true`, or when the request's `parameters.binary_data_output` is true and
 * the entry does not say `binary_data: false` (see wantsBinary). Its JSON output then has
 * `parameters.binary_data_size` and no `data`, and its bytes follow the JSON in output order; the
 * response's `Inference-Header-Content-Length` header gives the JSON's length (see
 * assembleBinaryResponse).
 */
import { isUtf8 } from 'node:buffer';
import { InvalidInputError } from '../common/errors';
import { FieldErrorList, MAX_LISTED_ERRORS } from '../common/field-error-list';
import { DATATYPE_INFO, elementCount, type Tensor, type TypedArray } from './datatypes';
import {
  checkHeader,
  decodeJsonTensor,
  describeValue,
  jsonData,
  LITTLE_ENDIAN,
} from './json-tensors';

/** The header that gives the length of the JSON part of a body that carries binary tensor data. */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'inference-header-content-length';

/** An input of an inference request whose elements come as JSON `data` or as binary data. */
export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown[];
  parameters?: Record<string, unknown>;
}

/** An output of an inference response: `data` inline, or `parameters.binary_data_size` bytes after the JSON. */
export interface ResponseOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: Record<string, unknown>;
}

/**
 * Splits a request body into its JSON inference header (the first `headerLength` bytes) and the
 * binary tensor data after it (views of `body`, not copies). `headerLength` is the
 * Inference-Header-Content-Length header, parsed by the caller (pass NaN for an unparseable one).
 */
export function splitBinaryBody(
  body: Buffer,
  headerLength: number,
): { header: Buffer; binary: Buffer } {
  if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.length) {
    throw new InvalidInputError(
      `The Inference-Header-Content-Length header is ${describeValue(headerLength)} but the body has ` +
        `${body.length} bytes; it must be the length in bytes of the JSON inference request at the ` +
        `start of the body, a whole number from 0 to ${body.length}, the binary tensor data following it.`,
      [
        {
          field: 'Inference-Header-Content-Length',
          message: `must be a whole number from 0 to ${body.length}`,
        },
      ],
    );
  }
  return { header: body.subarray(0, headerLength), binary: body.subarray(headerLength) };
}

/**
 * One input's binary data → a Tensor. Fixed-size datatypes need exactly elements × size bytes,
 * copied (a Buffer slice may sit at any offset) into a fresh, aligned typed array; BOOL bytes must
 * be 0 or 1. BYTES needs exactly `elements` length-prefixed strings using up all the bytes, each
 * valid UTF-8 (elements are held as strings). Floats are taken as they come, NaN and ±Infinity
 * included.
 */
export function decodeBinaryTensor(
  input: { name: string; shape: number[]; datatype: string },
  bytes: Buffer,
  position: number,
): Tensor {
  const { name, shape } = input;
  const { datatype, count } = checkHeader(input, position);
  const where = `Input ${name} (inputs[${position}])`;
  const info = DATATYPE_INFO[datatype];
  const tensor = (data: Tensor['data']): Tensor => ({ name, datatype, shape: [...shape], data });
  if (!info.array) return tensor(decodeStrings(bytes, count, shape, where, position));

  const expected = count * info.size;
  if (bytes.length !== expected) {
    throw new InvalidInputError(
      `${where} has ${bytes.length} bytes of binary data but its shape [${shape.join(', ')}] of ` +
        `${datatype} needs ${expected} (${count} element(s) × ${info.size} byte(s)); set ` +
        `parameters.binary_data_size to ${expected} and send that many bytes.`,
      [
        {
          field: `inputs[${position}].parameters.binary_data_size`,
          message: `must be ${expected} for shape [${shape.join(', ')}] of ${datatype}`,
        },
      ],
    );
  }
  const data = new info.array(count);
  const target = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  bytes.copy(target);
  if (!LITTLE_ENDIAN) swapBytes(target, info.size);
  if (datatype === 'BOOL') checkBooleans(data as Uint8Array, where, position);
  return tensor(data);
}

function checkBooleans(data: Uint8Array, where: string, position: number): void {
  const errors = new FieldErrorList();
  for (let i = 0; i < data.length; i++) {
    if (data[i] > 1) {
      if (errors.full) errors.countUnlisted(1);
      else
        errors.add(`inputs[${position}]`, `element ${i} is the byte ${data[i]}; expected 0 or 1`);
    }
  }
  if (errors.count > 0) {
    const shown =
      errors.count > MAX_LISTED_ERRORS ? ` (the first ${MAX_LISTED_ERRORS} listed)` : '';
    throw new InvalidInputError(
      `${where} has ${errors.count} BOOL element(s) in its binary data that are neither 0 nor 1` +
        `${shown}; a BOOL element is one byte, 1 for true and 0 for false.`,
      errors.listed,
    );
  }
}

function decodeStrings(
  bytes: Buffer,
  count: number,
  shape: readonly number[],
  where: string,
  position: number,
): string[] {
  const field = `inputs[${position}].parameters.binary_data_size`;
  const fail = (problem: string): never => {
    throw new InvalidInputError(
      `${where}: ${problem}. Its shape [${shape.join(', ')}] holds ${count} BYTES element(s), each ` +
        `sent as a 4-byte little-endian length followed by that many bytes.`,
      [{ field, message: problem }],
    );
  };
  // Every element takes at least its 4-byte length: refuse a huge shape before allocating for it.
  if (count * 4 > bytes.length) {
    fail(
      `its ${bytes.length} bytes of binary data cannot hold ${count} BYTES element(s) (at least ` +
        `${count * 4} bytes, 4 for each length)`,
    );
  }
  const strings = new Array<string>(count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.length) {
      fail(
        `its binary data ends after ${i} element(s) (${bytes.length} bytes), before the length of ` +
          `element ${i}`,
      );
    }
    const length = bytes.readUInt32LE(offset);
    const start = offset + 4;
    const end = start + length;
    if (end > bytes.length) {
      fail(
        `element ${i} at byte ${offset} declares ${length} byte(s) but only ` +
          `${bytes.length - start} remain of its ${bytes.length} bytes of binary data`,
      );
    }
    const slice = bytes.subarray(start, end);
    if (!isUtf8(slice)) {
      fail(
        `element ${i} (bytes ${start} to ${end}) is not valid UTF-8; BYTES elements are held as text`,
      );
    }
    strings[i] = slice.toString('utf8');
    offset = end;
  }
  if (offset !== bytes.length) {
    fail(
      `its ${count} element(s) take ${offset} of its ${bytes.length} bytes of binary data, leaving ` +
        `${bytes.length - offset} unread`,
    );
  }
  return strings;
}

/**
 * A request's inputs → Tensors, in order: those with `parameters.binary_data_size` (a whole number
 * of bytes, and no `data`) take the next that many bytes of `binary`, the others are decoded from
 * their JSON `data`. The declared sizes must add up to exactly `binary.length`.
 */
export function takeBinaryInputs(inputs: readonly RequestInput[], binary: Buffer): Tensor[] {
  let declared = 0;
  const sizes = inputs.map((input, position) => {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) return null;
    const where = `Input ${input.name} (inputs[${position}])`;
    const field = `inputs[${position}].parameters.binary_data_size`;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new InvalidInputError(
        `${where} has parameters.binary_data_size ${describeValue(size)}; it must be the number of ` +
          `bytes of its binary data, a whole number ≥ 0.`,
        [{ field, message: 'must be a whole number ≥ 0' }],
      );
    }
    if (input.data !== undefined) {
      throw new InvalidInputError(
        `${where} has both data and parameters.binary_data_size; send its elements one way: as ` +
          `JSON data, or as binary data after the JSON (then without data).`,
        [{ field: `inputs[${position}].data`, message: 'must be absent with binary_data_size' }],
      );
    }
    declared += size;
    return size;
  });
  if (declared !== binary.length) {
    throw new InvalidInputError(
      `The inputs declare ${declared} bytes of binary data (parameters.binary_data_size) but ` +
        `${binary.length} bytes follow the JSON inference request; the sizes must add up to the ` +
        `bytes after the first Inference-Header-Content-Length bytes of the body.`,
    );
  }
  let offset = 0;
  return inputs.map((input, position) => {
    const size = sizes[position];
    if (size === null) {
      return decodeJsonTensor(
        {
          name: input.name,
          shape: input.shape,
          datatype: input.datatype,
          data: input.data as unknown[],
        },
        position,
      );
    }
    const bytes = binary.subarray(offset, offset + size);
    offset += size;
    return decodeBinaryTensor(input, bytes, position);
  });
}

/**
 * A tensor's elements in the binary encoding: little-endian, row-major; BYTES as length-prefixed
 * UTF-8. For fixed-size datatypes on little-endian hosts this is a view of the tensor's own memory,
 * not a copy: do not change the tensor until the bytes are sent.
 */
export function encodeBinaryData(tensor: Tensor): Buffer {
  const { data, datatype, shape } = tensor;
  if (data.length !== elementCount(shape)) {
    throw new Error(
      `Output ${tensor.name} has ${data.length} elements but its shape [${shape.join(', ')}] holds ${elementCount(shape)}.`,
    );
  }
  if (Array.isArray(data)) {
    let total = 4 * data.length;
    for (const text of data) total += Buffer.byteLength(text, 'utf8');
    const bytes = Buffer.allocUnsafe(total);
    let offset = 0;
    for (const text of data) {
      const length = bytes.write(text, offset + 4, 'utf8');
      bytes.writeUInt32LE(length, offset);
      offset += 4 + length;
    }
    return bytes;
  }
  const typed = data as TypedArray;
  const view = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  if (LITTLE_ENDIAN) return view;
  const copy = Buffer.from(view);
  swapBytes(copy, DATATYPE_INFO[datatype].size);
  return copy;
}

function swapBytes(bytes: Buffer, size: number): void {
  if (size === 2) bytes.swap16();
  else if (size === 4) bytes.swap32();
  else if (size === 8) bytes.swap64();
}

/**
 * Whether an output goes back as binary data: its request entry's `binary_data` when it has one,
 * else the request's `binary_data_output`, else not. Either must be a boolean when present.
 * `outputName` only names the output in the error.
 */
export function wantsBinary(
  requestParameters: Record<string, unknown> | undefined,
  outputParameters: Record<string, unknown> | undefined,
  outputName?: string,
): boolean {
  const own = outputParameters?.binary_data;
  if (own !== undefined) {
    if (typeof own !== 'boolean') {
      const which = outputName === undefined ? 'An output' : `Output ${outputName}`;
      throw new InvalidInputError(
        `${which} has parameters.binary_data ${describeValue(own)}; it must be true (return this ` +
          `output as binary data) or false (as JSON).`,
        [{ field: 'outputs[].parameters.binary_data', message: 'must be true or false' }],
      );
    }
    return own;
  }
  const all = requestParameters?.binary_data_output;
  if (all === undefined) return false;
  if (typeof all !== 'boolean') {
    throw new InvalidInputError(
      `The request has parameters.binary_data_output ${describeValue(all)}; it must be true ` +
        `(return outputs as binary data unless one says binary_data: false) or false.`,
      [{ field: 'parameters.binary_data_output', message: 'must be true or false' }],
    );
  }
  return all;
}

/**
 * One output of a response: with its elements as JSON `data`, or, when `binary`, with
 * `parameters.binary_data_size` and the bytes to send after the JSON (pass them, in output order,
 * to assembleBinaryResponse).
 */
export function encodeOutput(
  tensor: Tensor,
  binary: boolean,
): { output: ResponseOutput; bytes: Buffer | null } {
  const { name, datatype, shape } = tensor;
  if (!binary) return { output: { name, datatype, shape, data: jsonData(tensor) }, bytes: null };
  const bytes = encodeBinaryData(tensor);
  return {
    output: { name, datatype, shape, parameters: { binary_data_size: bytes.length } },
    bytes,
  };
}

/**
 * The body of a response with binary outputs: the JSON of `response`, then `binaryParts`, which
 * must match, in order and size, the outputs that have `parameters.binary_data_size` (as
 * encodeOutput makes them). Send `body` with `Inference-Header-Content-Length: headerLength` and
 * `Content-Type: application/octet-stream`. When no output is binary, send plain JSON instead.
 */
export function assembleBinaryResponse(
  response: { outputs: readonly ResponseOutput[] },
  binaryParts: readonly Buffer[],
): { body: Buffer; headerLength: number } {
  const sizes = response.outputs
    .map((output) => output.parameters?.binary_data_size)
    .filter((size) => size !== undefined);
  if (
    sizes.length !== binaryParts.length ||
    sizes.some((size, i) => size !== binaryParts[i].length)
  ) {
    throw new Error(
      `The response's binary_data_size parameters [${sizes.join(', ')}] do not match the binary ` +
        `parts [${binaryParts.map((part) => part.length).join(', ')}].`,
    );
  }
  const header = Buffer.from(JSON.stringify(response), 'utf8');
  return { body: Buffer.concat([header, ...binaryParts]), headerLength: header.length };
}
