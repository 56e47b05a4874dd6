export const ARTIFACT_FORMAT = 'modeldock/v1';

export interface FeatureSpec {
  name: string;
  type: 'number';
}

export interface LinearModelArtifact {
  format: typeof ARTIFACT_FORMAT;
  algorithm: 'linear-regression';
  /** Feature order is coefficient order. */
  inputs: FeatureSpec[];
  output: { name: string; type: 'number' };
  /** Optional, so coefficients exported from scikit-learn or any other tool import as-is. */
  preprocessing?: { standardize?: { mean: number[]; scale: number[] } };
  /** In the standardised space when preprocessing.standardize is present. */
  coefficients: number[];
  intercept: number;
}

export type ModelArtifact = LinearModelArtifact;

export interface ArtifactError {
  /** JSON path of the offending value: 'coefficients[2]', 'inputs[0].name'; '$' is the document. */
  field: string;
  message: string;
}

export type ArtifactValidation =
  | { artifact: ModelArtifact; errors?: undefined }
  | { artifact?: undefined; errors: ArtifactError[] };

/**
 * The model as one raw-space dot product: standardisation folded into the weights
 * (w_j = coef_j / scale_j, b = intercept - sum_j w_j * mean_j).
 */
export function rawCoefficients(artifact: ModelArtifact): {
  coefficients: number[];
  intercept: number;
} {
  const standardize = artifact.preprocessing?.standardize;
  if (!standardize) {
    return { coefficients: [...artifact.coefficients], intercept: artifact.intercept };
  }
  const coefficients = artifact.coefficients.map((c, j) => c / standardize.scale[j]);
  let intercept = artifact.intercept;
  for (let j = 0; j < coefficients.length; j++) {
    intercept -= coefficients[j] * standardize.mean[j];
  }
  return { coefficients, intercept };
}

/**
 * Checks an untrusted JSON document (an upload or a stored artifact) and returns a clean copy
 * holding only the known fields, or every problem found so the user can fix them in one go.
 */
export function validateArtifact(doc: unknown): ArtifactValidation {
  const errors: ArtifactError[] = [];
  const fail = (field: string, message: string): void => {
    errors.push({ field, message });
  };

  if (!isRecord(doc)) {
    fail('$', 'The model artifact must be a JSON object.');
    return { errors };
  }

  if (doc.format !== ARTIFACT_FORMAT) {
    fail(
      'format',
      doc.format === undefined
        ? `format is required and must be "${ARTIFACT_FORMAT}".`
        : `Unsupported format ${describe(doc.format)}; expected "${ARTIFACT_FORMAT}".`,
    );
  }
  if (doc.algorithm !== 'linear-regression') {
    fail(
      'algorithm',
      doc.algorithm === undefined
        ? 'algorithm is required; the supported algorithm is "linear-regression".'
        : `Unsupported algorithm ${describe(doc.algorithm)}; ` +
            'the supported algorithm is "linear-regression".',
    );
  }

  const inputs = readInputs(doc.inputs, fail);
  const output = readOutput(doc.output, fail);
  const featureCount = inputs?.length;
  const coefficients = readNumbers(doc.coefficients, 'coefficients', featureCount, fail);
  if (!isFiniteNumber(doc.intercept)) {
    fail('intercept', 'intercept must be a finite number.');
  }
  const standardize = readStandardize(doc.preprocessing, featureCount, fail);

  if (errors.length > 0 || !inputs || !output || !coefficients || !isFiniteNumber(doc.intercept)) {
    return { errors };
  }

  const artifact: ModelArtifact = {
    format: ARTIFACT_FORMAT,
    algorithm: 'linear-regression',
    inputs,
    output,
    ...(standardize ? { preprocessing: { standardize } } : {}),
    coefficients,
    intercept: doc.intercept,
  };
  // Values can be finite while the folded serving weights overflow (tiny scale, big coefficient).
  const raw = rawCoefficients(artifact);
  raw.coefficients.forEach((w, j) => {
    if (!Number.isFinite(w)) {
      fail(
        `coefficients[${j}]`,
        `coefficients[${j}] divided by preprocessing.standardize.scale[${j}] ` +
          'is not a finite number; rescale the feature or the coefficient.',
      );
    }
  });
  if (errors.length === 0 && !Number.isFinite(raw.intercept)) {
    fail(
      'intercept',
      'The intercept after folding in preprocessing.standardize is not a finite number; ' +
        'check the mean and scale values.',
    );
  }
  return errors.length > 0 ? { errors } : { artifact };
}

