import { InvalidInputError } from '../common/errors';
import { resolveJobHyperparameters } from './hyperparameters';

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
