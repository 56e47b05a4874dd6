import {
  ARTIFACT_FORMAT_V1,
  FeatureSpec,
  ModelArtifact,
  ModelArtifactV1,
  ModelArtifactV2,
  rawCoefficients,
} from './artifact';
import { allocFloat64 } from './float64-pool';

export interface PredictionBatch {
  rowCount: number;
  /** rowCount × inputs.length, row-major: the value of each number input (NaN = missing). */
  numbers: Float64Array;
  /**
   * rowCount × inputs.length, row-major: the value of each string input (null = missing); null
   * when the model has no string input.
   */
  strings: (string | null)[] | null;
}

export type PredictionOutput =
  | { kind: 'regression'; values: Float64Array }
  | {
      kind: 'classification';
      labels: (string | number)[];
      /** rowCount × classes.length, row-major. */
      probabilities: Float64Array;
      classes: (string | number)[];
    };

export interface Predictor {
  readonly inputs: FeatureSpec[];
  readonly kind: 'regression' | 'classification';
  readonly classes: (string | number)[] | null;
  /** false for artifacts without imputation (v1): the caller must reject missing values. */
  readonly acceptsMissing: boolean;
  predict(batch: PredictionBatch): PredictionOutput;
}

/** Compiles a validated artifact once, so that each prediction is a tight loop over the row. */
export function compilePredictor(artifact: ModelArtifact): Predictor {
  return artifact.format === ARTIFACT_FORMAT_V1
    ? new V1Predictor(artifact)
    : new EncodedPredictor(artifact);
}

function checkBatch(batch: PredictionBatch, inputs: number, needsStrings: boolean): void {
  const { rowCount, numbers, strings } = batch;
  const size = rowCount * inputs;
  if (
    !Number.isInteger(rowCount) ||
    rowCount < 0 ||
    numbers.length !== size ||
    (needsStrings && strings?.length !== size)
  ) {
    throw new RangeError(
      `Expected ${rowCount} rows of ${inputs} inputs (${size} values), got ${numbers.length} ` +
        `numbers and ${strings ? strings.length : 'no'} strings` +
        `${needsStrings ? '' : ' (not needed)'}.`,
    );
  }
}

/** v1 exactly as it always predicted: standardisation folded, one raw-space dot product. */
class V1Predictor implements Predictor {
  readonly inputs: FeatureSpec[];
  readonly kind = 'regression';
  readonly classes = null;
  readonly acceptsMissing = false;
  private readonly weights: Float64Array;
  private readonly bias: number;

  constructor(artifact: ModelArtifactV1) {
    this.inputs = artifact.inputs.map(({ name, type }) => ({ name, type }));
    const { coefficients, intercept } = rawCoefficients(artifact);
    this.weights = Float64Array.from(coefficients);
    this.bias = intercept;
  }

  predict(batch: PredictionBatch): PredictionOutput {
    const weights = this.weights;
    const n = weights.length;
    checkBatch(batch, n, false);
    const { rowCount, numbers } = batch;
    const bias = this.bias;
    const values = allocFloat64(rowCount);
    for (let r = 0, offset = 0; r < rowCount; r++, offset += n) {
      let sum = bias;
      for (let j = 0; j < n; j++) {
        sum += weights[j] * numbers[offset + j];
      }
      values[r] = sum;
    }
    return { kind: 'regression', values };
  }
}

/**
 * v2: K scores per row (1 for regression and binary classification, one per class otherwise),
 * z[k] = b[k] + Σ_numbers w[k][j]·(x_j − mean_j) + Σ_strings t_s[category][k].
 * The scale is folded into w (w = coefficient / scale, identical within rounding); the mean is
 * subtracted rather than folded into b, because b − Σ w·mean can cancel catastrophically when a
 * mean is large against its scale. A one-hot block contributes only its category's weights, so
 * each string input is a Map lookup into a table of weights built here.
 */
