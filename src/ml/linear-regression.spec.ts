import {
  DiabetesRidgeReference,
  loadTable,
  readReference,
  selectRows,
  standardize,
} from '../../test/fixtures/fitting/fitting-data';
import { HousingReference, readJsonFixture } from '../../test/fixtures/read-fixture';
import { RegressionHyperparameters, defaultHyperparameters } from './hyperparameters';
import { fitLinear } from './linear-regression';
import type { DesignMatrix, FitHooks, LinearFit, TrainingProgress } from './model-fitting';
import { Random } from './random';
import { TrainingError } from './training-error';

const reference = readReference<DiabetesRidgeReference>('diabetes-ridge.sklearn.json');
const diabetesRaw = loadTable('diabetes.csv', reference.features, reference.target);
const diabetes = { x: standardize(diabetesRaw.x).x, y: diabetesRaw.target };

function hp(overrides: Partial<RegressionHyperparameters> = {}): RegressionHyperparameters {
  const optimizer = overrides.optimizer ?? 'gradient-descent';
  return {
    ...(defaultHyperparameters('linear-regression', optimizer) as RegressionHyperparameters),
    optimizer,
    ...overrides,
  };
}

const hooks = (extra: Partial<FitHooks> = {}): FitHooks => ({ seed: 1, ...extra });

function predict(x: DesignMatrix, fit: LinearFit): Float64Array {
  return Float64Array.from({ length: x.rows }, (_, i) => {
    let h = fit.intercept;
    for (let j = 0; j < x.cols; j++) h += fit.coefficients[j] * x.data[i * x.cols + j];
    return h;
  });
}

function r2(x: DesignMatrix, y: Float64Array, fit: LinearFit): number {
  const h = predict(x, fit);
  const mu = y.reduce((a, b) => a + b, 0) / y.length;
  let residual = 0;
  let total = 0;
  y.forEach((v, i) => {
    residual += (h[i] - v) ** 2;
    total += (v - mu) ** 2;
  });
  return 1 - residual / total;
}

/** 1/2m Σ(h − y)² + l2/2m ‖w‖², summed row by row. */
function objective(x: DesignMatrix, y: Float64Array, fit: LinearFit, l2: number): number {
  const h = predict(x, fit);
  const squares = h.reduce((a, v, i) => a + (v - y[i]) ** 2, 0);
  const norm = fit.coefficients.reduce((a, w) => a + w * w, 0);
  return (squares + l2 * norm) / (2 * y.length);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number) {
  expect(actual.length).toBe(expected.length);
  for (let j = 0; j < expected.length; j++) {
    const scale = Math.max(1, Math.abs(expected[j]));
    expect({ j, error: Math.abs(actual[j] - expected[j]) / scale < tolerance }).toEqual({
      j,
      error: true,
    });
  }
}

/** Standardised random columns (0/1 columns every third, uncentred) and a noisy linear target. */
function problem(rows: number, cols: number, seed: number) {
  const random = new Random(seed);
  const uniform = () => random.nextUint32() / 2 ** 32;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      data[i * cols + j] = j % 3 === 2 ? (uniform() < 0.8 ? 1 : 0) : 2 * uniform() - 1;
    }
  }
  const y = Float64Array.from({ length: rows }, (_, i) => {
    let h = 50;
    for (let j = 0; j < cols; j++) h += (j % 2 ? -3 : 4) * data[i * cols + j];
    return h + uniform();
  });
  return { x: { data, rows, cols }, y };
}

/** Textbook full-batch gradient descent on the rows, from θ = 0: what the Gram form must equal. */
function naiveGradientDescent(
  x: DesignMatrix,
  y: Float64Array,
  l2: number,
  learningRate: number,
  epochs: number,
) {
  const { rows: m, cols: n } = x;
  const w = new Array<number>(n).fill(0);
  let b = 0;
  const residuals = () =>
    Array.from(y, (v, i) => b + w.reduce((a, wj, j) => a + wj * x.data[i * n + j], 0) - v);
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const r = residuals();
    const gradB = r.reduce((a, v) => a + v, 0) / m;
    const gradW = w.map(
      (wj, j) => (r.reduce((a, v, i) => a + v * x.data[i * n + j], 0) + l2 * wj) / m,
    );
    b -= learningRate * gradB;
    gradW.forEach((g, j) => (w[j] -= learningRate * g));
    const after = residuals();
    losses.push(
      (after.reduce((a, v) => a + v * v, 0) + l2 * w.reduce((a, v) => a + v * v, 0)) / (2 * m),
    );
  }
  return { w, b, losses };
}

