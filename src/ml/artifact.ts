import { ALGORITHMS, Algorithm } from './hyperparameters';
import type { FieldProblem } from './field-problem';

/** The format train() writes. */
export const ARTIFACT_FORMAT = 'modeldock/v2';
/** The first format: linear regression on numeric inputs; still imported and served as before. */
export const ARTIFACT_FORMAT_V1 = 'modeldock/v1';
/** Every format validateArtifact and compilePredictor accept. */
export const ARTIFACT_FORMATS = [ARTIFACT_FORMAT_V1, ARTIFACT_FORMAT] as const;

export interface FeatureSpec {
  name: string;
  type: 'number' | 'string';
}

/**
 * `modeldock/v1`: linear regression on numeric inputs, y = intercept + Σ coefficients[j]·z[j] with
 * z[j] = (x[j] − mean[j]) / scale[j] when preprocessing.standardize is present, else x[j].
 * Missing values are not accepted.
 */
export interface ModelArtifactV1 {
  format: typeof ARTIFACT_FORMAT_V1;
  algorithm: 'linear-regression';
  /** Feature order is coefficient order. */
  inputs: { name: string; type: 'number' }[];
  output: { name: string; type: 'number' };
  /** Optional, so coefficients exported from scikit-learn or any other tool import as-is. */
  preprocessing?: { standardize?: { mean: number[]; scale: number[] } };
  /** In the standardised space when preprocessing.standardize is present. */
  coefficients: number[];
  intercept: number;
}

/** How a number input is encoded: a missing value becomes `impute`, then (x − mean) / scale. */
export interface NumberPreprocessing {
  impute: number;
  mean: number;
  /** > 0; 1 with mean 0 leaves the value as it is. */
  scale: number;
}

/**
 * How a string input is encoded: a missing value becomes `impute` (one of the categories), then
 * one column per category, 1 for the value's category and 0 for the others. A value that is not a
 * category encodes as all zeros, like scikit-learn's OneHotEncoder(handle_unknown='ignore'): the
 * prediction is then the model's with none of the categories' weights.
 */
export interface StringPreprocessing {
  impute: string;
  /** Unique; their order is the order of the input's encoded columns. */
  categories: string[];
}

export type InputPreprocessing = NumberPreprocessing | StringPreprocessing;

/**
 * `modeldock/v2`: a linear or logistic model together with the preprocessing that turns an input
 * row into its encoded row.
 *
 * - `inputs`: the features a prediction request supplies, `number` or `string`.
 * - `preprocessing`: one entry per input, in input order: {@link NumberPreprocessing} for a number
 *   input, {@link StringPreprocessing} for a string input.
 * - The encoded row is the inputs' encodings side by side, in input order: one column per number
 *   input, one per category of a string input. `coefficients` and every row of `weights` are
 *   indexed by encoded column.
 * - `linear-regression`, `ridge-regression`: prediction = intercept + coefficients · encoded row.
 * - `logistic-regression`: score z[k] = intercepts[k] + weights[k] · encoded row. With 2 classes
 *   `weights` has one row, the score of classes[1]: P(classes[1]) = 1 / (1 + e^−z[0]). With more,
 *   one row per class and P = softmax(z). The predicted label is the most probable class (ties:
 *   the first in `classes`).
 *
 * Every number is finite. A model from another tool imports by writing its weights with
 * mean 0 and scale 1 for unscaled number inputs.
 */
export type ModelArtifactV2 = LinearModelArtifactV2 | LogisticModelArtifactV2;

interface ArtifactV2Base {
  format: typeof ARTIFACT_FORMAT;
  inputs: FeatureSpec[];
  preprocessing: InputPreprocessing[];
}

export interface LinearModelArtifactV2 extends ArtifactV2Base {
  algorithm: 'linear-regression' | 'ridge-regression';
  output: { name: string; type: 'number' };
  coefficients: number[];
  intercept: number;
}