class EncodedPredictor implements Predictor {
  readonly inputs: FeatureSpec[];
  readonly kind: 'regression' | 'classification';
  readonly classes: (string | number)[] | null;
  readonly acceptsMissing = true;

  private readonly k: number;
  private readonly bias: Float64Array;
  private readonly numberIndex: Int32Array;
  private readonly imputes: Float64Array;
  private readonly means: Float64Array;
  /** k × numberIndex.length, row-major. */
  private readonly numberWeights: Float64Array;
  private readonly stringIndex: Int32Array;
  private readonly codes: Map<string, number>[];
  private readonly imputeCodes: Int32Array;
  /** Per string input: categories × k, row-major. */
  private readonly tables: Float64Array[];
  /** Scratch for one row's centred numbers; predict is synchronous, so one per predictor. */
  private readonly centred: Float64Array;

  constructor(artifact: ModelArtifactV2) {
    this.inputs = artifact.inputs.map(({ name, type }) => ({ name, type }));
    const logistic = artifact.algorithm === 'logistic-regression';
    this.kind = logistic ? 'classification' : 'regression';
    this.classes = logistic ? artifact.classes.slice() : null;
    const weights = logistic ? artifact.weights : [artifact.coefficients];
    const k = (this.k = weights.length);
    this.bias = Float64Array.from(logistic ? artifact.intercepts : [artifact.intercept]);

    const numberIndex: number[] = [];
    const imputes: number[] = [];
    const means: number[] = [];
    const numberWeights: number[][] = weights.map(() => []);
    const stringIndex: number[] = [];
    const imputeCodes: number[] = [];
    this.codes = [];
    this.tables = [];
    let column = 0;
    artifact.preprocessing.forEach((p, i) => {
      if ('categories' in p) {
        stringIndex.push(i);
        const code = new Map(p.categories.map((category, c) => [category, c]));
        this.codes.push(code);
        imputeCodes.push(code.get(p.impute) as number);
        const table = new Float64Array(p.categories.length * k);
        p.categories.forEach((_, c) =>
          weights.forEach((row, r) => (table[c * k + r] = row[column + c])),
        );
        this.tables.push(table);
        column += p.categories.length;
      } else {
        numberIndex.push(i);
        imputes.push(p.impute);
        means.push(p.mean);
        weights.forEach((row, r) => numberWeights[r].push(row[column] / p.scale));
        column++;
      }
    });
    this.numberIndex = Int32Array.from(numberIndex);
    this.imputes = Float64Array.from(imputes);
    this.means = Float64Array.from(means);
    this.numberWeights = Float64Array.from(numberWeights.flat());
    this.stringIndex = Int32Array.from(stringIndex);
    this.imputeCodes = Int32Array.from(imputeCodes);
    this.centred = new Float64Array(numberIndex.length);
  }

  predict(batch: PredictionBatch): PredictionOutput {
    const n = this.inputs.length;
    checkBatch(batch, n, this.stringIndex.length > 0);
    const scores = this.scores(batch);
    if (!this.classes) {
      return { kind: 'regression', values: scores };
    }
    const classes = this.classes;
    const { rowCount } = batch;
    const labels: (string | number)[] = new Array(rowCount);
    const probabilities =
      this.k === 1 ? sigmoid(scores, rowCount) : softmaxInPlace(scores, rowCount, this.k);
    const classCount = classes.length;
    for (let r = 0, offset = 0; r < rowCount; r++, offset += classCount) {
      let best = 0;
      for (let c = 1; c < classCount; c++) {
        if (probabilities[offset + c] > probabilities[offset + best]) best = c;
      }
      labels[r] = classes[best];
    }
    return { kind: 'classification', labels, probabilities, classes: classes.slice() };
  }

