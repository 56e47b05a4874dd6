import { allocFloat64, type PredictionBatch } from '../ml';
import { BatchBuilder, FeatureLayout } from './batch-builder';

/**
 * Turns `instances` (arrays in schema order, or objects keyed by feature name) into the predictor's
 * row-major batch in a single pass, reporting each bad value by row and feature.
 * `null` is a missing value: imputed by models that learned how, an error for those that did not.
 * A feature absent from an object is an error either way: a key left out is almost always a client
 * bug (MLflow's schema enforcement and scikit-learn pipelines refuse it too), and `null` says
 * "missing" on purpose.
 */
export function parseInstances(
  instances: readonly unknown[],
  layout: FeatureLayout,
): PredictionBatch {
  const { names, indexOf } = layout;
  const width = names.length;
  const rowCount = instances.length;
  if (!layout.hasStrings) {
    const numbers = packNumberRows(instances, width);
    if (numbers) return { rowCount, numbers, strings: null };
  }
  const batch = new BatchBuilder(rowCount, layout);

  for (let row = 0; row < rowCount && !batch.full; row++) {
    const instance = instances[row];
    if (Array.isArray(instance)) {
      if (instance.length !== width) {
        batch.report(
          `instances[${row}]`,
          `has ${instance.length} values; this version expects ${width}: ${names.join(', ')}`,
        );
        continue;
      }
      for (let j = 0; j < width; j++) {
        const problem = batch.set(row, j, instance[j]);
        if (problem) batch.report(`instances[${row}][${j}]`, `${names[j]} ${problem}`);
      }
    } else if (typeof instance === 'object' && instance !== null) {
      const record = instance as Record<string, unknown>;
      const seen = new Uint8Array(width);
      for (const key in record) {
        const j = indexOf.get(key);
        if (j === undefined) {
          batch.report(
            `instances[${row}].${key}`,
            `is not a feature of this version; expected ${names.join(', ')}`,
          );
          continue;
        }
        seen[j] = 1;
        const problem = batch.set(row, j, record[key]);
        if (problem) batch.report(`instances[${row}].${key}`, problem);
      }
      for (let j = 0; j < width; j++) {
        if (!seen[j]) batch.report(`instances[${row}].${names[j]}`, absentFeature(layout));
      }
    } else {
      batch.report(
        `instances[${row}]`,
        `must be an array of ${width} values or an object keyed by feature name`,
      );
    }
  }
  return batch.build('instances');
}

/**
 * The common case in one tight loop: every instance an array of `width` finite numbers. Null at
 * the first anything else (an object, a null, a string…), which the general pass then handles.
 */
function packNumberRows(instances: readonly unknown[], width: number): Float64Array | null {
  const numbers = allocFloat64(instances.length * width);
  for (let row = 0, offset = 0; row < instances.length; row++, offset += width) {
    const instance = instances[row];
    if (!Array.isArray(instance) || instance.length !== width) return null;
    for (let j = 0; j < width; j++) {
      const value: unknown = instance[j];
      if (typeof value !== 'number' || !Number.isFinite(value)) return null;
      numbers[offset + j] = value;
    }
  }
  return numbers;
}

function absentFeature(layout: FeatureLayout): string {
  return layout.acceptsMissing
    ? 'is absent; send every feature (null marks a missing value, which this version imputes)'
    : 'is absent; send a value for every feature (this version has no imputation)';
}
