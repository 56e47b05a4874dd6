import { InvalidInputError } from '../common/errors';
import {
  allocFloat64,
  type PredictionBatch,
  type PredictionOutput,
  type Predictor,
  toNumberArray,
} from '../ml';
import { DATATYPE_INFO, isDatatype } from '../tensors/datatypes';
import { BatchBuilder, describe, FeatureLayout } from './batch-builder';

const FLOAT_TYPES = new Set(['FP16', 'FP32', 'FP64']);

/** The name of the one input that carries whole rows: `[batch, features]`, as KServe's sklearn server takes it. */
export const ROWS_INPUT = 'input-0';
export const PREDICT_OUTPUT = 'predict';
export const PROBABILITIES_OUTPUT = 'predict_proba';

export interface RequestTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface ResponseTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/**
 * What a version takes and returns, as the protocol's metadata describes it: one tensor per feature,
 * `[-1]` (FP64 for numbers, BYTES for strings); a regressor returns `predict` (FP64), a classifier
 * `predict` (its labels) and `predict_proba` (FP64, one column per class).
 */
export function tensorMetadata(predictor: Predictor): {
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
} {
  const inputs = predictor.inputs.map(({ name, type }) => ({
    name,
    datatype: type === 'number' ? 'FP64' : 'BYTES',
    shape: [-1],
  }));
  if (!predictor.classes) {
    return { inputs, outputs: [{ name: PREDICT_OUTPUT, datatype: 'FP64', shape: [-1] }] };
  }
  return {
    inputs,
    outputs: [
      { name: PREDICT_OUTPUT, datatype: labelDatatype(predictor.classes), shape: [-1] },
      { name: PROBABILITIES_OUTPUT, datatype: 'FP64', shape: [-1, predictor.classes.length] },
    ],
  };
}

/**
 * Input tensors → the predictor's batch. Two layouts are accepted:
 * - one tensor per feature, named after it, shaped `[N]` or `[N, 1]` (any order, all present);
 * - a single tensor not named after a feature (`input-0` by convention) shaped `[N, features]`,
 *   each row in the feature order of the version's inputSchema.
 * `data` is row-major, nested or flat. Values must fit the tensor's datatype and the feature:
 * numbers for number features (BOOL counts as 1/0), strings (BYTES) or numbers for string features;
 * `null` is a missing value, imputed by models trained here.
 */
export function decodeInputs(
  tensors: readonly RequestTensor[],
  layout: FeatureLayout,
  maxRows: number,
): PredictionBatch {
  const { names, indexOf } = layout;
  if (tensors.length === 1 && !indexOf.has(tensors[0].name)) {
    return decodeRows(tensors[0], layout, maxRows);
  }

  const columns: { tensor: RequestTensor; position: number; j: number }[] = [];
  const seen = new Set<number>();
  tensors.forEach((tensor, position) => {
    const j = indexOf.get(tensor.name);
    if (j === undefined) {
      throw new InvalidInputError(
        `Input ${tensor.name} is not a feature of this version. Send one tensor per feature ` +
          `(${names.join(', ')}), or a single tensor "${ROWS_INPUT}" of shape [N, ${names.length}].`,
      );
    }
    if (seen.has(j)) throw new InvalidInputError(`Input ${tensor.name} is given twice.`);
    seen.add(j);
    columns.push({ tensor, position, j });
  });
  const absent = names.filter((_, j) => !seen.has(j));
  if (absent.length > 0) {
    throw new InvalidInputError(
      `Inputs missing for feature(s) ${absent.join(', ')}: send one tensor per feature ` +
        `(null in its data marks a missing value, imputed by versions trained here).`,
    );
  }

  const rowCount = columns[0].tensor.shape[0];
  for (const { tensor } of columns) {
    const { shape } = tensor;
    if (!((shape.length === 1 || (shape.length === 2 && shape[1] === 1)) && shape[0] >= 1)) {
      throw new InvalidInputError(
        `Input ${tensor.name} has shape [${shape.join(', ')}]; a feature tensor is [N] or [N, 1] with N ≥ 1.`,
      );
    }
    if (shape[0] !== rowCount) {
      throw new InvalidInputError(
        `Input ${tensor.name} has ${shape[0]} rows but ${columns[0].tensor.name} has ${rowCount}; every feature tensor needs the same batch size.`,
      );
    }
  }
  checkRowCount(rowCount, maxRows);
  const batch = new BatchBuilder(rowCount, layout);
  for (const { tensor, position, j } of columns) {
    const values = flatten(tensor, position, rowCount);
    for (let row = 0; row < rowCount && !batch.full; row++) {
      const problem = store(batch, tensor, row, j, values[row]);
      if (problem) batch.report(`inputs[${position}].data[${row}]`, `${tensor.name}: ${problem}`);
    }
  }
  return batch.build('the input tensors');
}

