import { FieldError, InvalidInputError } from '../common/errors';
import { ColumnSummary, DISTINCT_COUNT_CAP } from '../datasets/column-stats';
import { Algorithm } from '../ml/hyperparameters';

/** One-hot encoding a column with more distinct values than this would blow up the model. */
export const MAX_CATEGORIES = DISTINCT_COUNT_CAP;
/** More distinct labels than this is a regression target, not classes. */
export const MAX_CLASSES = 100;

/**
 * Checks a job's columns against its dataset's column summaries before it is queued, so a mismatch is a 400 that says
 * which column breaks which rule and what to do, not a failed job later. Missing feature values
 * are fine: the model imputes them (mean, or most frequent for strings).
 */
export function checkTrainingColumns(
  columns: ColumnSummary[],
  algorithm: Algorithm,
  target: string,
  features: string[],
): void {
  const byName = new Map(columns.map((column) => [column.name, column]));
  const available = columns.map((c) => c.name).join(', ');
  const errors: FieldError[] = [];
  if (features.length === 0) {
    errors.push({ field: 'features', message: 'needs at least one feature column' });
  }
  features.forEach((name, i) => {
    const field = `features[${i}]`;
    const column = byName.get(name);
    if (name === target) errors.push({ field, message: `${name} is the target; remove it` });
    else if (!column)
      errors.push({ field, message: `no column ${name}; columns are ${available}` });
    else if (column.type === 'string' && column.distinct > MAX_CATEGORIES) {
      errors.push({
        field,
        message: `column ${name} has more than ${MAX_CATEGORIES} distinct strings, too many to one-hot encode; drop it or group its values`,
      });
    }
  });

  const column = byName.get(target);
  if (!column) {
    errors.push({ field: 'target', message: `no column ${target}; columns are ${available}` });
  } else {
    const missing = column.missing;
    if (missing > 0) {
      errors.push({
        field: 'target',
        message: `column ${target} has ${missing} missing value(s); drop those rows, a target cannot be imputed`,
      });
    }
    if (algorithm === 'logistic-regression') {
      if (column.distinct > MAX_CLASSES) {
        errors.push({
          field: 'target',
          message: `column ${target} has more than ${MAX_CLASSES} distinct values: it looks like a quantity, use linear-regression or ridge-regression`,
        });
      }
    } else if (column.type !== 'number') {
      errors.push({
        field: 'target',
        message: `column ${target} holds strings (class labels); ${algorithm} predicts numbers, use logistic-regression`,
      });
    }
  }
  if (errors.length > 0) {
    throw new InvalidInputError(
      `The dataset does not fit this training job: ${errors[0].message}.`,
      errors,
    );
  }
}
