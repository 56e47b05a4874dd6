import {
  ARTIFACT_FORMAT,
  FeatureSpec,
  LinearModelArtifactV2,
  LogisticModelArtifactV2,
  ModelArtifactV2,
  encodedWidth,
  validateArtifact,
} from './artifact';
import { ClassificationMetrics, ClassificationMetricsAccumulator } from './classification-metrics';
import {
  Algorithm,
  ClassificationHyperparameters,
  Hyperparameters,
  RegressionHyperparameters,
} from './hyperparameters';
import { fitLinear } from './linear-regression';
import { fitLogistic } from './logistic-regression';
import { RegressionMetrics, regressionMetrics } from './regression-metrics';
import type { FitHooks, FitResult, TrainingProgress } from './model-fitting';
import {
  InputColumn,
  compareStrings,
  encodedRows,
  fitPreprocessing,
  isEveryRow,
} from './preprocessing';
import { Predictor, compilePredictor } from './predictor';
import { predictInChunks } from './predict-columns';
import { ReferenceProfile, ReferenceSamples, profileReference } from './reference-profile';
import { stratifiedSplit, trainValidationSplit } from './split';
import {
  ColumnSummaryLike,
  MAX_CATEGORIES,
  checkTrainingInput,
  describeTrainingInputProblems,
} from './training-rules';
import { TrainingError } from './training-error';

export interface TrainingInput {
  algorithm: Algorithm;
  /** Raw columns as the dataset stores them, each as long as the target. */
  features: InputColumn[];
  target: InputColumn;
  /** Resolved by resolveHyperparameters for this algorithm: defaults filled in, validated. */
  hyperparameters: Hyperparameters;
  /** 0 <= validationSplit <= MAX_VALIDATION_SPLIT (training-rules.ts) */
  validationSplit: number;
  seed: number;
}

/**
 * What a run produced, all of it for the job to show ("stopped early at epoch 312, validation
 * loss …"): the model, its metrics on both splits, and how the run went, as flat fields
 * `lossHistory`, `validationLossHistory`, `epochsRun`, `stoppedEarly`, `trainRows`,
 * `validationRows`.
 */
export interface TrainingResult {
  /** Always the current format, modeldock/v2. */
  artifact: ModelArtifactV2;
  /** validation is null when the validation split is empty. */
  metrics: {
    train: RegressionMetrics | ClassificationMetrics;
    validation: RegressionMetrics | ClassificationMetrics | null;
  };
  /** Training loss (the penalised objective): at most 1000 evenly spaced epochs, the last included. */
  lossHistory: number[];
  /**
   * Validation loss at the same epochs as lossHistory (the unpenalised loss early stopping
   * watches); empty when validationSplit is 0.
   */
  validationLossHistory: number[];
  /** Epochs (lbfgs: iterations) run; 0 for normal-equation, which has none. */
  epochsRun: number;
  /** True when early stopping ended the run; the model then holds the best weights seen. */
  stoppedEarly: boolean;
  /** Rows the model was fitted on (the training split). */
  trainRows: number;
  /** Rows held out and scored as metrics.validation; 0 when validationSplit is 0. */
  validationRows: number;
  /**
   * The training split's raw features and the model's outputs on them (a regressor's values, a
   * classifier's labels as strings), profiled for drift monitoring.
   */
  reference: { profile: ReferenceProfile; samples: ReferenceSamples };
}

type Split = { train: Uint32Array; validation: Uint32Array };

/** A split's metrics and the predictions they came from (aligned with the split's rows). */
type Scored = { metrics: RegressionMetrics | ClassificationMetrics; predictions: InputColumn };

/**
 * Splits the rows, fits the preprocessing on the training split only, encodes both splits
 * straight from the columns, fits, and scores both splits through compilePredictor, the code path
 * that serves predictions.
 * Throws TrainingError with a message for the end user. A job is cancelled by ending the thread
 * that runs this, so there is no cancellation signal to check.
 */
export function train(
  input: TrainingInput,
  onProgress?: (progress: TrainingProgress) => void,
): TrainingResult {
  checkInput(input);
  const hooks: FitHooks = { onProgress, seed: input.seed };
  return input.algorithm === 'logistic-regression'
    ? trainClassifier(input, hooks)
    : trainRegressor(input, hooks);
}

