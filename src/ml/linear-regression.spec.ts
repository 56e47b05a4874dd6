import {
  LINEAR_REGRESSION_DEFAULTS,
  LinearRegressionHyperparameters,
  TrainingProgress,
  fitLinearRegression,
} from './linear-regression';
import { Random } from './random';
import { TrainingError } from './training-error';

/** Standardised, centred random columns and a noisy linear target. */
function problem(rows: number, features: number, seed: number) {
  const random = new Random(seed);
  const uniform = () => random.nextUint32() / 2 ** 32;
  const columns = Array.from({ length: features }, (_, j) => {
    const raw = Float64Array.from({ length: rows }, () => (j + 1) * 10 * uniform() + j);
    const mu = raw.reduce((a, b) => a + b, 0) / rows;
    const sd = Math.sqrt(raw.reduce((a, v) => a + (v - mu) ** 2, 0) / rows);
    return raw.map((v) => (v - mu) / sd);
  });
  const target = Float64Array.from(
    { length: rows },
    (_, i) => 50 + columns.reduce((a, c, j) => a + (j % 2 ? -3 : 4) * c[i], 0) + uniform(),
  );
  return { columns, target };
}

function gd(overrides: Partial<LinearRegressionHyperparameters>): LinearRegressionHyperparameters {
  return { ...LINEAR_REGRESSION_DEFAULTS, ...overrides };
}

/** Textbook full-batch gradient descent, row by row: what the Gram-matrix form must equal. */
function naiveGradientDescent(
  columns: Float64Array[],
  target: Float64Array,
  learningRate: number,
  epochs: number,
) {
  const m = target.length;
  const w = new Array<number>(columns.length).fill(0);
  let b = 0;
  const losses: number[] = [];
  const residuals = () =>
    Array.from(target, (y, i) => b + columns.reduce((a, c, j) => a + w[j] * c[i], 0) - y);
  for (let epoch = 0; epoch < epochs; epoch++) {
    const r = residuals();
    const gradB = r.reduce((a, v) => a + v, 0) / m;
    const gradW = columns.map((c) => r.reduce((a, v, i) => a + v * c[i], 0) / m);
    b -= learningRate * gradB;
    gradW.forEach((g, j) => (w[j] -= learningRate * g));
    losses.push(residuals().reduce((a, v) => a + v * v, 0) / (2 * m));
  }
  return { w, b, losses };
}

