import { FieldError, InvalidInputError } from '../common/errors';

const MAX_REPORTED_ERRORS = 20;

/**
 * Turns `instances` (arrays in schema order, or objects keyed by feature name) into one row-major
 * Float64Array in a single pass, reporting each bad value by row and feature.
 */
export function parseInstances(
  instances: readonly unknown[],
  features: readonly string[],
): Float64Array {
  const width = features.length;
  const rows = new Float64Array(instances.length * width);
  const errors: FieldError[] = [];
  const report = (field: string, message: string) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ field, message });
  };
  const featureIndex = new Map(features.map((name, index) => [name, index]));

  for (let row = 0; row < instances.length && errors.length < MAX_REPORTED_ERRORS; row++) {
    const instance = instances[row];
    const offset = row * width;
    if (Array.isArray(instance)) {
      if (instance.length !== width) {
        report(
          `instances[${row}]`,
          `has ${instance.length} values; this version expects ${width}: ${features.join(', ')}`,
        );
        continue;
      }
      for (let j = 0; j < width; j++) {
        const value = instance[j];
        if (typeof value === 'number' && Number.isFinite(value)) rows[offset + j] = value;
        else
          report(
            `instances[${row}][${j}]`,
            `${features[j]} must be a finite number; got ${describe(value)}`,
          );
      }
    } else if (typeof instance === 'object' && instance !== null) {
      const record = instance as Record<string, unknown>;
      let seen = 0;
      for (const key in record) {
        const j = featureIndex.get(key);
        if (j === undefined) {
          report(
            `instances[${row}].${key}`,
            `is not a feature of this version; expected ${features.join(', ')}`,
          );
          continue;
        }
        seen++;
        const value = record[key];
        if (typeof value === 'number' && Number.isFinite(value)) rows[offset + j] = value;
        else report(`instances[${row}].${key}`, `must be a finite number; got ${describe(value)}`);
      }
      if (seen < width) {
        for (const name of features) {
          if (!(name in record)) report(`instances[${row}].${name}`, 'is missing');
        }
      }
    } else {
      report(
        `instances[${row}]`,
        `must be an array of ${width} numbers or an object keyed by feature name`,
      );
    }
  }

  if (errors.length > 0) {
    const more = errors.length >= MAX_REPORTED_ERRORS ? ' (first 20 shown)' : '';
    throw new InvalidInputError(
      `${errors.length} invalid value(s) in instances${more}; expected features in this order: ${features.join(', ')}.`,
      errors,
    );
  }
  return rows;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === 'number') return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}
