import { InvalidInputError } from '../common/errors';
import { ColumnSummary, DISTINCT_COUNT_CAP } from '../datasets/column-stats';
import { MAX_CATEGORIES } from '../ml';
import { checkTrainingData, resolveJobHyperparameters } from './training-request.checks';

function fieldsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return ((error as InvalidInputError).errors ?? []).map((e) => e.field).sort();
  }
  throw new Error('expected an InvalidInputError');
}

describe('resolveJobHyperparameters', () => {
  it('fills the defaults of linear regression', () => {
    expect(resolveJobHyperparameters('linear-regression')).toEqual({
      optimizer: 'gradient-descent',
      learningRate: 0.01,
      epochs: 1000,
      batchSize: 32,
      l2: 0,
      tolerance: 0,
      patience: 0,
    });
  });

  it('defaults ridge to the closed form with l2 = 1 and logistic regression to lbfgs like scikit-learn', () => {
    expect(resolveJobHyperparameters('ridge-regression')).toMatchObject({
      optimizer: 'normal-equation',
      l2: 1,
    });
    expect(resolveJobHyperparameters('logistic-regression')).toMatchObject({
      optimizer: 'lbfgs',
      l2: 1,
      epochs: 100,
      tolerance: 1e-4,
      classWeight: 'none',
    });
  });

  it('uses fewer epochs by default for mini-batch optimizers, and accepts maxEpochs for epochs', () => {
    expect(resolveJobHyperparameters('linear-regression', { optimizer: 'adam' }).epochs).toBe(100);
    expect(resolveJobHyperparameters('linear-regression', { maxEpochs: 7 }).epochs).toBe(7);
  });

  it('reports every bad or unknown field at once, prefixed for the request body', () => {
    expect(
      fieldsOf(() =>
        resolveJobHyperparameters('linear-regression', {
          learningRate: 0,
          epochs: 1.5,
          batchSize: 0,
          tolerance: -1,
          optimizer: 'lbfgs',
          beta: 1,
        }),
      ),
    ).toEqual([
      'hyperparameters.batchSize',
      'hyperparameters.beta',
      'hyperparameters.epochs',
      'hyperparameters.learningRate',
      'hyperparameters.optimizer',
      'hyperparameters.tolerance',
    ]);
  });

  it('checks class weights and caps epochs', () => {
    expect(
      fieldsOf(() => resolveJobHyperparameters('logistic-regression', { classWeight: { a: -1 } })),
    ).toEqual(['hyperparameters.classWeight']);
    expect(
      resolveJobHyperparameters('logistic-regression', { classWeight: { a: 2 } }),
    ).toMatchObject({
      classWeight: { a: 2 },
    });
    expect(
      fieldsOf(() => resolveJobHyperparameters('linear-regression', { epochs: 1_000_001 })),
    ).toEqual(['hyperparameters.epochs']);
    expect(
      fieldsOf(() => resolveJobHyperparameters('ridge-regression', { maxEpochs: 5, epochs: 5 })),
    ).toEqual(['hyperparameters.epochs']);
  });
});

describe('checkTrainingData', () => {
  const columns: ColumnSummary[] = [
    { name: 'x', type: 'number', missing: 0, distinct: 40 },
    { name: 'city', type: 'string', missing: 2, distinct: 5 },
    { name: 'y', type: 'number', missing: 0, distinct: 30 },
    { name: 'label', type: 'string', missing: 0, distinct: 2 },
  ];
  const dataset = { columns, rowCount: 50 };
  const job = {
    algorithm: 'linear-regression' as const,
    target: 'y',
    features: ['x', 'city'],
    validationSplit: 0.2,
  };
  const refusal = (run: () => unknown): InvalidInputError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      return error as InvalidInputError;
    }
    throw new Error('expected an InvalidInputError');
  };

  it('accepts a job that fits its dataset', () => {
    expect(() => checkTrainingData(dataset, job)).not.toThrow();
    expect(() =>
      checkTrainingData(dataset, { ...job, algorithm: 'logistic-regression', target: 'label' }),
    ).not.toThrow();
  });

  it('names unknown columns first, listing the columns there are', () => {
    const error = refusal(() =>
      checkTrainingData(dataset, { ...job, target: 'price', features: ['x', 'size'] }),
    );
    expect(error.errors).toEqual([
      { field: 'target', message: 'no column price; columns are x, city, y, label' },
      { field: 'features[1]', message: 'no column size; columns are x, city, y, label' },
    ]);
    expect(error.message).toBe(
      'The dataset does not fit this training job: no column price; columns are x, city, y, label.',
    );
  });

  it('turns every problem the ml rules find into a field error, the first in the detail', () => {
    const error = refusal(() =>
      checkTrainingData(
        { ...dataset, rowCount: 3 },
        { ...job, target: 'label', features: ['x', 'label'], validationSplit: 0.5 },
      ),
    );
    expect(error.errors?.map((e) => e.field)).toEqual(['features[1]', 'target', 'validationSplit']);
    expect(error.message).toBe(
      'The dataset does not fit this training job: label is the target; remove it from the ' +
        'features (and 2 more problem(s)).',
    );
  });

  it('reads distinct counts the dataset capped high enough for the one-hot rule', () => {
    expect(DISTINCT_COUNT_CAP).toBeGreaterThanOrEqual(MAX_CATEGORIES);
    const ids = {
      name: 'id',
      type: 'string' as const,
      missing: 0,
      distinct: DISTINCT_COUNT_CAP + 1,
    };
    const error = refusal(() =>
      checkTrainingData(
        { columns: [...columns, ids], rowCount: 2000 },
        { ...job, features: ['id'] },
      ),
    );
    expect(error.errors?.[0]).toMatchObject({ field: 'features[0]' });
    expect(error.errors?.[0].message).toMatch(`more than ${MAX_CATEGORIES} distinct strings`);
  });
});