type Fail = (field: string, message: string) => void;

function readInputs(value: unknown, fail: Fail): FeatureSpec[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    fail(
      'inputs',
      'inputs must be a non-empty array of {"name": ..., "type": "number"} objects, ' +
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
    if (typeof name !== 'string' || name.trim() === '') {
      fail(`${field}.name`, `${field}.name must be a non-empty string.`);
    } else if (firstIndexByName.has(name)) {
      fail(
        `${field}.name`,
        `${field}.name "${name}" duplicates inputs[${firstIndexByName.get(name)}].name; ` +
          'feature names must be unique.',
      );
    } else {
      firstIndexByName.set(name, i);
    }
    if (type !== 'number') {
      fail(
        `${field}.type`,
        `${field}.type must be "number" (only numeric features are supported).`,
      );
    }
    if (typeof name === 'string') {
      inputs.push({ name, type: 'number' });
    }
  });
  return inputs.length === value.length ? inputs : undefined;
}

function readOutput(value: unknown, fail: Fail): { name: string; type: 'number' } | undefined {
  if (!isRecord(value)) {
    fail('output', 'output must be an object like {"name": "price", "type": "number"}.');
    return undefined;
  }
  let valid = true;
  if (typeof value.name !== 'string' || value.name.trim() === '') {
    fail('output.name', 'output.name must be a non-empty string.');
    valid = false;
  }
  if (value.type !== 'number') {
    fail('output.type', 'output.type must be "number" (only numeric targets are supported).');
    valid = false;
  }
  return valid ? { name: value.name as string, type: 'number' } : undefined;
}

function readStandardize(
  preprocessing: unknown,
  featureCount: number | undefined,
  fail: Fail,
): { mean: number[]; scale: number[] } | undefined {
  if (preprocessing === undefined) {
    return undefined;
  }
  if (!isRecord(preprocessing)) {
    fail('preprocessing', 'preprocessing must be an object when present.');
    return undefined;
  }
  const standardize = preprocessing.standardize;
  if (standardize === undefined) {
    return undefined;
  }
  const field = 'preprocessing.standardize';
  if (!isRecord(standardize)) {
    fail(field, `${field} must be an object with "mean" and "scale" arrays.`);
    return undefined;
  }
  const mean = readNumbers(standardize.mean, `${field}.mean`, featureCount, fail);
  const scale = readNumbers(standardize.scale, `${field}.scale`, featureCount, fail);
  if (!scale) {
    return undefined;
  }
  let positive = true;
  scale.forEach((s, j) => {
    if (s <= 0) {
      fail(
        `${field}.scale[${j}]`,
        `${field}.scale[${j}] is ${s} but must be greater than 0, ` +
          'because each feature is divided by it.',
      );
      positive = false;
    }
  });
  return mean && positive ? { mean, scale } : undefined;
}

/** An array of finite numbers, optionally of a given length (one per input). */
function readNumbers(
  value: unknown,
  field: string,
  expectedLength: number | undefined,
  fail: Fail,
): number[] | undefined {
  if (!Array.isArray(value)) {
    fail(
      field,
      value === undefined
        ? `${field} is required: an array of numbers, one per input, in input order.`
        : `${field} must be an array of numbers, one per input, in input order.`,
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
    fail(
      field,
      `${field} has ${value.length} values but inputs has ${expectedLength} features; ` +
        'provide exactly one value per input, in the same order.',
    );
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
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
}
