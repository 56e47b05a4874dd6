import { InvalidInputError } from '../common/errors';
import { Algorithm, Hyperparameters, resolveHyperparameters } from '../ml/hyperparameters';

/** Defaults filled and ranges checked by the maths library; every problem becomes a 400 field error. */
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