export interface LogisticModelArtifactV2 extends ArtifactV2Base {
  algorithm: 'logistic-regression';
  /** The label column; its type is the type of the classes. */
  output: { name: string; type: 'number' | 'string' };
  /** Unique labels, all numbers or all strings; at least 2. */
  classes: (string | number)[];
  /** 1 row for 2 classes, else one per class; each row one weight per encoded column. */
  weights: number[][];
  /** One per row of weights. */
  intercepts: number[];
}

export type ModelArtifact = ModelArtifactV1 | ModelArtifactV2;

export type ArtifactValidation =
  | { artifact: ModelArtifact; errors?: undefined }
  | { artifact?: undefined; errors: FieldProblem[] };

/** Number of encoded columns: 1 per number input, 1 per category of a string input. */
export function encodedWidth(preprocessing: InputPreprocessing[]): number {
  let width = 0;
  for (const p of preprocessing) {
    width += 'categories' in p ? p.categories.length : 1;
  }
  return width;
}

/**
 * A linear model as one dot product over the raw (number) and one-hot (string) encoded columns:
 * standardisation folded into the weights (w_j = coef_j / scale_j, b = intercept − Σ w_j·mean_j).
 */
export function rawCoefficients(artifact: ModelArtifactV1 | LinearModelArtifactV2): {
  coefficients: number[];
  intercept: number;
} {
  const coefficients = [...artifact.coefficients];
  let intercept = artifact.intercept;
  const fold = (j: number, mean: number, scale: number): void => {
    coefficients[j] /= scale;
    intercept -= coefficients[j] * mean;
  };
  if (artifact.format === ARTIFACT_FORMAT_V1) {
    const standardize = artifact.preprocessing?.standardize;
    coefficients.forEach(
      (_, j) => standardize && fold(j, standardize.mean[j], standardize.scale[j]),
    );
    return { coefficients, intercept };
  }
  let column = 0;
  for (const p of artifact.preprocessing) {
    if ('categories' in p) {
      column += p.categories.length;
    } else {
      fold(column++, p.mean, p.scale);
    }
  }
  return { coefficients, intercept };
}

/**
 * Checks an untrusted JSON document (an upload or a stored artifact) in either format and returns
 * a clean copy holding only the known fields, or every problem found so the user can fix them in
 * one go.
 */
export function validateArtifact(doc: unknown): ArtifactValidation {
  const errors: FieldProblem[] = [];
  const fail: Fail = (field, message) => {
    errors.push({ field, message });
  };
  if (!isRecord(doc)) {
    fail('$', 'The model artifact must be a JSON object.');
    return { errors };
  }
  if (doc.format !== ARTIFACT_FORMAT && doc.format !== ARTIFACT_FORMAT_V1) {
    const expected = `"${ARTIFACT_FORMAT}" (or "${ARTIFACT_FORMAT_V1}" for older models)`;
    fail(
      'format',
      doc.format === undefined
        ? `format is required and must be ${expected}.`
        : `Unsupported format ${describe(doc.format)}; expected ${expected}.`,
    );
  }
  const artifact = doc.format === ARTIFACT_FORMAT_V1 ? readV1(doc, fail) : readV2(doc, fail);
  return errors.length > 0 || !artifact ? { errors } : { artifact };
}

type Fail = (field: string, message: string) => void;

function readV1(doc: Record<string, unknown>, fail: Fail): ModelArtifactV1 | undefined {
  if (doc.algorithm !== 'linear-regression') {
    fail(
      'algorithm',
      doc.algorithm === undefined
        ? `algorithm is required; ${ARTIFACT_FORMAT_V1} supports only "linear-regression".`
        : `Unsupported algorithm ${describe(doc.algorithm)}; ` +
            `${ARTIFACT_FORMAT_V1} supports only "linear-regression".`,
    );
  }
  const inputs = readInputs(doc.inputs, ['number'], fail);
  const output = readOutput(doc.output, ['number'], fail);
  const featureCount = inputs?.length;
  const coefficients = readNumbers(doc.coefficients, 'coefficients', featureCount, 'input', fail);
  const intercept = readNumber(doc.intercept, 'intercept', fail);
  const standardize = readStandardize(doc.preprocessing, featureCount, fail);
  if (!inputs || !output || !coefficients || intercept === undefined || standardize === null) {
    return undefined;
  }
  const artifact: ModelArtifactV1 = {
    format: ARTIFACT_FORMAT_V1,
    algorithm: 'linear-regression',
    inputs: inputs as ModelArtifactV1['inputs'],
    output: output as ModelArtifactV1['output'],
    ...(standardize ? { preprocessing: { standardize } } : {}),
    coefficients,
    intercept,
  };
  return checkFolded(artifact, fail) ? artifact : undefined;
}

