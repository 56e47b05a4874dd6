import { FieldError, InvalidInputError } from '../common/errors';
import type { FeatureSpec, PredictionBatch } from '../ml';

const MAX_REPORTED_ERRORS = 20;

/**
 * Turns `instances` (arrays in schema order, or objects keyed by feature name) into the predictor's
 * row-major batch in a single pass, reporting each bad value by row and feature.
 * `null` (or, in an object, a missing key) is a missing value: imputed by models that learned how,
 * an error for those that did not.
 */
export function parseInstances(
  instances: readonly unknown[],
  inputs: readonly FeatureSpec[],
  acceptsMissing: boolean,
): PredictionBatch {
  const width = inputs.length;
  const rowCount = instances.length;
  const numbers = new Float64Array(rowCount * width);
  const strings = inputs.some((input) => input.type === 'string')
    ? new Array<string | null>(rowCount * width).fill(null)
    : null;
  const errors: FieldError[] = [];
  const report = (field: string, message: string) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ field, message });
  };
  const names = inputs.map((input) => input.name);
  const indexOf = new Map(names.map((name, index) => [name, index]));

  /** Stores one cell; returns an error message, or null when the value is fine. */
  const store = (offset: number, j: number, value: unknown): string | null => {
    const input = inputs[j];
    if (value === null || value === undefined) {
      if (!acceptsMissing) return 'is missing; this version has no imputation, send a value';
      numbers[offset + j] = NaN;
      return null;
    }
    if (input.type === 'number') {
      if (typeof value === 'number' && Number.isFinite(value)) {
        numbers[offset + j] = value;
        return null;
      }
      return `must be a finite number; got ${describe(value)}`;
    }
    // String features take strings; a number is taken as its decimal text (a zip code, a year).
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      strings![offset + j] = String(value);
      numbers[offset + j] = NaN;
      return null;
    }
    return `must be a string; got ${describe(value)}`;
  };

  for (let row = 0; row < rowCount && errors.length < MAX_REPORTED_ERRORS; row++) {
    const instance = instances[row];
    const offset = row * width;
    if (Array.isArray(instance)) {
      if (instance.length !== width) {
        report(
          `instances[${row}]`,
          `has ${instance.length} values; this version expects ${width}: ${names.join(', ')}`,
        );
        continue;
      }
      for (let j = 0; j < width; j++) {
        const problem = store(offset, j, instance[j]);
        if (problem) report(`instances[${row}][${j}]`, `${names[j]} ${problem}`);
      }
    } else if (typeof instance === 'object' && instance !== null) {
      const record = instance as Record<string, unknown>;
      const seen = new Uint8Array(width);
      for (const key in record) {
        const j = indexOf.get(key);
        if (j === undefined) {
          report(
            `instances[${row}].${key}`,
            `is not a feature of this version; expected ${names.join(', ')}`,
          );
          continue;
        }
        seen[j] = 1;
        const problem = store(offset, j, record[key]);
        if (problem) report(`instances[${row}].${key}`, problem);
      }
      for (let j = 0; j < width; j++) {
        if (seen[j]) continue;
        const problem = store(offset, j, null);
        if (problem) report(`instances[${row}].${names[j]}`, problem);
      }
    } else {
      report(
        `instances[${row}]`,
        `must be an array of ${width} values or an object keyed by feature name`,
      );
    }
  }

  if (errors.length > 0) {
    const more = errors.length >= MAX_REPORTED_ERRORS ? ' (first 20 shown)' : '';
    throw new InvalidInputError(
      `${errors.length} invalid value(s) in instances${more}; expected features in this order: ${names.join(', ')}.`,
      errors,
    );
  }
  return { rowCount, numbers, strings };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
