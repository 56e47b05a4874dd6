/**
 * A training job request checked before it is queued, by the rules of the maths library (ml/):
 * each problem becomes a 400 field error that says what is wrong and what to do, not a failed job
 * later.
 */
import { FieldError, InvalidInputError } from '../common/errors';
import type { ColumnSummary } from '../datasets/column-stats';
import {
  Algorithm,
  Hyperparameters,
  checkTrainingInput,
  describeTrainingInputProblems,
  resolveHyperparameters,
} from '../ml';

/** Defaults filled and ranges checked by ml/hyperparameters.ts; every problem a 400 field error. */
export function resolveJobHyperparameters(
  algorithm: Algorithm,
  raw: Record<string, unknown> = {},
): Hyperparameters {
  const { hyperparameters, errors } = resolveHyperparameters(algorithm, raw);
  if (errors.length > 0) {
    const fieldErrors = errors.map(({ field, message }) => ({
      field: `hyperparameters.${field}`,
      message,
    }));
    throw new InvalidInputError(
      `Invalid hyperparameters for ${algorithm}: ${fieldErrors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
      fieldErrors,
    );
  }
  return hyperparameters;
}

/**
 * The job's columns against its dataset's stored summaries (ml/training-rules.ts decides). Column
 * names are resolved first: until every name is a column there is nothing to judge.
 */
export function checkTrainingData(
  dataset: { columns: ColumnSummary[]; rowCount: number },
  job: { algorithm: Algorithm; target: string; features: string[]; validationSplit: number },
): void {
  const byName = new Map(dataset.columns.map((column) => [column.name, column]));
  const unknown = (name: string) =>
    `no column ${name}; columns are ${dataset.columns.map((c) => c.name).join(', ')}`;
  const nameErrors: FieldError[] = [];
  const target = byName.get(job.target);
  if (!target) nameErrors.push({ field: 'target', message: unknown(job.target) });
  const features = job.features.map((name, i) => {
    const column = byName.get(name);
    if (!column) nameErrors.push({ field: `features[${i}]`, message: unknown(name) });
    return column;
  });
  if (nameErrors.length > 0 || !target) {
    throw new InvalidInputError(
      `The dataset does not fit this training job: ${nameErrors[0].message}.`,
      nameErrors,
    );
  }
  const problems = checkTrainingInput({
    algorithm: job.algorithm,
    target,
    features: features as ColumnSummary[],
    rowCount: dataset.rowCount,
    validationSplit: job.validationSplit,
  });
  if (problems.length > 0) {
    throw new InvalidInputError(describeTrainingInputProblems(problems), problems);
  }
}