function readV2(doc: Record<string, unknown>, fail: Fail): ModelArtifactV2 | undefined {
  const algorithm = readAlgorithm(doc.algorithm, fail);
  const inputs = readInputs(doc.inputs, ['number', 'string'], fail);
  const logistic = algorithm === 'logistic-regression';
  const output = readOutput(doc.output, logistic ? ['number', 'string'] : ['number'], fail);
  const preprocessing = readPreprocessing(doc.preprocessing, inputs, fail);
  const width = preprocessing && encodedWidth(preprocessing);
  if (!algorithm) {
    return undefined;
  }
  if (!logistic) {
    const coefficients = readNumbers(doc.coefficients, 'coefficients', width, 'column', fail);
    const intercept = readNumber(doc.intercept, 'intercept', fail);
    if (!inputs || !output || !preprocessing || !coefficients || intercept === undefined) {
      return undefined;
    }
    const artifact: LinearModelArtifactV2 = {
      format: ARTIFACT_FORMAT,
      algorithm,
      inputs,
      output: output as LinearModelArtifactV2['output'],
      preprocessing,
      coefficients,
      intercept,
    };
    return checkFolded(artifact, fail) ? artifact : undefined;
  }
  const classes = readClasses(doc.classes, output?.type, fail);
  const rows = classes && (classes.length === 2 ? 1 : classes.length);
  const weights = readWeights(doc.weights, rows, width, fail);
  const intercepts = readNumbers(doc.intercepts, 'intercepts', rows, 'row of weights', fail);
  if (!inputs || !output || !preprocessing || !classes || !weights || !intercepts) {
    return undefined;
  }
  const artifact: LogisticModelArtifactV2 = {
    format: ARTIFACT_FORMAT,
    algorithm,
    inputs,
    output,
    preprocessing,
    classes,
    weights,
    intercepts,
  };
  return checkFolded(artifact, fail) ? artifact : undefined;
}

/**
 * Values can be finite while the weights the predictor folds overflow (a tiny scale and a big
 * coefficient); such a model would serve Infinity or NaN, so it is refused here. v1 folds the mean
 * into the intercept as well; v2 subtracts it from the input instead.
 */
function checkFolded(artifact: ModelArtifact, fail: Fail): boolean {
  if (artifact.format === ARTIFACT_FORMAT_V1) {
    const raw = rawCoefficients(artifact);
    const bad = raw.coefficients.flatMap((w, j) => (Number.isFinite(w) ? [] : [j]));
    for (const j of bad) {
      fail(
        `coefficients[${j}]`,
        `coefficients[${j}] divided by preprocessing.standardize.scale[${j}] ` +
          'is not a finite number; rescale the feature or the coefficient.',
      );
    }
    if (bad.length === 0 && !Number.isFinite(raw.intercept)) {
      fail(
        'intercept',
        'The intercept after folding in preprocessing.standardize is not a finite number; ' +
          'check the mean and scale values.',
      );
      return false;
    }
    return bad.length === 0;
  }
  const linear = artifact.algorithm !== 'logistic-regression';
  const rows = linear ? [artifact.coefficients] : artifact.weights;
  const scales = numberColumnScales(artifact.preprocessing);
  let ok = true;
  rows.forEach((row, k) =>
    scales.forEach((scale, j) => {
      if (!Number.isFinite(row[j] / scale)) {
        const field = linear ? `coefficients[${j}]` : `weights[${k}][${j}]`;
        fail(
          field,
          `${field} divided by the scale of its input is not a finite number; ` +
            'rescale the feature or the weight.',
        );
        ok = false;
      }
    }),
  );
  return ok;
}

