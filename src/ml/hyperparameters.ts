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

/** One hyperparameter as a form or a validator sees it: its type, range and who uses it. */
export interface HyperparameterSpec {
  name: string;
  type: 'number' | 'integer' | 'enum' | 'class-weight';
  description: string;
  minimum?: number;
  /** The minimum itself is not allowed. */
  exclusiveMinimum?: boolean;
  maximum?: number;
  /** The choices of an `enum`. */
  values?: readonly string[];
  /** A hint for the error message when a number is out of range. */
  hint?: string;
  /** The optimizers that use it; the others ignore it. */
  optimizers: readonly string[];
}

const STEPPED = ['gradient-descent', 'sgd', 'adam'] as const;
const ITERATIVE = ['gradient-descent', 'sgd', 'adam', 'lbfgs'] as const;
const EVERY = [...new Set([...REGRESSION_OPTIMIZERS, ...CLASSIFICATION_OPTIMIZERS])];

const ITERATIVE_SPECS: HyperparameterSpec[] = [
  {
    name: 'learningRate',
    type: 'number',
    description: 'Step size of gradient-descent, sgd and adam (lbfgs searches its own step).',
    minimum: 0,
    exclusiveMinimum: true,
    maximum: 100,
    hint: 'try 0.001-0.1',
    optimizers: STEPPED,
  },
  {
    name: 'epochs',
    type: 'integer',
    description: 'The most epochs (full passes over the training rows; lbfgs: iterations) to run.',
    minimum: 1,
    maximum: MAX_EPOCHS,
    optimizers: ITERATIVE,
  },
  {
    name: 'batchSize',
    type: 'integer',
    description: 'Rows per mini-batch.',
    minimum: 1,
    maximum: MAX_BATCH_SIZE,
    optimizers: ['sgd', 'adam'],
  },
  {
    name: 'l2',
    type: 'number',
    description:
      "L2 penalty on the summed loss (Ridge's alpha, LogisticRegression's 1 / C); the intercept is not penalised.",
    minimum: 0,
    maximum: 1e12,
    hint: '0 disables the penalty',
    optimizers: EVERY,
  },
  {
    name: 'tolerance',
    type: 'number',
    description:
      'Early stopping: an epoch is progress when the loss falls below best × (1 − tolerance); lbfgs also stops when its gradient is within it.',
    minimum: 0,
    maximum: 1,
    hint: 'a fraction; 0 disables it',
    optimizers: ITERATIVE,
  },
  {
    name: 'patience',
    type: 'integer',
    description:
      'Early stopping: epochs without progress before training stops and keeps the best weights; 0 never stops early.',
    minimum: 0,
    maximum: MAX_EPOCHS,
    optimizers: ITERATIVE,
  },
];

const CLASS_WEIGHT_SPEC: HyperparameterSpec = {
  name: 'classWeight',
  type: 'class-weight',
  description:
    '`none`, `balanced` (n_samples / (n_classes × count), as scikit-learn) or a positive weight per class label.',
  values: ['none', 'balanced'],
  optimizers: CLASSIFICATION_OPTIMIZERS,
};

/** The hyperparameters of an algorithm, the optimizer first. */
export function hyperparameterSpecs(algorithm: Algorithm): HyperparameterSpec[] {
  const optimizers =
    algorithm === 'logistic-regression' ? CLASSIFICATION_OPTIMIZERS : REGRESSION_OPTIMIZERS;
  return [
    {
      name: 'optimizer',
      type: 'enum',
      description: 'How the weights are fitted.',
      values: optimizers,
      optimizers,
    },
    ...ITERATIVE_SPECS,
    ...(algorithm === 'logistic-regression' ? [CLASS_WEIGHT_SPEC] : []),
  ];
}

/** Null when `value` fits the spec, else what is wrong. */
function checkValue(spec: HyperparameterSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'number': {
      const min = spec.minimum!;
      const max = spec.maximum ?? Infinity;
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        (spec.exclusiveMinimum ? value > min : value >= min) &&
        value <= max;
      return ok
        ? null
        : `must be a number ${spec.exclusiveMinimum ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''} (${spec.hint})`;
    }
    case 'integer':
      return Number.isInteger(value) &&
        (value as number) >= spec.minimum! &&
        (value as number) <= spec.maximum!
        ? null
        : `must be an integer from ${spec.minimum} to ${spec.maximum}`;
    case 'enum':
      return spec.values!.includes(value as string)
        ? null
        : `must be one of ${spec.values!.join(', ')}`;
    case 'class-weight':
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
  }
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
  const specs = hyperparameterSpecs(algorithm);
  const known = specs.map((spec) => spec.name);
  const errors: FieldProblem[] = [];
  const given: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = SYNONYMS[key] ?? key;
    if (!known.includes(name)) {
      errors.push({
        field: key,
        message: `is not a hyperparameter of ${algorithm}; known: ${known.join(', ')}`,
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
  for (const spec of specs) {
    const message = checkValue(
      spec,
      (hyperparameters as unknown as Record<string, unknown>)[spec.name],
    );
    if (message) errors.push({ field: spec.name, message });
  }
  return { hyperparameters, errors };
}
