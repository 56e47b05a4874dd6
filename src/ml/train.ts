import { ARTIFACT_FORMAT, ModelArtifact, validateArtifact } from './artifact';
import { mean } from './linalg';
import {
  CancellationSignal,
  LinearRegressionHyperparameters,
  TrainingProgress,
  fitLinearRegression,
} from './linear-regression';
import { RegressionMetrics, regressionMetrics } from './metrics';
import { compilePredictor } from './predictor';
import { trainValidationSplit } from './split';
import { TrainingError } from './training-error';

export { TrainingError } from './training-error';
export type { CancellationSignal, TrainingProgress } from './linear-regression';

export const MAX_VALIDATION_SPLIT = 0.9;

export interface TrainingInput {
  algorithm: 'linear-regression';
  features: string[];
  /** One per feature, each rowCount long, all finite. */
  featureColumns: Float64Array[];
  target: string;
  targetColumn: Float64Array;
  hyperparameters: LinearRegressionHyperparameters;
  /** 0 <= validationSplit <= 0.9 */
  validationSplit: number;
  seed: number;
}

export interface TrainingResult {
  artifact: ModelArtifact;
  /** validation is null when the validation split is empty. */
  metrics: { train: RegressionMetrics; validation: RegressionMetrics | null };
  /** Training loss L = 1/2m Σ(h(x) − y)²: at most 1000 evenly spaced points, the last included. */
  lossHistory: number[];
  epochsRun: number;
  trainRows: number;
  validationRows: number;
}

/**
 * Splits the rows, standardises the features on the training split only, fits, and scores both
 * splits through compilePredictor, the code path that serves predictions.
 * Throws TrainingError with a message for the end user, TrainingError('cancelled') once
 * signal.aborted is set.
 */
export function train(
  input: TrainingInput,
  onProgress?: (progress: TrainingProgress) => void,
  signal?: CancellationSignal,
): TrainingResult {
  checkInput(input);
  const { features, featureColumns, targetColumn, validationSplit } = input;
  const rowCount = targetColumn.length;
  const split = trainValidationSplit(rowCount, validationSplit, input.seed);
  const trainRows = split.train.length;
  if (trainRows < 2) {
    const leaves =
      split.validation.length > 0
        ? ` and validationSplit ${validationSplit} leaves ${trainRows} for training`
        : '';
    throw new TrainingError(
      `Training needs at least 2 training rows, but the dataset has ${rowCount} ` +
        `row${rowCount === 1 ? '' : 's'}${leaves}.`,
    );
  }

  const means: number[] = [];
  const scales: number[] = [];
  const standardized = featureColumns.map((column) => {
    const z = gather(column, split.train);
    const { mean: mu, scale } = standardizeInPlace(z);
    means.push(mu);
    scales.push(scale);
    return z;
  });
  const fit = fitLinearRegression(
    standardized,
    gather(targetColumn, split.train),
    input.hyperparameters,
    onProgress,
    signal,
  );

  const artifact: ModelArtifact = {
    format: ARTIFACT_FORMAT,
    algorithm: 'linear-regression',
    inputs: features.map((name) => ({ name, type: 'number' })),
    output: { name: input.target, type: 'number' },
    preprocessing: { standardize: { mean: means, scale: scales } },
    coefficients: Array.from(fit.coefficients),
    intercept: fit.intercept,
  };
  // Extreme data can overflow the folded weights; never hand out a model that import would refuse.
  const check = validateArtifact(artifact);
  if (check.errors) {
    throw new TrainingError(
      `Training produced a model that cannot be used: ${check.errors[0].message} ` +
        'Check the feature values for extreme magnitudes.',
    );
  }

  const predictor = compilePredictor(artifact);
  const evaluate = (rows: Uint32Array): RegressionMetrics =>
    regressionMetrics(
      gather(targetColumn, rows),
      predictor.predict(rowMajor(featureColumns, rows), rows.length),
    );
  return {
    artifact,
    metrics: {
      train: evaluate(split.train),
      validation: split.validation.length > 0 ? evaluate(split.validation) : null,
    },
    lossHistory: fit.lossHistory,
    epochsRun: fit.epochsRun,
    trainRows,
    validationRows: split.validation.length,
  };
}

