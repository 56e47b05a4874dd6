import { FieldError, InvalidInputError } from '../common/errors';
import { LINEAR_REGRESSION_DEFAULTS, LinearRegressionHyperparameters } from '../ml';

const OPTIMIZERS = ['gradient-descent', 'normal-equation'] as const;
export const MAX_EPOCHS = 1_000_000;

type Rule = (value: unknown) => string | null;

const positiveFinite: Rule = (v) =>
  typeof v === 'number' && Number.isFinite(v) && v > 0
    ? null
    : 'must be a number greater than 0 (try 0.01-0.1)';

const RULES: Record<keyof LinearRegressionHyperparameters, Rule> = {
  optimizer: (v) =>
    OPTIMIZERS.includes(v as (typeof OPTIMIZERS)[number])
      ? null
      : `must be one of ${OPTIMIZERS.join(', ')}`,
  learningRate: positiveFinite,
  epochs: (v) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_EPOCHS
      ? null
      : `must be an integer from 1 to ${MAX_EPOCHS}`,
  tolerance: (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0
      ? null
      : 'must be a number >= 0 (0 disables early stopping)',
};

/** Fills defaults and checks ranges; every problem is reported with its field. */
export function resolveHyperparameters(
  raw: Record<string, unknown> = {},
): LinearRegressionHyperparameters {
  const errors: FieldError[] = [];
  for (const key of Object.keys(raw)) {
    if (!(key in RULES)) {
      errors.push({
        field: `hyperparameters.${key}`,
        message: `is not a hyperparameter of linear-regression; known: ${Object.keys(RULES).join(', ')}`,
      });
    }
  }
  const resolved = { ...LINEAR_REGRESSION_DEFAULTS, ...raw } as LinearRegressionHyperparameters;
  for (const [key, rule] of Object.entries(RULES)) {
    const message = rule(resolved[key as keyof LinearRegressionHyperparameters]);
    if (message) errors.push({ field: `hyperparameters.${key}`, message });
  }
  if (errors.length > 0) {
    throw new InvalidInputError(
      `Invalid hyperparameters: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
      errors,
    );
  }
  return resolved;
}
