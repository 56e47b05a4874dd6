import { InvalidInputError } from '../common/errors';
import { checkInputs, describeSpec } from '../onnx/input-checks';
import type { TensorSpec } from '../onnx/model-inspection';
import { elementCount, Tensor } from '../tensors/datatypes';
import { decodeJsonTensor, jsonData } from '../tensors/json-tensors';
import type { LoadedOnnxVersion } from './loaded-models.service';

/** Datatypes a v1 `instances` row may fill: numbers, in JSON. */
const TABULAR_DATATYPES = new Set(['FP16', 'FP32', 'FP64', 'INT8', 'INT16', 'INT32', 'INT64']);

/** What a v1 prediction of an ONNX version answers. */
export interface TabularOutputs {
  predictions: unknown[];
  probabilities?: number[][];
  classes?: (string | number)[];
}

/**
 * The one 2-D numeric input that v1 `instances` fill, row by row; null when the graph has another
 * signature (several inputs, images…), which only /v2 serves.
 */
export function tabularInput(served: LoadedOnnxVersion): TensorSpec | null {
  const { inputs } = served.onnx.signature;
  if (inputs.length !== 1) return null;
  const [input] = inputs;
  return input.shape.length === 2 && TABULAR_DATATYPES.has(input.datatype) ? input : null;
}

/**
 * `instances` → the graph's one input: arrays of its width, or objects keyed by the feature names
 * given at registration. Values are checked as the V2 JSON encoding checks them; errors point at
 * `instances[row][column]`.
 */
export function instancesTensor(served: LoadedOnnxVersion, instances: readonly unknown[]): Tensor {
  const input = tabularInput(served);
  if (!input) {
    throw new InvalidInputError(
      `Version ${served.version} of ${served.model} is an ONNX graph taking ${served.onnx.signature.inputs.map(describeSpec).join(', ')}; ` +
        `v1 instances fill one [N, features] input. Send tensors to POST /v2/models/${served.model}/versions/${served.version}/infer.`,
    );
  }
  const features = served.options.features;
  const width = input.shape[1] > 0 ? input.shape[1] : (features?.length ?? rowWidth(instances));
  const rows = instances.map((instance, row) => {
    if (Array.isArray(instance)) {
      if (instance.length !== width) {
        throw new InvalidInputError(
          `instances[${row}] has ${instance.length} values; this version takes rows of ${width}.`,
          [{ field: `instances[${row}]`, message: `must have ${width} values` }],
        );
      }
      return instance as unknown[];
    }
    if (typeof instance !== 'object' || instance === null || !features) {
      throw new InvalidInputError(
        `instances[${row}] must be an array of ${width} numbers${features ? ' or an object keyed by feature name' : ' (this version has no feature names: give them with ?features= when registering it)'}.`,
        [{ field: `instances[${row}]`, message: 'must be an array' }],
      );
    }
    return features.map((feature) => {
      const value = (instance as Record<string, unknown>)[feature];
      if (value === undefined) {
        throw new InvalidInputError(`instances[${row}] has no ${feature}.`, [
          { field: `instances[${row}].${feature}`, message: 'is required' },
        ]);
      }
      return value;
    });
  });
  try {
    return decodeJsonTensor(
      { name: input.name, datatype: input.datatype, shape: [rows.length, width], data: rows },
      0,
    );
  } catch (error) {
    throw asInstancesError(error);
  }
}

function rowWidth(instances: readonly unknown[]): number {
  const first = instances[0];
  return Array.isArray(first) ? first.length : 0;
}

/** The tensor decoder's `inputs[0].data[3][1]` is the v1 client's `instances[3][1]`. */
function asInstancesError(error: unknown): unknown {
  if (!(error instanceof InvalidInputError)) return error;
  const rename = (text: string) => text.replace(/inputs\[0\]\.data/g, 'instances');
  return new InvalidInputError(
    rename(error.message),
    error.errors?.map(({ field, message }) => ({ field: rename(field), message: rename(message) })),
  );
}

/**
 * The graph's outputs → v1's answer. With class labels given at registration, `probabilities` are
 * the rows of the first float output with one column per class, and each prediction is the label of
 * its largest probability (the first, on a tie), whatever label tensor the graph also returns.
 * Otherwise `predictions` are the first output's values, one per row (an array per row when it has
 * several).
 */
export function tabularOutputs(served: LoadedOnnxVersion, outputs: Tensor[]): TabularOutputs {
  const [first] = outputs;
  const rows = first.shape[0] ?? 1;
  const classes = served.options.classes;
  const probabilityOutput = classes
    ? outputs.find(
        (output) =>
          (output.datatype === 'FP32' || output.datatype === 'FP64') &&
          output.shape.length === 2 &&
          output.shape[1] === classes.length,
      )
    : undefined;
  if (classes && probabilityOutput) {
    const probabilities = perRow(probabilityOutput, rows) as number[][];
    const predictions = probabilities.map((row) => classes[argmax(row)]);
    return { predictions, probabilities, classes };
  }
  return { predictions: perRow(first, rows).map((row) => (row.length === 1 ? row[0] : row)) };
}

/** A tensor's JSON values split into its first dimension's rows. */
function perRow(tensor: Tensor, rows: number): unknown[][] {
  const values = jsonData(tensor);
  const width = rows > 0 ? elementCount(tensor.shape) / rows : 0;
  return Array.from({ length: rows }, (_, row) => values.slice(row * width, (row + 1) * width));
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The outputs a V2 request asks for, by name, or every output of the graph. */
export function requestedOutputs(
  served: LoadedOnnxVersion,
  requested: readonly { name: string }[] | undefined,
): string[] {
  const available = served.onnx.signature.outputs.map((output) => output.name);
  if (!requested || requested.length === 0) return available;
  return requested.map(({ name }) => {
    if (!available.includes(name)) {
      throw new InvalidInputError(
        `This version has no output ${name}; it returns ${available.join(', ')}.`,
      );
    }
    return name;
  });
}

/** Checks request tensors against the graph before they run (and before they join a batch). */
export function graphInputs(served: LoadedOnnxVersion, tensors: readonly Tensor[]): Tensor[] {
  return checkInputs(tensors, served.onnx.signature.inputs);
}
