/**
 * Concatenating requests' tensors along the first (batch) dimension, and splitting a batch's
 * outputs back into each request's rows: the data half of dynamic batching (dynamic-batcher.ts
 * decides what goes into a batch).
 *
 * Every tensor here is batched along dimension 0: its shape is [rows, ...trailing], and all the
 * tensors of one name in a batch share their datatype and trailing dimensions. A model input or
 * output without a batch dimension cannot be batched this way.
 *
 * Sharing of memory (nothing here ever writes into a tensor it was given):
 * - concatRows of one request returns new Tensor objects (and shape arrays) over that request's
 *   own data; of several, freshly allocated data.
 * - splitRows of one request returns new Tensor objects over the outputs' own data; of several,
 *   typed-array data are `subarray` views into the batch's output (no copy), BYTES (string[]) data
 *   are copies (`slice`). The views stay valid after the next batch runs provided the runner does
 *   not reuse or write into output buffers it has returned, which holds for onnxruntime-node's
 *   `session.run(feeds)` (each run's outputs are fresh ArrayBuffers) but not for a runner that
 *   preallocates its outputs and hands the same buffers back each run: such a runner must copy.
 *   Consequences of views: a request's data is `new Float32Array(buffer, byteOffset, length)`,
 *   never the whole `data.buffer` (which is the whole batch's), and one request's result keeps
 *   the whole batch's output alive until it is released. Views of different requests never
 *   overlap, so writing into one request's result cannot change another's.
 */
import { DATATYPE_INFO, elementCount, type Tensor, type TensorData } from '../tensors/datatypes';

/**
 * Checks, cheaply (O(rank), never per element), that a tensor can be batched: at least one
 * dimension, non-negative integer dimensions, data of its datatype's kind (the typed array named
 * in DATATYPE_INFO, or an array for BYTES) holding exactly the shape's element count.
 */
export function checkBatchable(tensor: Tensor): void {
  const { name, datatype, shape, data } = tensor;
  const info = DATATYPE_INFO[datatype];
  if (info === undefined) throw new Error(`tensor "${name}": unknown datatype ${String(datatype)}`);
  if (shape.length === 0) {
    throw new Error(`tensor "${name}" has no dimensions: it has no batch dimension to batch on`);
  }
  for (const dimension of shape) {
    if (!Number.isInteger(dimension) || dimension < 0) {
      throw new Error(`tensor "${name}": shape [${shape.join(', ')}] is not a list of sizes`);
    }
  }
  const kind = info.array === null ? 'Array' : info.array.name;
  if (dataKind(data) !== kind) {
    throw new Error(
      `tensor "${name}": ${datatype} data must be held in ${kind}, not ${dataKind(data)}`,
    );
  }
  const count = elementCount(shape);
  if (data.length !== count) {
    throw new Error(
      `tensor "${name}": shape [${shape.join(', ')}] holds ${count} elements, its data ${data.length}`,
    );
  }
}

/**
 * The key under which requests can share a batch: their inputs' names, datatypes and trailing
 * dimensions (the order of the inputs does not matter). Throws on duplicate names.
 */
export function batchKey(inputs: readonly Tensor[]): string {
  const parts = inputs.map((tensor): [string, string, number[]] => [
    tensor.name,
    tensor.datatype,
    tensor.shape.slice(1),
  ]);
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < parts.length; i++) {
    if (parts[i][0] === parts[i - 1][0]) throw new Error(`input "${parts[i][0]}" is given twice`);
  }
  return JSON.stringify(parts);
}

/**
 * Concatenates requests along dimension 0: one tensor per input name (in the first request's
 * order) whose first dimension is the sum of the requests' and whose data are theirs, in request
 * order. Every request must have the same input names, with the same datatypes and trailing
 * dimensions; anything else (or malformed tensors, see checkBatchable) is an Error.
 */
