import type { Tensor } from '../tensors/datatypes';
import { fromHalf } from '../tensors/fp16';

/**
 * An answer reduced to what a shadow is compared on: labels (class labels, integer and string
 * tensors) agree or not; values (regression outputs, float tensors) differ by an amount;
 * probabilities differ by an amount.
 */
export interface ComparableAnswer {
  labels: readonly (string | number | bigint | boolean)[] | ArrayLike<number | bigint> | null;
  values: ArrayLike<number> | null;
  probabilities: ArrayLike<number> | null;
}

/** The comparison of one request's two answers. */
export interface PairComparison {
  labelsCompared: number;
  labelsAgreeing: number;
  valuesCompared: number;
  absDiffSum: number;
  absDiffMax: number;
  relDiffSum: number;
  probabilitiesCompared: number;
  probabilityDiffSum: number;
  probabilityDiffMax: number;
  /** The answers differ in shape (or one lacks what the other has): nothing is comparable. */
  mismatched: boolean;
}

/** Relative differences divide by at least this, so answers near zero do not blow them up. */
const RELATIVE_FLOOR = 1e-12;

export function compareAnswers(
  primary: ComparableAnswer,
  shadow: ComparableAnswer,
): PairComparison {
  const result: PairComparison = {
    labelsCompared: 0,
    labelsAgreeing: 0,
    valuesCompared: 0,
    absDiffSum: 0,
    absDiffMax: 0,
    relDiffSum: 0,
    probabilitiesCompared: 0,
    probabilityDiffSum: 0,
    probabilityDiffMax: 0,
    mismatched: false,
  };
  if (!sameLength(primary.labels, shadow.labels)) result.mismatched = true;
  else if (primary.labels && shadow.labels) {
    const a = primary.labels as ArrayLike<unknown>;
    const b = shadow.labels as ArrayLike<unknown>;
    result.labelsCompared = a.length;
    for (let i = 0; i < a.length; i++) if (a[i] === b[i]) result.labelsAgreeing++;
  }
  if (!sameLength(primary.values, shadow.values)) result.mismatched = true;
  else if (primary.values && shadow.values) {
    const values = differences(primary.values, shadow.values);
    result.valuesCompared = primary.values.length;
    result.absDiffSum = values.sum;
    result.absDiffMax = values.max;
    result.relDiffSum = values.relativeSum;
  }
  if (!sameLength(primary.probabilities, shadow.probabilities)) result.mismatched = true;
  else if (primary.probabilities && shadow.probabilities) {
    const probabilities = differences(primary.probabilities, shadow.probabilities);
    result.probabilitiesCompared = primary.probabilities.length;
    result.probabilityDiffSum = probabilities.sum;
    result.probabilityDiffMax = probabilities.max;
  }
  return result;
}

/** Sum and largest of |a − b|, and the sum of |a − b| / |a|, over arrays of one length. */
function differences(a: ArrayLike<number>, b: ArrayLike<number>) {
  let sum = 0;
  let max = 0;
  let relativeSum = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    sum += diff;
    if (diff > max) max = diff;
    relativeSum += diff / Math.max(Math.abs(a[i]), RELATIVE_FLOOR);
  }
  return { sum, max, relativeSum };
}

function sameLength(a: ArrayLike<unknown> | null, b: ArrayLike<unknown> | null): boolean {
  return a === null ? b === null : b !== null && a.length === b.length;
}

/**
 * Open Inference Protocol outputs, by name: integer, boolean and BYTES tensors are labels, float
 * tensors values. Outputs are concatenated in the primary's order; one the shadow lacks is a
 * mismatch.
 */
export function comparableTensors(
  outputs: readonly Tensor[],
  order?: readonly string[],
): ComparableAnswer {
  const byName = new Map(outputs.map((tensor) => [tensor.name, tensor]));
  const names = order ?? outputs.map((tensor) => tensor.name);
  const labels: (string | number | bigint | boolean)[] = [];
  const values: number[] = [];
  for (const name of names) {
    const tensor = byName.get(name);
    if (!tensor) return { labels: null, values: null, probabilities: null };
    const { data, datatype } = tensor;
    if (datatype === 'FP16') {
      for (let i = 0; i < data.length; i++) values.push(fromHalf(data[i] as number));
    } else if (datatype === 'FP32' || datatype === 'FP64') {
      for (let i = 0; i < data.length; i++) values.push(data[i] as number);
    } else {
      for (let i = 0; i < data.length; i++) labels.push(data[i] as string | number | bigint);
    }
  }
  return {
    labels: labels.length > 0 ? labels : null,
    values: values.length > 0 ? values : null,
    probabilities: null,
  };
}