function trainRegressor(input: TrainingInput, hooks: FitHooks): TrainingResult {
  const { features, validationSplit } = input;
  // checkInput made sure the target is a number in every row.
  const target = input.target.values as Float64Array;
  const split = trainValidationSplit(target.length, validationSplit, input.seed);
  const preprocessing = fitPreprocessing(features, split.train);
  const validation = hasValidation(split, validationSplit);
  const fit = fitLinear(
    { x: encodedRows(features, preprocessing, split.train), y: gather(target, split.train) },
    validation
      ? {
          x: encodedRows(features, preprocessing, split.validation),
          y: gather(target, split.validation),
        }
      : null,
    input.hyperparameters as RegressionHyperparameters,
    hooks,
  );
  const artifact: LinearModelArtifactV2 = {
    format: ARTIFACT_FORMAT,
    algorithm: input.algorithm as LinearModelArtifactV2['algorithm'],
    inputs: inputSpecs(features),
    output: { name: input.target.name, type: 'number' },
    preprocessing,
    coefficients: Array.from(fit.coefficients),
    intercept: fit.intercept,
  };
  const predictor = usablePredictor(artifact);
  const score = (rows: Uint32Array): Scored => {
    const predictions = new Float64Array(rows.length);
    predictInChunks(predictor, features, rows, (start, output) => {
      predictions.set((output as { values: Float64Array }).values, start);
    });
    return {
      metrics: regressionMetrics(gather(target, rows), predictions),
      predictions: { name: input.target.name, type: 'number', values: predictions },
    };
  };
  return result(input, artifact, fit, split, score);
}

function trainClassifier(input: TrainingInput, hooks: FitHooks): TrainingResult {
  const { features, validationSplit } = input;
  const { classes, labels } = classLabels(input.target);
  const split = stratifiedSplit(labels, classes.length, validationSplit, input.seed);
  const hyperparameters = input.hyperparameters as ClassificationHyperparameters;
  const y = gatherLabels(labels, split.train);
  const sampleWeights = classWeights(hyperparameters.classWeight, classes, y);
  const preprocessing = fitPreprocessing(features, split.train);
  const validation = hasValidation(split, validationSplit);
  const fit = fitLogistic(
    { x: encodedRows(features, preprocessing, split.train), y, sampleWeights },
    validation
      ? {
          x: encodedRows(features, preprocessing, split.validation),
          y: gatherLabels(labels, split.validation),
        }
      : null,
    classes.length,
    hyperparameters,
    hooks,
  );
  const weightRows = classes.length === 2 ? 1 : classes.length;
  const cols = encodedWidth(preprocessing);
  const artifact: LogisticModelArtifactV2 = {
    format: ARTIFACT_FORMAT,
    algorithm: 'logistic-regression',
    inputs: inputSpecs(features),
    output: { name: input.target.name, type: input.target.type },
    preprocessing,
    classes,
    weights: Array.from({ length: weightRows }, (_, k) =>
      Array.from(fit.weights.subarray(k * cols, (k + 1) * cols)),
    ),
    intercepts: Array.from(fit.intercepts),
  };
  const predictor = usablePredictor(artifact);
  const score = (rows: Uint32Array): Scored => {
    const accumulator = new ClassificationMetricsAccumulator(classes);
    // Labels as strings: a profile's categories are strings, whatever the target's type.
    const predicted = new Array<string>(rows.length);
    predictInChunks(predictor, features, rows, (start, output) => {
      const { probabilities, labels: chunk } = output as {
        probabilities: Float64Array;
        labels: (string | number)[];
      };
      accumulator.add(
        gatherLabels(labels, rows.subarray(start, start + chunk.length)),
        probabilities,
      );
      for (let i = 0; i < chunk.length; i++) predicted[start + i] = String(chunk[i]);
    });
    return {
      metrics: accumulator.result(),
      predictions: { name: input.target.name, type: 'string', values: predicted },
    };
  };
  return result(input, artifact, fit, split, score);
}

/** Scores both splits; the training split's predictions also go into its reference profile. */
function result(
  input: TrainingInput,
  artifact: ModelArtifactV2,
  fit: FitResult,
  split: Split,
  score: (rows: Uint32Array) => Scored,
): TrainingResult {
  const train = score(split.train);
  return {
    artifact,
    metrics: {
      train: train.metrics,
      validation: split.validation.length > 0 ? score(split.validation).metrics : null,
    },
    lossHistory: fit.lossHistory,
    validationLossHistory: fit.validationLossHistory,
    epochsRun: fit.epochsRun,
    stoppedEarly: fit.stoppedEarly,
    trainRows: split.train.length,
    validationRows: split.validation.length,
    reference: profileReference(input.features, split.train, train.predictions, input.seed),
  };
}

/** Validation rows go to the fitter (for early stopping) only when the user asked for a split. */
function hasValidation(split: Split, validationSplit: number): boolean {
  return validationSplit > 0 && split.validation.length > 0;
}

function inputSpecs(features: InputColumn[]): FeatureSpec[] {
  return features.map(({ name, type }) => ({ name, type }));
}

/** Extreme data can overflow the folded weights; never hand out a model that import would refuse. */
function usablePredictor(artifact: ModelArtifactV2): Predictor {
  const check = validateArtifact(artifact);
  if (check.errors) {
    throw new TrainingError(
      `Training produced a model that cannot be used: ${check.errors[0].message} ` +
        'Check the feature values for extreme magnitudes.',
    );
  }
  return compilePredictor(artifact);
}

/**
 * The rules the API checked (checkTrainingInput), applied again to the columns themselves, then
 * what only the values show: lengths that disagree (a programming error) and infinities.
 */