/** scale by encoded column index, for the number inputs' columns only (sparse). */
function numberColumnScales(preprocessing: InputPreprocessing[]): number[] {
  const scales: number[] = [];
  let column = 0;
  for (const p of preprocessing) {
    if ('categories' in p) {
      column += p.categories.length;
    } else {
      scales[column++] = p.scale;
    }
  }
  return scales;
}

function readAlgorithm(value: unknown, fail: Fail): Algorithm | undefined {
  if ((ALGORITHMS as readonly unknown[]).includes(value)) {
    return value as Algorithm;
  }
  const known = ALGORITHMS.map((a) => `"${a}"`).join(', ');
  fail(
    'algorithm',
    value === undefined
      ? `algorithm is required; one of ${known}.`
      : `Unsupported algorithm ${describe(value)}; use one of ${known}.`,
  );
  return undefined;
}

function readInputs(
  value: unknown,
  types: FeatureSpec['type'][],
  fail: Fail,
): FeatureSpec[] | undefined {
  const typeList = types.map((t) => `"${t}"`).join(' or ');
  if (!Array.isArray(value) || value.length === 0) {
    fail(
      'inputs',
      `inputs must be a non-empty array of {"name": ..., "type": ${typeList}} objects, ` +
        'one per feature.',
    );
    return undefined;
  }
  const inputs: FeatureSpec[] = [];
  const firstIndexByName = new Map<string, number>();
  value.forEach((item: unknown, i) => {
    const field = `inputs[${i}]`;
    if (!isRecord(item)) {
      fail(field, `${field} must be an object like {"name": "age", "type": "number"}.`);
      return;
    }
    const { name, type } = item;
    let valid = true;
    if (typeof name !== 'string' || name.trim() === '') {
      fail(`${field}.name`, `${field}.name must be a non-empty string.`);
      valid = false;
    } else if (firstIndexByName.has(name)) {
      fail(
        `${field}.name`,
        `${field}.name "${name}" duplicates inputs[${firstIndexByName.get(name)}].name; ` +
          'feature names must be unique.',
      );
      valid = false;
    } else {
      firstIndexByName.set(name, i);
    }
    if (!types.includes(type as FeatureSpec['type'])) {
      fail(
        `${field}.type`,
        types.length === 1
          ? `${field}.type must be "number" (this format supports only numeric features).`
          : `${field}.type must be ${typeList}, got ${describe(type)}.`,
      );
      valid = false;
    }
    if (valid) {
      inputs.push({ name: name as string, type: type as FeatureSpec['type'] });
    }
  });
  return inputs.length === value.length ? inputs : undefined;
}

function readOutput(
  value: unknown,
  types: FeatureSpec['type'][],
  fail: Fail,
): FeatureSpec | undefined {
  if (!isRecord(value)) {
    fail('output', 'output must be an object like {"name": "price", "type": "number"}.');
    return undefined;
  }
  let valid = true;
  if (typeof value.name !== 'string' || value.name.trim() === '') {
    fail('output.name', 'output.name must be a non-empty string.');
    valid = false;
  }
  if (!types.includes(value.type as FeatureSpec['type'])) {
    fail(
      'output.type',
      types.length === 1
        ? 'output.type must be "number" (a regression predicts a number).'
        : 'output.type must be "number" or "string", the type of the class labels.',
    );
    valid = false;
  }
  return valid
    ? { name: value.name as string, type: value.type as FeatureSpec['type'] }
    : undefined;
}

/** v1's optional block: undefined when absent, null when invalid. */
function readStandardize(
  preprocessing: unknown,
  featureCount: number | undefined,
  fail: Fail,
): { mean: number[]; scale: number[] } | undefined | null {
  if (preprocessing === undefined) {
    return undefined;
  }
  if (!isRecord(preprocessing)) {
    fail('preprocessing', 'preprocessing must be an object when present.');
    return null;
  }
  const standardize = preprocessing.standardize;
  if (standardize === undefined) {
    return undefined;
  }
  const field = 'preprocessing.standardize';
  if (!isRecord(standardize)) {
    fail(field, `${field} must be an object with "mean" and "scale" arrays.`);
    return null;
  }
  const mean = readNumbers(standardize.mean, `${field}.mean`, featureCount, 'input', fail);
  const scale = readNumbers(standardize.scale, `${field}.scale`, featureCount, 'input', fail);
  let positive = true;
  scale?.forEach((s, j) => {
    positive = checkScale(s, `${field}.scale[${j}]`, fail) && positive;
  });
  return mean && scale && positive ? { mean, scale } : null;
}