export function concatRows(requests: readonly (readonly Tensor[])[]): Tensor[] {
  if (requests.length === 0) throw new Error('concatRows: no requests to concatenate');
  const first = requests[0];
  for (const request of requests) {
    if (request.length !== first.length) {
      throw new Error(
        `concatRows: requests have different inputs (${request.length} inputs, not ${first.length})`,
      );
    }
  }
  return first.map((model, index) => {
    const parts = requests.map((request) => {
      const tensor =
        request[index]?.name === model.name
          ? request[index]
          : request.find((candidate) => candidate.name === model.name);
      if (tensor === undefined) {
        throw new Error(`concatRows: a request has no input "${model.name}"`);
      }
      checkBatchable(tensor);
      if (tensor.datatype !== model.datatype) {
        throw new Error(
          `concatRows: input "${model.name}" is ${tensor.datatype} in one request, ${model.datatype} in another`,
        );
      }
      if (!sameTrailingDimensions(tensor.shape, model.shape)) {
        throw new Error(
          `concatRows: input "${model.name}" has shape [${tensor.shape.join(', ')}] in one request, ` +
            `[${model.shape.join(', ')}] in another: only the first dimension may differ`,
        );
      }
      return tensor;
    });
    if (parts.length === 1) return { ...model, shape: [...model.shape] };
    let rows = 0;
    for (const part of parts) rows += part.shape[0];
    const shape = [rows, ...model.shape.slice(1)];
    return { name: model.name, datatype: model.datatype, shape, data: concatData(parts, shape) };
  });
}

/**
 * Splits each of a batch's outputs along dimension 0 into the requests' rows: result[i] holds,
 * for request i, one tensor per output (in the outputs' order) with rowCounts[i] rows. An output
 * whose first dimension is not the sum of rowCounts (a model output without a batch dimension,
 * say) is an Error, as is a malformed one (see checkBatchable). Typed-array data are views into
 * the outputs and BYTES data copies; see this file's top comment for what that means.
 *
 * An output without a batch dimension whose first dimension happens to equal the batch's row
 * count cannot be told apart from a batched one, and is split as if it were.
 */
export function splitRows(outputs: readonly Tensor[], rowCounts: readonly number[]): Tensor[][] {
  let total = 0;
  for (const rows of rowCounts) {
    if (!Number.isInteger(rows) || rows < 0) {
      throw new Error(`splitRows: ${rows} is not a row count`);
    }
    total += rows;
  }
  const results: Tensor[][] = rowCounts.map(() => []);
  for (const output of outputs) {
    checkBatchable(output);
    const { name, datatype, shape, data } = output;
    if (shape[0] !== total) {
      throw new Error(
        `output "${name}" has shape [${shape.join(', ')}], not ${total} rows in its first dimension ` +
          `(the batch's): a model output must have a batch dimension to be split between requests`,
      );
    }
    if (rowCounts.length === 1) {
      results[0].push({ name, datatype, shape: [...shape], data });
      continue;
    }
    const rowSize = elementCount(shape.slice(1));
    let offset = 0;
    rowCounts.forEach((rows, request) => {
      const start = offset * rowSize;
      const end = start + rows * rowSize;
      results[request].push({
        name,
        datatype,
        shape: [rows, ...shape.slice(1)],
        data: Array.isArray(data) ? data.slice(start, end) : data.subarray(start, end),
      });
      offset += rows;
    });
  }
  return results;
}

function dataKind(data: TensorData): string {
  if (Array.isArray(data)) return 'Array';
  if (ArrayBuffer.isView(data))
    return (data as { [Symbol.toStringTag]: string })[Symbol.toStringTag];
  return typeof data;
}

function sameTrailingDimensions(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 1; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function concatData(parts: readonly Tensor[], shape: readonly number[]): TensorData {
  const info = DATATYPE_INFO[parts[0].datatype];
  if (info.array === null) {
    const strings: string[] = [];
    for (const part of parts) for (const value of part.data as string[]) strings.push(value);
    return strings;
  }
  const data = new info.array(elementCount(shape));
  let offset = 0;
  for (const part of parts) {
    // Same kind as `data` (checkBatchable), so `set` copies without conversion.
    (data as Float32Array).set(part.data as Float32Array, offset);
    offset += part.data.length;
  }
  return data;
}
