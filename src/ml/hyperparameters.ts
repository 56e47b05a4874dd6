/**
 * Algorithms, their hyperparameters, defaults and valid ranges: the one place the service, the
 * docs and the fitting code agree on. Framework-free; `resolveHyperparameters` reports every problem.
 */
import type { FieldProblem } from './field-problem';

export const ALGORITHMS = ['linear-regression', 'ridge-regression', 'logistic-regression'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const REGRESSION_OPTIMIZERS = [
  'gradient-descent',
  'sgd',
  'adam',
  'normal-equation',
] as const;
export type RegressionOptimizer = (typeof REGRESSION_OPTIMIZERS)[number];

export const CLASSIFICATION_OPTIMIZERS = ['lbfgs', 'gradient-descent', 'adam'] as const;
export type ClassificationOptimizer = (typeof CLASSIFICATION_OPTIMIZERS)[number];

export const MAX_EPOCHS = 1_000_000;
export const MAX_BATCH_SIZE = 1_000_000;

/** Shared by every iterative optimizer. */
export interface IterativeOptions {
  /** Step size of gradient-descent, sgd and adam (lbfgs searches its own step). */
  learningRate: number;
  /** The most epochs (full passes over the training rows; lbfgs: iterations) to run. */
  epochs: number;
  /** Rows per mini-batch for sgd and adam. */
  batchSize: number;
  /**
   * L2 penalty on the summed loss, as scikit-learn puts it: Ridge's `alpha`, LogisticRegression's
   * `1 / C`. The intercept is never penalised.
   */
  l2: number;
  /**
   * Early stopping. With patience > 0 an epoch counts as progress only when the monitored loss
   * (validation loss when there is a validation split, else training loss) falls below
   * best × (1 − tolerance); after `patience` epochs without progress training stops and keeps the
   * best weights seen. lbfgs also stops when its projected gradient falls below `tolerance`.
   */
  tolerance: number;
  patience: number;
}

export interface RegressionHyperparameters extends IterativeOptions {
  optimizer: RegressionOptimizer;
}

export interface ClassificationHyperparameters extends IterativeOptions {
  optimizer: ClassificationOptimizer;
  /**
   * `none`, `balanced` (n_samples / (n_classes × count), as scikit-learn) or a weight per class
   * label (labels as strings; missing classes weigh 1).
   */
  classWeight: 'none' | 'balanced' | Record<string, number>;
}

export type Hyperparameters = RegressionHyperparameters | ClassificationHyperparameters;

const ITERATIVE_DEFAULTS: IterativeOptions = {
  learningRate: 0.01,
  epochs: 1000,
  batchSize: 32,
  l2: 0,
  tolerance: 0,
  patience: 0,
};

/** Defaults per algorithm; sgd and adam default to fewer, larger-stepped epochs than full-batch descent. */
export function defaultHyperparameters(algorithm: Algorithm, optimizer?: string): Hyperparameters {
  switch (algorithm) {
    case 'linear-regression':
      return {
        ...ITERATIVE_DEFAULTS,
        optimizer: 'gradient-descent',
        ...(optimizer === 'sgd' || optimizer === 'adam' ? { epochs: 100 } : {}),
      };
    case 'ridge-regression':
      return {
        ...ITERATIVE_DEFAULTS,
        optimizer: 'normal-equation',
        l2: 1,
        ...(optimizer === 'sgd' || optimizer === 'adam' ? { epochs: 100 } : {}),
      };
    case 'logistic-regression':
      return {
        ...ITERATIVE_DEFAULTS,
        optimizer: 'lbfgs',
        // scikit-learn's LogisticRegression: C = 1, max_iter = 100, tol = 1e-4.
        l2: 1,
        epochs: optimizer === 'gradient-descent' ? 1000 : 100,
        learningRate: optimizer === 'adam' ? 0.01 : 0.1,
        tolerance: 1e-4,
        classWeight: 'none',
      };
  }
}

type Rule = (value: unknown) => string | null;

const number =
  (min: number, minInclusive: boolean, max: number, hint: string): Rule =>
  (value) =>
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minInclusive ? value >= min : value > min) &&
    value <= max
      ? null
      : `must be a number ${minInclusive ? '>=' : '>'} ${min}${max < Infinity ? ` and <= ${max}` : ''} (${hint})`;

const integer =
  (min: number, max: number): Rule =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? null
      : `must be an integer from ${min} to ${max}`;

const oneOf =
  (values: readonly string[]): Rule =>
  (value) =>
    values.includes(value as string) ? null : `must be one of ${values.join(', ')}`;

const ITERATIVE_RULES: Record<keyof IterativeOptions, Rule> = {
  learningRate: number(0, false, 100, 'try 0.001-0.1'),
  epochs: integer(1, MAX_EPOCHS),
  batchSize: integer(1, MAX_BATCH_SIZE),
  l2: number(0, true, 1e12, '0 disables the penalty'),
  tolerance: number(0, true, 1, 'a fraction; 0 disables it'),
  patience: integer(0, MAX_EPOCHS),
};

const classWeightRule: Rule = (value) => {
  if (value === 'none' || value === 'balanced') return null;
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((w) => typeof w === 'number' && Number.isFinite(w) && w > 0)
  ) {
    return null;
  }
  return 'must be "none", "balanced" or an object of positive weights by class label';
};

function rulesFor(algorithm: Algorithm): Record<string, Rule> {
  return algorithm === 'logistic-regression'
    ? {
        optimizer: oneOf(CLASSIFICATION_OPTIMIZERS),
        ...ITERATIVE_RULES,
        classWeight: classWeightRule,
      }
    : { optimizer: oneOf(REGRESSION_OPTIMIZERS), ...ITERATIVE_RULES };
}

/** Accepted as another name for `epochs`. */
const SYNONYMS: Record<string, string> = { maxEpochs: 'epochs' };

/**
 * Fills the defaults of `algorithm` (for the optimizer asked for) and checks every value, reporting
 * all problems at once, unknown names included.
 */
export function resolveHyperparameters(
  algorithm: Algorithm,
  raw: Record<string, unknown> = {},
): { hyperparameters: Hyperparameters; errors: FieldProblem[] } {
  const rules = rulesFor(algorithm);
  const errors: FieldProblem[] = [];
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = SYNONYMS[key] ?? key;
    if (!(name in rules)) {
      errors.push({
        field: key,
        message: `is not a hyperparameter of ${algorithm}; known: ${Object.keys(rules).join(', ')}`,
      });
    } else if (name in given) {
      errors.push({
        field: key,
        message: `gives ${name} a second time; use one of ${key} and ${name}`,
      });
    } else {
      given[name] = value;
    }
  }
  const optimizer = typeof given.optimizer === 'string' ? given.optimizer : undefined;
  const hyperparameters = {
    ...defaultHyperparameters(algorithm, optimizer),
    ...given,
  } as Hyperparameters;
  for (const [name, rule] of Object.entries(rules)) {
    const message = rule((hyperparameters as unknown as Record<string, unknown>)[name]);
    if (message) errors.push({ field: name, message });
  }
  return { hyperparameters, errors };
}