describe('fitLinear normal-equation', () => {
  it('standardises diabetes as scikit-learn did', () => {
    const { mean, scale } = standardize(diabetesRaw.x);
    expectClose(mean, reference.standardization.mean, 1e-12);
    expectClose(scale, reference.standardization.scale, 1e-12);
  });

  it.each(['0', '1', '10'])(
    'matches scikit-learn Ridge(alpha=%s) / LinearRegression on standardised diabetes',
    (alpha) => {
      const expected = reference.fits[alpha];
      const l2 = Number(alpha);
      const fit = fitLinear(diabetes, null, hp({ optimizer: 'normal-equation', l2 }), hooks());
      expectClose(fit.coefficients, expected.coefficients, 1e-9);
      expect(fit.intercept).toBeCloseTo(expected.intercept, 9);
      expect(Math.abs(r2(diabetes.x, diabetes.y, fit) - expected.r2)).toBeLessThan(1e-9);
      expect(fit.lossHistory).toHaveLength(1);
      expect(fit.lossHistory[0] / expected.objective - 1).toBeCloseTo(0, 12);
      expect(fit).toMatchObject({ epochsRun: 0, stoppedEarly: false, validationLossHistory: [] });
    },
  );

  it('fits an intercept beside uncentred 0/1 columns: the gradient vanishes at the solution', () => {
    const { x, y } = problem(300, 7, 4);
    for (const l2 of [0, 3]) {
      const fit = fitLinear({ x, y }, null, hp({ optimizer: 'normal-equation', l2 }), hooks());
      const r = predict(x, fit).map((h, i) => h - y[i]);
      expect(Math.abs(r.reduce((a, v) => a + v, 0))).toBeLessThan(1e-9);
      for (let j = 0; j < x.cols; j++) {
        const g =
          r.reduce((a, v, i) => a + v * x.data[i * x.cols + j], 0) + l2 * fit.coefficients[j];
        expect(Math.abs(g)).toBeLessThan(1e-9);
      }
    }
  });

  it('falls back to the minimum-norm (lstsq) fit for a duplicated column, as scikit-learn', () => {
    const housing = readJsonFixture<HousingReference>('housing-small.sklearn.json');
    const duplicated = housing.withDuplicatedColumn;
    const features = [...housing.features, 'area_m2'];
    const table = loadTable('housing-small.csv', features, housing.target);
    const fit = fitLinear(
      { x: table.x, y: table.target },
      null,
      hp({ optimizer: 'normal-equation' }),
      hooks(),
    );
    const expected = duplicated.features.map((name) => duplicated.coefficients[name]);
    fit.coefficients.forEach((w, j) => expect(w / expected[j] - 1).toBeCloseTo(0, 9));
    expect(fit.intercept / duplicated.intercept - 1).toBeCloseTo(0, 9);
    // A penalty too small for Cholesky's pivots takes the SVD route and shrinks (almost) nothing.
    const ridge = fitLinear(
      { x: table.x, y: table.target },
      null,
      hp({ optimizer: 'normal-equation', l2: 1e-9 }),
      hooks(),
    );
    ridge.coefficients.forEach((w, j) => expect(w / expected[j] - 1).toBeCloseTo(0, 9));
  });

  it('reports the validation loss, ½ MSE without the penalty', () => {
    const train = { x: selectRows(diabetes.x, range(0, 350)), y: diabetes.y.slice(0, 350) };
    const validation = { x: selectRows(diabetes.x, range(350, 442)), y: diabetes.y.slice(350) };
    const fit = fitLinear(train, validation, hp({ optimizer: 'normal-equation', l2: 5 }), hooks());
    expect(fit.validationLossHistory).toHaveLength(1);
    expect(fit.validationLossHistory[0]).toBeCloseTo(
      objective(validation.x, validation.y, fit, 0),
      9,
    );
  });

  it('fits the mean without feature columns', () => {
    const y = Float64Array.from([1, 2, 6]);
    const fit = fitLinear(
      { x: { data: new Float64Array(0), rows: 3, cols: 0 }, y },
      null,
      hp({ optimizer: 'normal-equation' }),
      hooks(),
    );
    expect(fit.intercept).toBe(3);
    expect(fit.coefficients).toHaveLength(0);
  });

  it('throws TrainingError for no rows and RangeError for mismatched shapes', () => {
    const empty = { x: { data: new Float64Array(0), rows: 0, cols: 2 }, y: new Float64Array(0) };
    expect(() => fitLinear(empty, null, hp(), hooks())).toThrow(TrainingError);
    const bad = { x: { data: new Float64Array(5), rows: 3, cols: 2 }, y: new Float64Array(3) };
    expect(() => fitLinear(bad, null, hp(), hooks())).toThrow(RangeError);
  });
});