function checkInput(input: TrainingInput): void {
  const { algorithm, features, target, validationSplit } = input;
  const rowCount = target.values.length;
  for (const feature of features) {
    if (feature.values.length !== rowCount) {
      throw new RangeError(
        `Feature column "${feature.name}" has ${feature.values.length} rows ` +
          `but the target has ${rowCount}.`,
      );
    }
  }
  const targetScan = scan(target, true);
  const featureScans = features.map((feature) => scan(feature, feature.type === 'string'));
  const problems = checkTrainingInput({
    algorithm,
    target: targetScan.summary,
    features: featureScans.map(({ summary }) => summary),
    rowCount,
    validationSplit,
  });
  if (problems.length > 0) {
    throw new TrainingError(describeTrainingInputProblems(problems));
  }
  // NaN is a missing value to impute, but an infinity has no sensible imputation or scale.
  const columns = [...features, target];
  [...featureScans, targetScan].forEach(({ firstInfinite }, c) => {
    if (firstInfinite >= 0) {
      const { name, values } = columns[c];
      throw new TrainingError(
        `Column "${name}" has an infinite value (${values[firstInfinite]}) in data row ` +
          `${firstInfinite + 1}.`,
      );
    }
  });
}

/**
 * One pass over a column for the facts checkTrainingInput reads, and the first row holding an
 * infinity (−1 if none). Distinct values are counted only where a rule reads them (a set insertion
 * per row), and only up to MAX_CATEGORIES + 1.
 */
function scan(
  column: InputColumn,
  countDistinct: boolean,
): { summary: ColumnSummaryLike; firstInfinite: number } {
  const seen = new Set<string | number>();
  let missing = 0;
  let firstInfinite = -1;
  if (column.type === 'number') {
    const values = column.values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v !== v) {
        missing++;
        continue;
      }
      if (firstInfinite < 0 && (v === Infinity || v === -Infinity)) firstInfinite = i;
      if (countDistinct && seen.size <= MAX_CATEGORIES) seen.add(v);
    }
  } else {
    const values = column.values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null) missing++;
      else if (countDistinct && seen.size <= MAX_CATEGORIES) seen.add(v);
    }
  }
  return {
    summary: { name: column.name, type: column.type, missing, distinct: seen.size },
    firstInfinite,
  };
}

/**
 * Class labels sorted like scikit-learn's (numbers ascending, strings lexicographically), each
 * row's label as an index into them. checkInput made sure every row has one.
 */
function classLabels(target: InputColumn): { classes: (string | number)[]; labels: Int32Array } {
  const rowCount = target.values.length;
  const values = target.values as ArrayLike<string | number>;
  const distinct = new Map<string | number, number>();
  for (let i = 0; i < rowCount; i++) {
    distinct.set(values[i], 0);
  }
  const classes = [...distinct.keys()];
  if (target.type === 'number') {
    (classes as number[]).sort((a, b) => a - b);
  } else {
    (classes as string[]).sort(compareStrings);
  }
  classes.forEach((label, c) => distinct.set(label, c));
  const labels = new Int32Array(rowCount);
  for (let i = 0; i < rowCount; i++) {
    labels[i] = distinct.get(values[i]) as number;
  }
  return { classes, labels };
}

/**
 * classWeight as a weight per training row: `balanced` is n / (classes × count) as
 * scikit-learn's; a map gives weights by label (as a string), 1 for the classes it leaves out.
 */
function classWeights(
  classWeight: ClassificationHyperparameters['classWeight'],
  classes: (string | number)[],
  y: Int32Array,
): Float64Array | null {
  if (classWeight === 'none') {
    return null;
  }
  const counts = new Float64Array(classes.length);
  for (const c of y) counts[c]++;
  let perClass: number[];
  if (classWeight === 'balanced') {
    perClass = classes.map((_, c) => y.length / (classes.length * counts[c]));
  } else {
    const names = classes.map(String);
    const unknown = Object.keys(classWeight).filter((label) => !names.includes(label));
    if (unknown.length > 0) {
      throw new TrainingError(
        `classWeight names ${unknown.map((l) => JSON.stringify(l)).join(', ')}, not a class of ` +
          `the target; the classes are ${names.map((l) => JSON.stringify(l)).join(', ')}.`,
      );
    }
    perClass = names.map((label) => (Object.hasOwn(classWeight, label) ? classWeight[label] : 1));
  }
  return Float64Array.from(y, (c) => perClass[c]);
}

/** column[rows], or the column itself when rows is every row in order (the arrays are only read). */
function gather(column: Float64Array, rows: Uint32Array): Float64Array {
  if (isEveryRow(rows, column.length)) {
    return column;
  }
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    out[i] = column[rows[i]];
  }
  return out;
}

function gatherLabels(labels: Int32Array, rows: Uint32Array): Int32Array {
  if (isEveryRow(rows, labels.length)) {
    return labels;
  }
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    out[i] = labels[rows[i]];
  }
  return out;
}
