import type { TrainingProgress } from './model-fitting';
import {
  Adam,
  EpochLoop,
  RowGradient,
  Sgd,
  allFinite,
  identityOrder,
  miniBatchEpoch,
  runEpochs,
} from './optimizers';

/** A loop whose epoch k reports losses[k − 1] and writes k into θ[0]. */
function scripted(losses: number[], overrides: Partial<EpochLoop> = {}): EpochLoop {
  const theta = new Float64Array(1);
  return {
    theta,
    options: { epochs: losses.length, patience: 0, tolerance: 0 },
    hooks: { seed: 0 },
    step: (epoch) => {
      theta[0] = epoch;
      return losses[epoch - 1];
    },
    validationLoss: null,
    ...overrides,
  };
}

describe('runEpochs', () => {
  it('records at most 1000 evenly spaced losses, the last always, and reports every epoch', () => {
    const losses = Array.from({ length: 2500 }, (_, i) => 1 / (i + 1));
    const progress: TrainingProgress[] = [];
    const loop = scripted(losses, {
      hooks: { seed: 0, onProgress: (p) => progress.push(p) },
      validationLoss: () => 7,
    });
    const fit = runEpochs(loop);
    expect(fit.lossHistory).toEqual([...losses.filter((_, i) => (i + 1) % 3 === 0), losses[2499]]);
    expect(fit.validationLossHistory).toEqual(new Array(fit.lossHistory.length).fill(7));
    expect(progress).toHaveLength(2500);
    expect(progress[9]).toEqual({ epoch: 10, epochs: 2500, loss: 0.1, validationLoss: 7 });
    expect(fit).toMatchObject({ epochsRun: 2500, stoppedEarly: false });
  });

  it('leaves validationLoss out of progress without a validation split', () => {
    const progress: TrainingProgress[] = [];
    runEpochs(scripted([3, 2], { hooks: { seed: 0, onProgress: (p) => progress.push(p) } }));
    expect(progress).toEqual([
      { epoch: 1, epochs: 2, loss: 3 },
      { epoch: 2, epochs: 2, loss: 2 },
    ]);
  });

  it('stops after `patience` epochs that do not beat the lowest loss by the tolerance', () => {
    // Epochs 3-5 each improve by less than 1e-3 of the lowest loss so far.
    const losses = [10, 9, 8.999, 8.998, 8.997, 1];
    const loop = scripted(losses, { options: { epochs: 6, patience: 3, tolerance: 1e-3 } });
    const fit = runEpochs(loop);
    expect(fit).toMatchObject({ epochsRun: 5, stoppedEarly: true });
    expect(fit.lossHistory).toEqual(losses.slice(0, 5));
    // The lowest loss seen was epoch 5's, though too small a gain to count as progress.
    expect(loop.theta[0]).toBe(5);
  });

  it('restores the best parameters when the monitored loss got worse', () => {
    const loop = scripted([5, 4, 6, 7, 8, 9], {
      options: { epochs: 6, patience: 2, tolerance: 0 },
    });
    expect(runEpochs(loop)).toMatchObject({ epochsRun: 4, stoppedEarly: true });
    expect(loop.theta[0]).toBe(2);
  });

  it('monitors the validation loss when there is one', () => {
    const validation = [5, 4, 6, 7, 8, 9];
    let epoch = 0;
    const loop = scripted([6, 5, 4, 3, 2, 1], {
      options: { epochs: 6, patience: 2, tolerance: 0 },
      validationLoss: () => validation[epoch++],
    });
    expect(runEpochs(loop)).toMatchObject({ epochsRun: 4, stoppedEarly: true });
    expect(loop.theta[0]).toBe(2);
  });

  it('runs every epoch with patience 0, and stops once converged', () => {
    expect(runEpochs(scripted([1, 1, 1, 1]))).toMatchObject({ epochsRun: 4, stoppedEarly: false });
    const converged = runEpochs(scripted([3, 2, 1, 0], { converged: () => true }));
    expect(converged).toMatchObject({ epochsRun: 1, stoppedEarly: false });
  });
});