describe('fitLinearRegression', () => {
  it('takes the steps of row-by-row full-batch gradient descent, with the same losses', () => {
    const { columns, target } = problem(60, 4, 11);
    const fit = fitLinearRegression(columns, target, gd({ learningRate: 0.05, epochs: 40 }));
    const reference = naiveGradientDescent(columns, target, 0.05, 40);
    expect(fit.epochsRun).toBe(40);
    expect(fit.intercept).toBeCloseTo(reference.b, 10);
    fit.coefficients.forEach((w, j) => expect(w).toBeCloseTo(reference.w[j], 10));
    expect(fit.lossHistory).toHaveLength(40);
    fit.lossHistory.forEach((loss, k) =>
      expect(Math.abs(loss - reference.losses[k]) / reference.losses[k]).toBeLessThan(1e-11),
    );
  });

  it('solves the normal equation with intercept = mean(y) and one final loss', () => {
    const { columns, target } = problem(80, 3, 5);
    const exact = fitLinearRegression(columns, target, gd({ optimizer: 'normal-equation' }));
    const converged = fitLinearRegression(columns, target, gd({ learningRate: 0.3, epochs: 3000 }));
    expect(exact.epochsRun).toBe(0);
    expect(exact.intercept).toBeCloseTo(target.reduce((a, b) => a + b, 0) / target.length, 12);
    exact.coefficients.forEach((w, j) => expect(w).toBeCloseTo(converged.coefficients[j], 9));
    expect(exact.lossHistory).toHaveLength(1);
    expect(exact.lossHistory[0]).toBeCloseTo(converged.lossHistory.at(-1) ?? NaN, 12);
  });

  it('reports progress every epoch with the loss it records', () => {
    const { columns, target } = problem(30, 2, 3);
    const progress: TrainingProgress[] = [];
    const fit = fitLinearRegression(columns, target, gd({ epochs: 25 }), (p) => progress.push(p));
    expect(progress.map((p) => p.epoch)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(progress.every((p) => p.epochs === 25)).toBe(true);
    expect(progress.map((p) => p.loss)).toEqual(fit.lossHistory);
  });

  it('keeps at most 1000 evenly spaced loss points and always the last epoch', () => {
    const { columns, target } = problem(30, 2, 3);
    for (const epochs of [1000, 1001, 2500, 5000]) {
      const losses: number[] = [];
      const fit = fitLinearRegression(columns, target, gd({ epochs }), (p) => losses.push(p.loss));
      const stride = Math.ceil(epochs / 1000);
      const expected = losses.filter((_, i) => (i + 1) % stride === 0);
      if (epochs % stride !== 0) expected.push(losses[epochs - 1]);
      expect(fit.lossHistory.length).toBeLessThanOrEqual(1000);
      expect(fit.lossHistory).toEqual(expected);
      expect(fit.lossHistory.at(-1)).toBe(losses[epochs - 1]);
    }
  });

  it('stops early once an epoch improves the loss by less than the tolerance', () => {
    const { columns, target } = problem(50, 3, 8);
    const losses: number[] = [];
    const fit = fitLinearRegression(
      columns,
      target,
      gd({ learningRate: 0.1, epochs: 100000, tolerance: 1e-6 }),
      (p) => losses.push(p.loss),
    );
    expect(fit.epochsRun).toBeLessThan(100000);
    expect(losses).toHaveLength(fit.epochsRun);
    const [before, last] = losses.slice(-2);
    expect((before - last) / before).toBeLessThanOrEqual(1e-6);
    const [a, b, c] = losses.slice(-3);
    expect((a - b) / a).toBeGreaterThan(1e-6);
    expect(c).toBe(last);
  });

  it('throws TrainingError naming the learningRate when the loss grows, and a safe rate', () => {
    const { columns, target } = problem(50, 3, 8);
    const run = () => fitLinearRegression(columns, target, gd({ learningRate: 5 }));
    expect(run).toThrow(TrainingError);
    expect(run).toThrow(
      /^Training diverged with learningRate 5: at epoch 1 the loss rose to .* about 0\.\d+ conv/,
    );
  });

  it('detects a rate unstable for the weights only (intercept stable) before overflow', () => {
    // Identical columns: λ_max(ZᵀZ/m) = 3, so α = 0.7 > 2/3 is unstable for w but fine for b.
    const { columns, target } = problem(40, 1, 2);
    const tripled = [columns[0], columns[0], columns[0]];
    expect(() =>
      fitLinearRegression(tripled, target, gd({ learningRate: 0.7, epochs: 1000 })),
    ).toThrow(/learningRate 0\.7: .* about 0\.333 converges/);
  });

  it('catches an unstable rate early even when a large target mean dominates the loss', () => {
    const { columns, target } = problem(40, 1, 2);
    const tripled = [columns[0], columns[0], columns[0]];
    const shifted = target.map((y) => y + 1e7);
    let epochsSeen = 0;
    expect(() =>
      fitLinearRegression(
        tripled,
        shifted,
        gd({ learningRate: 0.7, epochs: 100 }),
        (p) => (epochsSeen = p.epoch),
      ),
    ).toThrow(/learningRate 0\.7/);
    expect(epochsSeen).toBeLessThan(20);
  });

  it("throws TrainingError('cancelled') as soon as the signal is aborted", () => {
    const { columns, target } = problem(30, 2, 3);
    const signal = { aborted: false };
    let calls = 0;
    const onProgress = () => {
      calls++;
      if (calls === 10) signal.aborted = true;
    };
    expect(() =>
      fitLinearRegression(columns, target, gd({ epochs: 1000 }), onProgress, signal),
    ).toThrow(new TrainingError('cancelled'));
    expect(calls).toBe(10);
    expect(() =>
      fitLinearRegression(columns, target, gd({ optimizer: 'normal-equation' }), undefined, {
        aborted: true,
      }),
    ).toThrow('cancelled');
  });
});