describe('fitLinear gradient-descent', () => {
  it('takes the steps of row-by-row full-batch gradient descent (l2, uncentred columns)', () => {
    const { x, y } = problem(60, 5, 11);
    const fit = fitLinear({ x, y }, null, hp({ learningRate: 0.05, epochs: 40, l2: 2 }), hooks());
    const naive = naiveGradientDescent(x, y, 2, 0.05, 40);
    expect(fit.epochsRun).toBe(40);
    expect(fit.intercept).toBeCloseTo(naive.b, 10);
    expectClose(fit.coefficients, naive.w, 1e-10);
    expect(fit.lossHistory).toHaveLength(40);
    fit.lossHistory.forEach((loss, k) => expect(loss / naive.losses[k] - 1).toBeCloseTo(0, 10));
  });

  it('reaches scikit-learn Ridge(alpha=1) on diabetes', () => {
    const expected = reference.fits['1'];
    const fit = fitLinear(diabetes, null, hp({ learningRate: 0.2, epochs: 5000, l2: 1 }), hooks());
    expect(fit.lossHistory.at(-1)! / expected.objective - 1).toBeLessThan(1e-3);
    expect(Math.abs(r2(diabetes.x, diabetes.y, fit) - expected.r2)).toBeLessThan(1e-3);
  });

  it('throws TrainingError naming the learningRate when the loss grows, and a safe rate', () => {
    const { x, y } = problem(50, 3, 8);
    const run = () => fitLinear({ x, y }, null, hp({ learningRate: 5 }), hooks());
    expect(run).toThrow(TrainingError);
    expect(run).toThrow(
      /^Training diverged with learningRate 5: at epoch 1 the loss rose to .* about 0\.\d+ conv/,
    );
  });

  it('detects a rate unstable for the weights only (intercept stable) before overflow', () => {
    // Three copies of a standardised column: λ_max is 3 for the weights, so α = 0.7 > 2/3 is
    // unstable for them and stable for the intercept.
    const { x: one, y } = problem(40, 1, 2);
    const { x: z } = standardize(one);
    const tripled = new Float64Array(120);
    z.data.forEach((v, i) => tripled.fill(v, 3 * i, 3 * i + 3));
    const x = { data: tripled, rows: 40, cols: 3 };
    expect(() => fitLinear({ x, y }, null, hp({ learningRate: 0.7 }), hooks())).toThrow(
      /learningRate 0\.7: .* about 0\.333 converges/,
    );
    // Even when a large target mean dominates the loss at first.
    const shifted = y.map((v) => v + 1e7);
    let epochs = 0;
    const onProgress = (p: TrainingProgress) => (epochs = p.epoch);
    expect(() =>
      fitLinear(
        { x, y: shifted },
        null,
        hp({ learningRate: 0.7, epochs: 100 }),
        hooks({ onProgress }),
      ),
    ).toThrow(/learningRate 0\.7/);
    expect(epochs).toBeLessThan(20);
  });
});