function checkScale(scale: number, field: string, fail: Fail): boolean {
  if (scale > 0) {
    return true;
  }
  fail(
    field,
    `${field} is ${scale} but must be greater than 0, because the input is divided by it ` +
      '(use 1 to leave it unscaled).',
  );
  return false;
}

function readPreprocessing(
  value: unknown,
  inputs: FeatureSpec[] | undefined,
  fail: Fail,
): InputPreprocessing[] | undefined {
  if (!Array.isArray(value)) {
    fail(
      'preprocessing',
      'preprocessing must be an array with one entry per input, in input order: ' +
        '{"impute", "mean", "scale"} for a number input, {"impute", "categories"} for a string input.',
    );
    return undefined;
  }
  if (inputs && value.length !== inputs.length) {
    fail(
      'preprocessing',
      `preprocessing has ${value.length} entries but inputs has ${inputs.length}; ` +
        'provide exactly one per input, in the same order.',
    );
    return undefined;
  }
  if (!inputs) {
    return undefined;
  }
  const entries: InputPreprocessing[] = [];
  value.forEach((item: unknown, i) => {
    const entry =
      inputs[i].type === 'number'
        ? readNumberPreprocessing(item, `preprocessing[${i}]`, inputs[i].name, fail)
        : readStringPreprocessing(item, `preprocessing[${i}]`, inputs[i].name, fail);
    if (entry) {
      entries.push(entry);
    }
  });
  return entries.length === inputs.length ? entries : undefined;
}

function readNumberPreprocessing(
  item: unknown,
  field: string,
  input: string,
  fail: Fail,
): NumberPreprocessing | undefined {
  if (!isRecord(item)) {
    fail(
      field,
      `${field} must be an object like {"impute": 0, "mean": 0, "scale": 1}, ` +
        `because input "${input}" is a number.`,
    );
    return undefined;
  }
  const impute = readNumber(item.impute, `${field}.impute`, fail, 'the value used when missing');
  const mean = readNumber(item.mean, `${field}.mean`, fail, 'subtracted; 0 to leave it');
  const scale = readNumber(item.scale, `${field}.scale`, fail, 'the divisor; 1 to leave it');
  const positive = scale !== undefined && checkScale(scale, `${field}.scale`, fail);
  return impute !== undefined && mean !== undefined && scale !== undefined && positive
    ? { impute, mean, scale }
    : undefined;
}

function readStringPreprocessing(
  item: unknown,
  field: string,
  input: string,
  fail: Fail,
): StringPreprocessing | undefined {
  if (!isRecord(item)) {
    fail(
      field,
      `${field} must be an object like {"impute": "red", "categories": ["blue", "red"]}, ` +
        `because input "${input}" is a string.`,
    );
    return undefined;
  }
  const categories = item.categories;
  let valid = true;
  if (!Array.isArray(categories) || categories.length === 0) {
    fail(
      `${field}.categories`,
      `${field}.categories must be a non-empty array of the category strings, ` +
        'one per encoded column.',
    );
    valid = false;
  } else {
    const seen = new Map<string, number>();
    categories.forEach((category: unknown, c) => {
      if (typeof category !== 'string') {
        fail(
          `${field}.categories[${c}]`,
          `${field}.categories[${c}] must be a string, got ${describe(category)}.`,
        );
        valid = false;
      } else if (seen.has(category)) {
        fail(
          `${field}.categories[${c}]`,
          `${field}.categories[${c}] ${describe(category)} repeats ` +
            `${field}.categories[${seen.get(category)}]; categories must be unique.`,
        );
        valid = false;
      } else {
        seen.set(category, c);
      }
    });
  }
  if (typeof item.impute !== 'string') {
    fail(
      `${field}.impute`,
      `${field}.impute must be a string: the category used when "${input}" is missing.`,
    );
    valid = false;
  } else if (valid && !(categories as string[]).includes(item.impute)) {
    fail(
      `${field}.impute`,
      `${field}.impute ${describe(item.impute)} is not one of ${field}.categories; ` +
        'use the category a missing value should count as.',
    );
    valid = false;
  }
  return valid
    ? { impute: item.impute as string, categories: (categories as string[]).slice() }
    : undefined;
}