function decodeRows(
  tensor: RequestTensor,
  layout: FeatureLayout,
  maxRows: number,
): PredictionBatch {
  const { names } = layout;
  const width = names.length;
  const { shape } = tensor;
  if (shape.length !== 2 || shape[1] !== width || shape[0] < 1) {
    throw new InvalidInputError(
      `Input ${tensor.name} has shape [${shape.join(', ')}]; this version takes [N, ${width}] ` +
        `(rows of ${names.join(', ')}), or one tensor per feature.`,
    );
  }
  const rowCount = shape[0];
  checkRowCount(rowCount, maxRows);
  const values = flatten(tensor, 0, rowCount * width);
  if (!layout.hasStrings && FLOAT_TYPES.has(tensor.datatype)) {
    const numbers = packNumbers(values);
    if (numbers) return { rowCount, numbers, strings: null };
  }
  const batch = new BatchBuilder(rowCount, layout);
  for (let row = 0, i = 0; row < rowCount && !batch.full; row++) {
    for (let j = 0; j < width; j++, i++) {
      const problem = store(batch, tensor, row, j, values[i]);
      if (problem) batch.report(`inputs[0].data[${i}]`, `row ${row}, ${names[j]}: ${problem}`);
    }
  }
  return batch.build(`input ${tensor.name}`);
}

/**
 * The common case in one tight loop: floats for number features. Null at the first anything else
 * (a null, a string…), which the checking pass then reports or imputes.
 */
function packNumbers(values: readonly unknown[]): Float64Array | null {
  const numbers = allocFloat64(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isFinite(value)) return null;
    numbers[i] = value;
  }
  return numbers;
}

/** Checks a value against the tensor's datatype, then stores it for feature `j`. */
function store(
  batch: BatchBuilder,
  tensor: RequestTensor,
  row: number,
  j: number,
  value: unknown,
): string | null {
  if (value === null) return batch.set(row, j, null);
  const { datatype } = tensor;
  if (datatype === 'BOOL') {
    if (typeof value !== 'boolean') return `must be a boolean for BOOL; got ${describe(value)}`;
    return batch.set(row, j, value ? 1 : 0);
  }
  if (datatype === 'BYTES') {
    if (typeof value !== 'string') return `must be a string for BYTES; got ${describe(value)}`;
    const problem = batch.set(row, j, value);
    return problem && `${problem} (send number features as FP64, FP32 or an integer type)`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return `must be a finite number for ${datatype}; got ${describe(value)}`;
  }
  const range = isDatatype(datatype)
    ? (DATATYPE_INFO[datatype] as { range?: readonly [number, number] }).range
    : undefined;
  if (range && !(Number.isInteger(value) && value >= range[0] && value <= range[1])) {
    return `must be an integer in [${range[0]}, ${range[1]}] for ${datatype}; got ${value}`;
  }
  return batch.set(row, j, value);
}

/** Row-major elements of a tensor, from nested or flat `data`, checked against its shape. */
function flatten(tensor: RequestTensor, position: number, expected: number): unknown[] {
  const { data } = tensor;
  if (!Array.isArray(data)) {
    throw new InvalidInputError(
      `Input ${tensor.name} (inputs[${position}]) has no data: send its elements as "data", or as ` +
        'binary data after the JSON request (parameters.binary_data_size, with the ' +
        'Inference-Header-Content-Length header).',
    );
  }
  const flat = data.some(Array.isArray) ? (data.flat(Infinity) as unknown[]) : data;
  if (flat.length !== expected) {
    throw new InvalidInputError(
      `Input ${tensor.name} (inputs[${position}]) has ${flat.length} elements but its shape ` +
        `[${tensor.shape.join(', ')}] holds ${expected}.`,
    );
  }
  return flat;
}

function checkRowCount(rowCount: number, maxRows: number): void {
  if (rowCount > maxRows) {
    throw new InvalidInputError(
      `A batch of ${rowCount} rows exceeds the limit of ${maxRows} per request; split it.`,
    );
  }
}

/** Predictions → the protocol's output tensors, in the order asked for (all by default). */
export function encodeOutputs(
  output: PredictionOutput,
  rowCount: number,
  requested: readonly { name: string }[] | undefined,
): ResponseTensor[] {
  const available: ResponseTensor[] =
    output.kind === 'regression'
      ? [
          {
            name: PREDICT_OUTPUT,
            datatype: 'FP64',
            shape: [rowCount],
            data: toNumberArray(output.values),
          },
        ]
      : [
          {
            name: PREDICT_OUTPUT,
            datatype: labelDatatype(output.classes),
            shape: [rowCount],
            data: output.labels,
          },
          {
            name: PROBABILITIES_OUTPUT,
            datatype: 'FP64',
            shape: [rowCount, output.classes.length],
            data: toNumberArray(output.probabilities),
          },
        ];
  if (!requested || requested.length === 0) return available;
  return requested.map(({ name }) => {
    const tensor = available.find((candidate) => candidate.name === name);
    if (!tensor) {
      throw new InvalidInputError(
        `This version has no output ${name}; it returns ${available.map((t) => t.name).join(', ')}.`,
      );
    }
    return tensor;
  });
}

function labelDatatype(classes: readonly (string | number)[]): string {
  if (classes.some((label) => typeof label === 'string')) return 'BYTES';
  return classes.every((label) => Number.isInteger(label)) ? 'INT64' : 'FP64';
}