  /** rowCount × k scores, row-major. */
  private scores({ rowCount, numbers, strings }: PredictionBatch): Float64Array {
    const n = this.inputs.length;
    const k = this.k;
    const { bias, numberIndex, imputes, means, numberWeights, centred } = this;
    const { stringIndex, codes, imputeCodes, tables } = this;
    const numberCount = numberIndex.length;
    const stringCount = stringIndex.length;
    const out = allocFloat64(rowCount * k);
    for (let r = 0, base = 0, o = 0; r < rowCount; r++, base += n, o += k) {
      if (k === 1) {
        // Regression and binary classification: one fused pass, no scratch.
        let sum = bias[0];
        for (let j = 0; j < numberCount; j++) {
          let x = numbers[base + numberIndex[j]];
          if (x !== x) x = imputes[j];
          sum += numberWeights[j] * (x - means[j]);
        }
        out[o] = sum;
      } else {
        for (let j = 0; j < numberCount; j++) {
          let x = numbers[base + numberIndex[j]];
          if (x !== x) x = imputes[j];
          centred[j] = x - means[j];
        }
        for (let c = 0, w = 0; c < k; c++) {
          let sum = bias[c];
          for (let j = 0; j < numberCount; j++, w++) {
            sum += numberWeights[w] * centred[j];
          }
          out[o + c] = sum;
        }
      }
      for (let s = 0; s < stringCount; s++) {
        const v = (strings as (string | null)[])[base + stringIndex[s]];
        // Missing (null, or absent) imputes; an unseen category adds nothing (all-zero one-hot).
        const code = v == null ? imputeCodes[s] : codes[s].get(v);
        if (code !== undefined) {
          const table = tables[s];
          for (let c = 0, t = code * k; c < k; c++, t++) {
            out[o + c] += table[t];
          }
        }
      }
    }
    return out;
  }
}

/**
 * [P(classes[0]), P(classes[1])] per row, each side computed without cancellation or overflow.
 * A score that overflowed (±Infinity) gives NaN, not a confident 0/1: the inputs were beyond what
 * the model can compute with, and `nonFiniteRows` finds it in the output.
 */
function sigmoid(scores: Float64Array, rowCount: number): Float64Array {
  const out = allocFloat64(rowCount * 2);
  for (let r = 0; r < rowCount; r++) {
    const z = scores[r];
    const e = Math.exp(-Math.abs(z));
    // 0 for a finite score, NaN for ±Infinity or NaN.
    const overflow = z * 0;
    const large = 1 / (1 + e) + overflow;
    const small = e / (1 + e) + overflow;
    out[2 * r] = z >= 0 ? small : large;
    out[2 * r + 1] = z >= 0 ? large : small;
  }
  return out;
}

/**
 * The rows (at most `limit`, ascending) whose prediction is not a finite number: inputs so large
 * that the model's arithmetic overflowed (`[1e308, -1e308]`, or huge values through
 * standardisation). One pass over the output, after predicting, whatever the kind of predictor.
 */
export function nonFiniteRows(output: PredictionOutput, limit = 20): number[] {
  const values = output.kind === 'regression' ? output.values : output.probabilities;
  const width = output.kind === 'regression' ? 1 : output.classes.length;
  const rows: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    // x - x is 0 for a finite number and NaN for ±Infinity or NaN.
    if (x - x !== 0) {
      const row = (i / width) | 0;
      rows.push(row);
      if (rows.length === limit) break;
      i = (row + 1) * width - 1;
    }
  }
  return rows;
}

/** Softmax of each row of k scores, shifted by the row's maximum so exp never overflows. */
function softmaxInPlace(scores: Float64Array, rowCount: number, k: number): Float64Array {
  for (let r = 0, o = 0; r < rowCount; r++, o += k) {
    let max = scores[o];
    for (let c = 1; c < k; c++) {
      if (scores[o + c] > max) max = scores[o + c];
    }
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(scores[o + c] - max);
      scores[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) {
      scores[o + c] /= sum;
    }
  }
  return scores;
}