describe('update rules', () => {
  it('sgd steps along the negative gradient', () => {
    const theta = Float64Array.from([1, 2]);
    new Sgd(0.5).update(theta, Float64Array.from([2, -4]));
    expect(Array.from(theta)).toEqual([0, 4]);
  });

  it('adam takes bias-corrected steps (hand-computed)', () => {
    const theta = Float64Array.from([0, 0]);
    const adam = new Adam(0.1, 2);
    // Step 1: m̂ = g, v̂ = g², so each coordinate moves by 0.1 · g / (|g| + 1e-8).
    adam.update(theta, Float64Array.from([2, -0.5]));
    expect(theta[0]).toBeCloseTo(-0.1, 8);
    expect(theta[1]).toBeCloseTo(0.1, 8);
    // Step 2 with g = 1: m = 0.19 + 0.1 = 0.28, v = 0.999 · 0.004 + 0.001 = 0.004996 for
    // coordinate 0; m̂ = 0.28 / 0.19, v̂ = 0.004996 / 0.001999.
    adam.update(theta, Float64Array.from([1, 1]));
    const step = (0.1 * (0.28 / 0.19)) / (Math.sqrt(0.004996 / 0.001999) + 1e-8);
    expect(theta[0]).toBeCloseTo((-0.1 * 2) / (2 + 1e-8) - step, 14);
  });
});

describe('miniBatchEpoch', () => {
  // Rows (x, y) of a one-feature least-squares problem; θ = [w, b].
  const x = { data: Float64Array.from([1, 2, 3, 4, 5]), rows: 5, cols: 1 };
  const y = Float64Array.from([2, 4, 6, 8, 10]);
  function leastSquares(visited: number[]): RowGradient {
    return {
      x,
      perRow: { a: y, b: null },
      accumulate(order, from, to, theta, gradient) {
        for (let p = from; p < to; p++) {
          const i = order[p];
          visited.push(i);
          const r = theta[0] * x.data[i] + theta[1] - y[i];
          gradient[0] += r * x.data[i];
          gradient[1] += r;
        }
      },
    };
  }

  it('with one batch takes the full-batch step of the mean loss plus l2/m w', () => {
    const theta = Float64Array.from([1, 1]);
    const gradient = new Float64Array(2);
    const ok = miniBatchEpoch(leastSquares([]), identityOrder(5), theta, gradient, new Sgd(0.1), {
      batchSize: 5,
      penalised: 1,
      l2: 10,
    });
    // Residuals w·x + b − y = −x + 1: Σ r·x = −55 + 15 = −40, Σ r = −10; penalty 10/5 · 1.
    expect(ok).toBe(true);
    expect(gradient[0]).toBeCloseTo(-40 / 5 + 2, 14);
    expect(gradient[1]).toBeCloseTo(-10 / 5, 14);
    expect(theta[0]).toBeCloseTo(1 - 0.1 * (-8 + 2), 14);
  });

  it('visits every row once in the given order, a batch at a time', () => {
    const visited: number[] = [];
    const order = Uint32Array.from([3, 0, 4, 1, 2]);
    const theta = new Float64Array(2);
    miniBatchEpoch(leastSquares(visited), order, theta, new Float64Array(2), new Sgd(0.01), {
      batchSize: 2,
      penalised: 1,
      l2: 0,
    });
    expect(visited).toEqual([3, 0, 4, 1, 2]);
  });

  it('reports parameters that stopped being finite', () => {
    const theta = Float64Array.from([1e300, 0]);
    const ok = miniBatchEpoch(
      leastSquares([]),
      identityOrder(5),
      theta,
      new Float64Array(2),
      new Sgd(1e10),
      {
        batchSize: 1,
        penalised: 1,
        l2: 0,
      },
    );
    expect(ok).toBe(false);
    expect(allFinite(theta)).toBe(false);
  });
});