describe('fitLinear sgd and adam', () => {
  // alpha = 10 rather than 1: diabetes' correlated columns (condition number ~500) leave a direction
  // that constant-rate stochastic steps would need far more epochs to settle along.
  const optimum = reference.fits['10'];

  it.each([
    ['sgd', { learningRate: 0.01, batchSize: 64, epochs: 2000 }],
    ['adam', { learningRate: 0.02, batchSize: 32, epochs: 2000 }],
  ] as const)('%s reaches scikit-learn Ridge(alpha=10) on diabetes', (optimizer, settings) => {
    const fit = fitLinear(diabetes, null, hp({ optimizer, l2: 10, ...settings }), hooks());
    expect(fit.lossHistory.at(-1)! / optimum.objective - 1).toBeLessThan(1e-3);
    expect(objective(diabetes.x, diabetes.y, fit, 10) / fit.lossHistory.at(-1)! - 1).toBeCloseTo(
      0,
      10,
    );
    expect(Math.abs(r2(diabetes.x, diabetes.y, fit) - optimum.r2)).toBeLessThan(1e-3);
  });

  it('with one batch of all rows, sgd is full-batch gradient descent (but for the start)', () => {
    const settings = {
      optimizer: 'sgd',
      learningRate: 0.2,
      batchSize: 442,
      epochs: 5000,
      l2: 1,
    } as const;
    const fit = fitLinear(diabetes, null, hp(settings), hooks());
    expect(fit.lossHistory.at(-1)! / reference.fits['1'].objective - 1).toBeLessThan(1e-9);
  });

  it.each(['sgd', 'adam'] as const)(
    '%s takes the textbook mini-batch steps over rows shuffled by the seed (odd batches too)',
    (optimizer) => {
      const { x, y } = problem(23, 3, 9);
      const [rate, l2, batchSize, epochs] = [0.05, 2, 5, 3];
      const fit = fitLinear(
        { x, y },
        null,
        hp({ optimizer, learningRate: rate, l2, batchSize, epochs }),
        { seed: 4 },
      );
      // θ = [w, b] from w = 0 and b = mean(y); per batch g = mean of (h − y)[x, 1] + (l2/m)[w, 0].
      const theta = [0, 0, 0, y.reduce((a, v) => a + v, 0) / 23];
      const m1 = [0, 0, 0, 0];
      const v1 = [0, 0, 0, 0];
      let t = 0;
      const random = new Random(4);
      const order = Uint32Array.from({ length: 23 }, (_, i) => i);
      for (let epoch = 0; epoch < epochs; epoch++) {
        random.shuffle(order);
        for (let start = 0; start < 23; start += batchSize) {
          const rows = Array.from(order.subarray(start, Math.min(start + batchSize, 23)));
          const g = [0, 0, 0, 0];
          for (const i of rows) {
            const r =
              theta[3] + [0, 1, 2].reduce((a, j) => a + theta[j] * x.data[i * 3 + j], 0) - y[i];
            [0, 1, 2].forEach((j) => (g[j] += r * x.data[i * 3 + j]));
            g[3] += r;
          }
          const step = g.map((v, j) => v / rows.length + (j < 3 ? (l2 / 23) * theta[j] : 0));
          t++;
          step.forEach((gj, j) => {
            if (optimizer === 'sgd') {
              theta[j] -= rate * gj;
            } else {
              m1[j] = 0.9 * m1[j] + 0.1 * gj;
              v1[j] = 0.999 * v1[j] + 0.001 * gj * gj;
              const mHat = m1[j] / (1 - 0.9 ** t);
              const vHat = v1[j] / (1 - 0.999 ** t);
              theta[j] -= (rate * mHat) / (Math.sqrt(vHat) + 1e-8);
            }
          });
        }
      }
      expectClose([...fit.coefficients, fit.intercept], theta, 1e-12);
    },
  );

  it.each(['sgd', 'adam'] as const)(
    '%s: the same seed gives bit-identical weights',
    (optimizer) => {
      const run = (seed: number) =>
        fitLinear(diabetes, null, hp({ optimizer, learningRate: 0.01, epochs: 5, l2: 1 }), {
          seed,
        });
      const [a, b, c] = [run(7), run(7), run(8)];
      expect(b.coefficients).toEqual(a.coefficients);
      expect(b.intercept).toBe(a.intercept);
      expect(b.lossHistory).toEqual(a.lossHistory);
      expect(c.coefficients).not.toEqual(a.coefficients);
    },
  );

  it('throws TrainingError naming the learningRate when sgd overflows', () => {
    expect(() =>
      fitLinear(diabetes, null, hp({ optimizer: 'sgd', learningRate: 50, epochs: 5 }), hooks()),
    ).toThrow(
      /^Training diverged with learningRate 50: at epoch \d+ .*Use a smaller learningRate; try 5\./,
    );
  });

  it('never returns NaN weights from a huge adam rate: it throws or stays finite', () => {
    const { x, y } = problem(2000, 4, 3);
    for (const learningRate of [100, 1e6]) {
      try {
        const fit = fitLinear(
          { x, y: y.map((v) => v * 1e150) },
          null,
          hp({ optimizer: 'adam', learningRate, epochs: 3 }),
          hooks(),
        );
        expect(
          [...fit.coefficients, fit.intercept, ...fit.lossHistory].every(Number.isFinite),
        ).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(TrainingError);
        expect((error as Error).message).toContain(`learningRate ${learningRate}`);
      }
    }
  });
});