function readClasses(
  value: unknown,
  type: FeatureSpec['type'] | undefined,
  fail: Fail,
): (string | number)[] | undefined {
  if (!Array.isArray(value) || value.length < 2) {
    fail(
      'classes',
      'classes must be an array of at least 2 class labels, in the order of the probabilities.',
    );
    return undefined;
  }
  let valid = true;
  const seen = new Map<string | number, number>();
  value.forEach((label: unknown, k) => {
    const field = `classes[${k}]`;
    const ok =
      type === 'string' ? typeof label === 'string' : isFiniteNumber(label) || type === undefined;
    if (!ok) {
      fail(
        field,
        `${field} must be a ${type === 'string' ? 'string' : 'finite number'}, ` +
          `like output.type, got ${describe(label)}.`,
      );
      valid = false;
    } else if (seen.has(label as string | number)) {
      fail(
        field,
        `${field} ${describe(label)} repeats classes[${seen.get(label as string | number)}]; ` +
          'class labels must be unique.',
      );
      valid = false;
    } else {
      seen.set(label as string | number, k);
    }
  });
  return valid && type ? (value as (string | number)[]).slice() : undefined;
}

function readWeights(
  value: unknown,
  rows: number | undefined,
  width: number | undefined,
  fail: Fail,
): number[][] | undefined {
  const shape = 'one row for 2 classes (the score of classes[1]), else one row per class';
  if (!Array.isArray(value)) {
    fail('weights', `weights must be an array of number arrays: ${shape}.`);
    return undefined;
  }
  let valid = true;
  if (rows !== undefined && value.length !== rows) {
    fail('weights', `weights has ${value.length} rows but must have ${rows}: ${shape}.`);
    valid = false;
  }
  const weights = value.map((row: unknown, k) =>
    readNumbers(row, `weights[${k}]`, width, 'column', fail),
  );
  return valid && weights.every((row) => row !== undefined) ? (weights as number[][]) : undefined;
}

function readNumber(value: unknown, field: string, fail: Fail, hint?: string): number | undefined {
  if (isFiniteNumber(value)) {
    return value;
  }
  fail(
    field,
    `${field} must be a finite number${hint ? ` (${hint})` : ''}, got ${describe(value)}.`,
  );
  return undefined;
}

const PER: Record<string, string> = {
  input: 'one value per input, in input order',
  column:
    'one value per encoded column: 1 per number input and 1 per category of a string input, ' +
    'in input order',
  'row of weights': 'one value per row of weights',
};

/** An array of finite numbers, optionally of a given length. */
function readNumbers(
  value: unknown,
  field: string,
  expectedLength: number | undefined,
  per: keyof typeof PER,
  fail: Fail,
): number[] | undefined {
  if (!Array.isArray(value)) {
    fail(
      field,
      `${field} ${value === undefined ? 'is required: ' : 'must be '}an array of numbers, ${PER[per]}.`,
    );
    return undefined;
  }
  let valid = true;
  value.forEach((item: unknown, i) => {
    if (!isFiniteNumber(item)) {
      fail(`${field}[${i}]`, `${field}[${i}] must be a finite number, got ${describe(item)}.`);
      valid = false;
    }
  });
  if (expectedLength !== undefined && value.length !== expectedLength) {
    fail(field, `${field} has ${value.length} values but needs ${expectedLength}: ${PER[per]}.`);
    valid = false;
  }
  return valid ? (value as number[]).slice() : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  if (value === undefined) {
    return 'nothing';
  }
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}
