import { InvalidInputError } from '../common/errors';
import { resolveHyperparameters } from './hyperparameters';

describe('resolveHyperparameters', () => {
  it('fills in the defaults', () => {
    expect(resolveHyperparameters()).toEqual({
      optimizer: 'gradient-descent',
      learningRate: 0.01,
      epochs: 1000,
      tolerance: 0,
    });
  });

  it('keeps valid values', () => {
    expect(resolveHyperparameters({ optimizer: 'normal-equation', epochs: 5 })).toMatchObject({
      optimizer: 'normal-equation',
      epochs: 5,
    });
  });

  it('reports every bad or unknown field at once', () => {
    try {
      resolveHyperparameters({
        learningRate: 0,
        epochs: 1.5,
        tolerance: -1,
        optimizer: 'sgd',
        beta: 1,
      });
      throw new Error('expected an error');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).errors?.map((e) => e.field).sort()).toEqual([
        'hyperparameters.beta',
        'hyperparameters.epochs',
        'hyperparameters.learningRate',
        'hyperparameters.optimizer',
        'hyperparameters.tolerance',
      ]);
    }
  });

  it('caps epochs', () => {
    expect(() => resolveHyperparameters({ epochs: 1_000_001 })).toThrow(/hyperparameters.epochs/);
  });
});