describe('fitLinear epochs, history and early stopping', () => {
  const split = {
    train: { x: selectRows(diabetes.x, range(0, 350)), y: diabetes.y.slice(0, 350) },
    validation: { x: selectRows(diabetes.x, range(350, 442)), y: diabetes.y.slice(350) },
  };

  it.each(['gradient-descent', 'sgd', 'adam'] as const)(
    '%s reports every epoch with the losses it records',
    (optimizer) => {
      const progress: TrainingProgress[] = [];
      const fit = fitLinear(
        split.train,
        split.validation,
        hp({ optimizer, epochs: 25 }),
        hooks({ onProgress: (p) => progress.push(p) }),
      );
      expect(progress.map((p) => p.epoch)).toEqual(range(1, 26));
      expect(progress.every((p) => p.epochs === 25)).toBe(true);
      expect(progress.map((p) => p.loss)).toEqual(fit.lossHistory);
      expect(progress.map((p) => p.validationLoss)).toEqual(fit.validationLossHistory);
      expect(fit.validationLossHistory.at(-1)).toBeCloseTo(
        objective(split.validation.x, split.validation.y, fit, 0),
        6,
      );
      expect(fit).toMatchObject({ epochsRun: 25, stoppedEarly: false });
    },
  );

  it.each(['normal-equation', 'gradient-descent', 'adam'] as const)(
    '%s treats an empty validation split as none',
    (optimizer) => {
      const empty = { x: { data: new Float64Array(0), rows: 0, cols: 10 }, y: new Float64Array(0) };
      const progress: TrainingProgress[] = [];
      const fit = fitLinear(
        split.train,
        empty,
        hp({ optimizer, epochs: 3 }),
        hooks({ onProgress: (p) => progress.push(p) }),
      );
      expect(fit.validationLossHistory).toEqual([]);
      expect(progress.every((p) => !('validationLoss' in p))).toBe(true);
    },
  );

  it('keeps at most 1000 evenly spaced loss points and always the last epoch', () => {
    const { x, y } = problem(30, 2, 3);
    for (const epochs of [1000, 1001, 2500, 5000]) {
      const losses: number[] = [];
      const fit = fitLinear(
        { x, y },
        { x, y },
        hp({ epochs }),
        hooks({ onProgress: (p) => losses.push(p.loss) }),
      );
      const stride = Math.ceil(epochs / 1000);
      const expected = losses.filter((_, i) => (i + 1) % stride === 0);
      if (epochs % stride !== 0) expected.push(losses[epochs - 1]);
      expect(fit.lossHistory).toEqual(expected);
      expect(fit.validationLossHistory).toHaveLength(expected.length);
    }
  });

  it.each(['gradient-descent', 'adam'] as const)(
    '%s stops after `patience` epochs without validation progress and keeps the best weights',
    (optimizer) => {
      // Few training rows and no penalty: the validation loss turns up while training continues.
      const small = { x: selectRows(diabetes.x, range(0, 40)), y: diabetes.y.slice(0, 40) };
      const progress: TrainingProgress[] = [];
      const fit = fitLinear(
        small,
        split.validation,
        hp({
          optimizer,
          learningRate: optimizer === 'adam' ? 0.5 : 0.3,
          epochs: 100000,
          patience: 20,
          tolerance: 1e-4,
        }),
        hooks({ onProgress: (p) => progress.push(p) }),
      );
      expect(fit.stoppedEarly).toBe(true);
      expect(fit.epochsRun).toBeLessThan(100000);
      const validation = progress.map((p) => p.validationLoss!);
      const best = Math.min(...validation);
      expect(objective(split.validation.x, split.validation.y, fit, 0)).toBeCloseTo(best, 9);
      // The last 20 epochs made no progress; the one before them did.
      const before = validation.slice(0, -20);
      const reference = Math.min(...before);
      expect(validation.slice(-20).every((v) => !(v < reference * (1 - 1e-4)))).toBe(true);
    },
  );

  it('monitors the training loss without a validation split; patience 0 runs every epoch', () => {
    const losses: number[] = [];
    const fit = fitLinear(
      split.train,
      null,
      hp({ learningRate: 0.1, epochs: 100000, patience: 3, tolerance: 1e-6 }),
      hooks({ onProgress: (p) => losses.push(p.loss) }),
    );
    expect(fit.stoppedEarly).toBe(true);
    expect(losses).toHaveLength(fit.epochsRun);
    // Progress means beating the lowest loss so far by the tolerance: the last 3 epochs did not.
    const lowestBefore = (k: number) => Math.min(...losses.slice(0, k));
    const n = losses.length;
    for (const k of [n - 3, n - 2, n - 1]) {
      expect(losses[k] >= lowestBefore(k) * (1 - 1e-6)).toBe(true);
    }
    expect(losses[n - 4] < lowestBefore(n - 4) * (1 - 1e-6)).toBe(true);
    const without = fitLinear(
      split.train,
      null,
      hp({ learningRate: 0.1, epochs: 3000, patience: 0, tolerance: 0.5 }),
      hooks(),
    );
    expect(without).toMatchObject({ epochsRun: 3000, stoppedEarly: false });
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