function checkInput(input: TrainingInput): void {
  const { algorithm, features, featureColumns, target, targetColumn, validationSplit } = input;
  if (algorithm !== 'linear-regression') {
    throw new TrainingError(
      `Unsupported algorithm "${algorithm}"; the supported algorithm is "linear-regression".`,
    );
  }
  if (features.length === 0) {
    throw new TrainingError('Select at least one feature column to train on.');
  }
  if (featureColumns.length !== features.length) {
    throw new RangeError(
      `Got ${features.length} feature names but ${featureColumns.length} feature columns.`,
    );
  }
  const seen = new Set<string>();
  for (const name of features) {
    if (name.trim() === '') {
      throw new TrainingError('Feature names must not be empty.');
    }
    if (seen.has(name)) {
      throw new TrainingError(`Feature "${name}" is listed more than once.`);
    }
    seen.add(name);
  }
  if (seen.has(target)) {
    throw new TrainingError(`The target "${target}" cannot also be a feature.`);
  }
  if (!(validationSplit >= 0 && validationSplit <= MAX_VALIDATION_SPLIT)) {
    throw new TrainingError(
      `validationSplit must be between 0 and ${MAX_VALIDATION_SPLIT}, got ${validationSplit}.`,
    );
  }
  checkHyperparameters(input.hyperparameters);

  const rowCount = targetColumn.length;
  featureColumns.forEach((column, j) => {
    if (column.length !== rowCount) {
      throw new RangeError(
        `Feature column "${features[j]}" has ${column.length} rows but the target has ${rowCount}.`,
      );
    }
  });
  // Callers validate the data, but a stray NaN would otherwise surface as a misleading divergence.
  const columns = [...featureColumns, targetColumn];
  const names = [...features, target];
  columns.forEach((column, j) => {
    for (let i = 0; i < column.length; i++) {
      if (!Number.isFinite(column[i])) {
        throw new TrainingError(
          `Column "${names[j]}" has a non-numeric or infinite value (${column[i]}) ` +
            `in data row ${i + 1}.`,
        );
      }
    }
  });
}

function checkHyperparameters({
  optimizer,
  learningRate,
  epochs,
  tolerance,
}: LinearRegressionHyperparameters): void {
  if (optimizer === 'normal-equation') {
    return;
  }
  if (optimizer !== 'gradient-descent') {
    throw new TrainingError(
      `Unsupported optimizer "${optimizer}"; use "gradient-descent" or "normal-equation".`,
    );
  }
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new TrainingError(`learningRate must be a positive number, got ${learningRate}.`);
  }
  if (!(Number.isInteger(epochs) && epochs >= 1)) {
    throw new TrainingError(`epochs must be a whole number of at least 1, got ${epochs}.`);
  }
  if (!(Number.isFinite(tolerance) && tolerance >= 0)) {
    throw new TrainingError(
      `tolerance must be 0 (disabled) or a positive number, got ${tolerance}.`,
    );
  }
}

/**
 * (x − mean) / scale with the population standard deviation as scale, like scikit-learn's
 * StandardScaler: a constant column gets scale 1 (and exact zeros, its mean being its value).
 */
function standardizeInPlace(values: Float64Array): { mean: number; scale: number } {
  const m = values.length;
  let min = values[0];
  let max = values[0];
  for (let i = 1; i < m; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mu = min === max ? min : mean(values);
  let deviation = 0;
  let squares = 0;
  for (let i = 0; i < m; i++) {
    const d = values[i] - mu;
    deviation += d;
    squares += d * d;
  }
  // Corrected two-pass variance: subtracting the leftover deviation removes the mean's rounding.
  const variance = (squares - (deviation * deviation) / m) / m;
  const scale = variance > 0 ? Math.sqrt(variance) : 1;
  for (let i = 0; i < m; i++) {
    values[i] = (values[i] - mu) / scale;
  }
  return { mean: mu, scale };
}

function gather(column: Float64Array, rows: Uint32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    out[i] = column[rows[i]];
  }
  return out;
}

function rowMajor(columns: Float64Array[], rows: Uint32Array): Float64Array {
  const n = columns.length;
  const out = new Float64Array(rows.length * n);
  columns.forEach((column, j) => {
    for (let i = 0, k = j; i < rows.length; i++, k += n) {
      out[k] = column[rows[i]];
    }
  });
  return out;
}
