import {
  BreastCancerReference,
  IrisReference,
  LogisticFitReference,
  LogisticReference,
  loadTable,
  readReference,
  selectRows,
  standardize,
} from '../../test/fixtures/fitting/fitting-data';
import { ClassificationHyperparameters, defaultHyperparameters } from './hyperparameters';
import { fitLogistic } from './logistic-regression';
import type { DesignMatrix, FitHooks, LogisticFit, TrainingProgress } from './model-fitting';
import { Random } from './random';
import { TrainingError } from './training-error';

const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const irisReference = readReference<IrisReference>('iris-logistic.sklearn.json');
const cancerReference = readReference<BreastCancerReference>('breast-cancer-logistic.sklearn.json');

interface Data {
  x: DesignMatrix;
  y: Int32Array;
  sampleWeights: Float64Array | null;
}

function load(fileName: string, target: string, features: string[] | null, keep?: number[]) {
  const table = loadTable(fileName, features, target);
  const rows = keep ?? Array.from({ length: table.x.rows }, (_, i) => i);
  const x = selectRows(table.x, rows);
  return { ...standardize(x), y: Int32Array.from(rows, (i) => table.target[i]) };
}

const iris = load('iris.csv', 'species', IRIS_FEATURES);
const cancer = load('breast-cancer.csv', 'benign', null);
// All rows of labels 0 and 1, then the first 20 rows of label 2 (as the reference's subset).
const imbalancedRows = [
  ...Array.from({ length: 100 }, (_, i) => i),
  ...Array.from({ length: 20 }, (_, i) => 100 + i),
];
const irisImbalanced = load('iris.csv', 'species', IRIS_FEATURES, imbalancedRows);

/** scikit-learn's class_weight='balanced': n / (classes × count of the row's class). */
function balanced(y: Int32Array, classCount: number): Float64Array {
  const counts = new Array<number>(classCount).fill(0);
  y.forEach((label) => counts[label]++);
  return Float64Array.from(y, (label) => y.length / (classCount * counts[label]));
}

function hp(overrides: Partial<ClassificationHyperparameters> = {}): ClassificationHyperparameters {
  const optimizer = overrides.optimizer ?? 'lbfgs';
  return {
    ...(defaultHyperparameters('logistic-regression', optimizer) as ClassificationHyperparameters),
    ...overrides,
  };
}

const hooks = (extra: Partial<FitHooks> = {}): FitHooks => ({ seed: 1, ...extra });

/** Scores z = b + W x per row; one column per weight row. */
function scores(x: DesignMatrix, fit: LogisticFit): number[][] {
  const rowsOfWeights = fit.intercepts.length;
  return Array.from({ length: x.rows }, (_, i) =>
    Array.from({ length: rowsOfWeights }, (_, k) => {
      let z = fit.intercepts[k];
      for (let j = 0; j < x.cols; j++) z += fit.weights[k * x.cols + j] * x.data[i * x.cols + j];
      return z;
    }),
  );
}

function accuracy(x: DesignMatrix, y: Int32Array, fit: LogisticFit): number {
  const predicted = scores(x, fit).map((z) =>
    z.length === 1 ? (z[0] > 0 ? 1 : 0) : z.indexOf(Math.max(...z)),
  );
  return predicted.filter((label, i) => label === y[i]).length / y.length;
}

function expectWeightsClose(fit: LogisticFit, expected: LogisticFitReference, tolerance: number) {
  const flat = expected.weights.flat();
  const error = Math.max(
    ...flat.map((w, j) => Math.abs(fit.weights[j] - w)),
    ...expected.intercepts.map((b, k) => Math.abs(fit.intercepts[k] - b)),
  );
  expect(fit.weights).toHaveLength(flat.length);
  expect(error).toBeLessThan(tolerance);
}

describe('fitLogistic lbfgs against scikit-learn', () => {
  const cases: [string, Data, number, LogisticReference][] = [
    ['iris, multinomial', { x: iris.x, y: iris.y, sampleWeights: null }, 3, irisReference.all],
    [
      'breast cancer, binary',
      { x: cancer.x, y: cancer.y, sampleWeights: null },
      2,
      cancerReference.none,
    ],
    [
      'breast cancer, balanced class weights',
      { x: cancer.x, y: cancer.y, sampleWeights: balanced(cancer.y, 2) },
      2,
      cancerReference.balanced,
    ],
    [
      'imbalanced iris subset, balanced class weights',
      { x: irisImbalanced.x, y: irisImbalanced.y, sampleWeights: balanced(irisImbalanced.y, 3) },
      3,
      irisReference.imbalancedSubset.balanced,
    ],
  ];

  it('standardises the data as scikit-learn did', () => {
    for (const [data, expected] of [
      [iris, irisReference.all],
      [cancer, cancerReference.none],
      [irisImbalanced, irisReference.imbalancedSubset.none],
    ] as const) {
      data.mean.forEach((mu, j) => expect(mu).toBeCloseTo(expected.standardization.mean[j], 10));
      data.scale.forEach((s, j) =>
        expect(s / expected.standardization.scale[j] - 1).toBeCloseTo(0, 12),
      );
    }
  });

  it.each(cases)(
    '%s: with the default tolerance, accuracy and weights as scikit-learn',
    (_, data, classCount, expected) => {
      const fit = fitLogistic(data, null, classCount, hp(), hooks());
      expect(fit.stoppedEarly).toBe(false);
      expect(fit.epochsRun).toBeLessThan(100);
      expect(
        Math.abs(accuracy(data.x, data.y, fit) - expected.lbfgsDefault.accuracy),
      ).toBeLessThanOrEqual(0.01);
      expectWeightsClose(fit, expected.lbfgsDefault, 0.05);
    },
  );

  it.each(cases)(
    '%s: with a tight tolerance, the optimum (newton-cg to 1e-12) and its objective',
    (_, data, classCount, expected) => {
      const fit = fitLogistic(
        data,
        null,
        classCount,
        hp({ tolerance: 1e-10, epochs: 1000 }),
        hooks(),
      );
      expect(fit.epochsRun).toBeLessThan(1000);
      expectWeightsClose(fit, expected.newtonCg, 1e-6);
      expectWeightsClose(fit, expected.lbfgsDefault, 1e-3);
      expect(fit.lossHistory.at(-1)! / expected.newtonCg.objective - 1).toBeCloseTo(0, 10);
      expect(accuracy(data.x, data.y, fit)).toBe(expected.newtonCg.accuracy);
    },
  );

  it('balanced class weights move the fit as they move scikit-learn’s', () => {
    const data = { x: irisImbalanced.x, y: irisImbalanced.y };
    const tight = hp({ tolerance: 1e-10, epochs: 1000 });
    const plain = fitLogistic({ ...data, sampleWeights: null }, null, 3, tight, hooks());
    const weighted = fitLogistic(
      { ...data, sampleWeights: balanced(data.y, 3) },
      null,
      3,
      tight,
      hooks(),
    );
    expectWeightsClose(plain, irisReference.imbalancedSubset.none.newtonCg, 1e-6);
    expectWeightsClose(weighted, irisReference.imbalancedSubset.balanced.newtonCg, 1e-6);
    const shift = Math.max(...plain.weights.map((w, j) => Math.abs(w - weighted.weights[j])));
    expect(shift).toBeGreaterThan(0.1);
  });

  it('reports one progress event per iteration and stops at `epochs` iterations', () => {
    const progress: TrainingProgress[] = [];
    const fit = fitLogistic(
      { x: cancer.x, y: cancer.y, sampleWeights: null },
      null,
      2,
      hp({ epochs: 5, tolerance: 0 }),
      hooks({ onProgress: (p) => progress.push(p) }),
    );
    expect(fit.epochsRun).toBe(5);
    expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.map((p) => p.loss)).toEqual(fit.lossHistory);
    // Each iteration lowers the objective.
    fit.lossHistory.slice(1).forEach((loss, k) => expect(loss).toBeLessThan(fit.lossHistory[k]));
  });
});

describe('fitLogistic gradient-descent and adam', () => {
  const data = { x: cancer.x, y: cancer.y, sampleWeights: null };
  const optimum = cancerReference.none.newtonCg;

  it.each([
    ['gradient-descent', { learningRate: 1, epochs: 5000 }],
    ['adam', { learningRate: 0.003, epochs: 1000, batchSize: 64 }],
  ] as const)('%s approaches the optimum of the same objective', (optimizer, settings) => {
    const fit = fitLogistic(data, null, 2, hp({ optimizer, ...settings }), hooks());
    expect(fit.lossHistory.at(-1)! / optimum.objective - 1).toBeLessThan(1e-3);
    expect(Math.abs(accuracy(data.x, data.y, fit) - optimum.accuracy)).toBeLessThanOrEqual(0.01);
  });

  it('adam fits multinomial iris too', () => {
    const fit = fitLogistic(
      { x: iris.x, y: iris.y, sampleWeights: null },
      null,
      3,
      hp({ optimizer: 'adam', learningRate: 0.01, epochs: 1000, batchSize: 16 }),
      hooks(),
    );
    expect(fit.lossHistory.at(-1)! / irisReference.all.newtonCg.objective - 1).toBeLessThan(1e-3);
  });

  it.each([2, 3])(
    'adam takes the textbook mini-batch steps over rows shuffled by the seed (%i classes)',
    (classCount) => {
      const source = classCount === 2 ? cancer : iris;
      const rows = Array.from({ length: 27 }, (_, i) => i * 5);
      const x = selectRows(source.x, rows);
      const y = Int32Array.from(rows, (i) => source.y[i]);
      const sampleWeights = Float64Array.from(rows, (_, r) => 1 + (r % 3));
      const [rate, l2, batchSize, epochs] = [0.05, 2, 4, 3];
      const settings = { optimizer: 'adam', learningRate: rate, l2, batchSize, epochs } as const;
      const fit = fitLogistic({ x, y, sampleWeights }, null, classCount, hp(settings), { seed: 6 });

      const n = x.cols;
      const k = classCount === 2 ? 1 : classCount;
      const theta = new Array<number>(k * (n + 1)).fill(0);
      const [m1, v1] = [theta.map(() => 0), theta.map(() => 0)];
      let t = 0;
      const random = new Random(6);
      const order = Uint32Array.from({ length: 27 }, (_, i) => i);
      for (let epoch = 0; epoch < epochs; epoch++) {
        random.shuffle(order);
        for (let start = 0; start < 27; start += batchSize) {
          const batch = Array.from(order.subarray(start, Math.min(start + batchSize, 27)));
          const g = theta.map(() => 0);
          for (const i of batch) {
            const z = Array.from({ length: k }, (_, c) =>
              Array.from({ length: n }, (_, j) => theta[c * n + j] * x.data[i * n + j]).reduce(
                (a, v) => a + v,
                theta[k * n + c],
              ),
            );
            const p =
              k === 1
                ? [1 / (1 + Math.exp(-z[0]))]
                : z.map((v) => Math.exp(v) / z.reduce((a, w) => a + Math.exp(w), 0));
            p.forEach((pc, c) => {
              const r = sampleWeights[i] * (pc - ((k === 1 ? y[i] === 1 : y[i] === c) ? 1 : 0));
              for (let j = 0; j < n; j++) g[c * n + j] += r * x.data[i * n + j];
              g[k * n + c] += r;
            });
          }
          t++;
          g.forEach((sum, j) => {
            const gj = sum / batch.length + (j < k * n ? (l2 / 27) * theta[j] : 0);
            m1[j] = 0.9 * m1[j] + 0.1 * gj;
            v1[j] = 0.999 * v1[j] + 0.001 * gj * gj;
            const mHat = m1[j] / (1 - 0.9 ** t);
            const vHat = v1[j] / (1 - 0.999 ** t);
            theta[j] -= (rate * mHat) / (Math.sqrt(vHat) + 1e-8);
          });
        }
      }
      const actual = [...fit.weights, ...fit.intercepts];
      expect(Math.max(...theta.map((v, j) => Math.abs(v - actual[j])))).toBeLessThan(1e-10);
    },
  );

  it('adam: the same seed gives bit-identical weights, another seed different ones', () => {
    const run = (seed: number) =>
      fitLogistic(data, null, 2, hp({ optimizer: 'adam', epochs: 3 }), { seed });
    const [a, b, c] = [run(3), run(3), run(4)];
    expect(b.weights).toEqual(a.weights);
    expect(b.intercepts).toEqual(a.intercepts);
    expect(c.weights).not.toEqual(a.weights);
  });

  it('gradient-descent throws TrainingError naming the learningRate when the loss rises', () => {
    expect(() =>
      fitLogistic(data, null, 2, hp({ optimizer: 'gradient-descent', learningRate: 100 }), hooks()),
    ).toThrow(
      /^Training diverged with learningRate 100: at epoch \d+ the loss rose to .* try 10\./,
    );
  });

  it('adam with a huge rate never returns NaN weights: it throws or stays finite', () => {
    for (const learningRate of [100, 1e8]) {
      try {
        const fit = fitLogistic(
          data,
          null,
          2,
          hp({ optimizer: 'adam', learningRate, epochs: 5 }),
          hooks(),
        );
        expect([...fit.weights, ...fit.intercepts, ...fit.lossHistory].every(Number.isFinite)).toBe(
          true,
        );
      } catch (error) {
        expect(error).toBeInstanceOf(TrainingError);
        expect((error as Error).message).toContain(`learningRate ${learningRate}`);
      }
    }
  });

  it('keeps the loss finite for huge scores (stable softplus and log-sum-exp)', () => {
    for (const [classCount, source] of [
      [2, cancer],
      [3, iris],
    ] as const) {
      const scaled = { ...source.x, data: source.x.data.map((v) => v * 1e6) };
      for (const optimizer of ['lbfgs', 'adam'] as const) {
        const fit = fitLogistic(
          { x: scaled, y: source.y, sampleWeights: null },
          { x: scaled, y: source.y },
          classCount,
          hp({ optimizer, learningRate: 1, epochs: 3, l2: 0 }),
          hooks(),
        );
        const values = [...fit.weights, ...fit.lossHistory, ...fit.validationLossHistory];
        expect(values.every(Number.isFinite)).toBe(true);
      }
    }
  });
});

describe('fitLogistic epochs, validation and early stopping', () => {
  const shuffled = Uint32Array.from({ length: cancer.y.length }, (_, i) => i);
  new Random(5).shuffle(shuffled);
  const trainRows = Array.from(shuffled.subarray(0, 100));
  const validationRows = Array.from(shuffled.subarray(100));
  const train = {
    x: selectRows(cancer.x, trainRows),
    y: Int32Array.from(trainRows, (i) => cancer.y[i]),
    sampleWeights: null,
  };
  const validation = {
    x: selectRows(cancer.x, validationRows),
    y: Int32Array.from(validationRows, (i) => cancer.y[i]),
  };

  /** Mean log loss, unweighted and unpenalised. */
  function meanLogLoss(x: DesignMatrix, y: Int32Array, fit: LogisticFit): number {
    return (
      scores(x, fit).reduce(
        (sum, [z], i) => sum + Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - y[i] * z,
        0,
      ) / y.length
    );
  }

  it.each(['lbfgs', 'gradient-descent', 'adam'] as const)(
    '%s reports the validation loss every epoch',
    (optimizer) => {
      const progress: TrainingProgress[] = [];
      const fit = fitLogistic(
        train,
        validation,
        2,
        hp({ optimizer, epochs: 10, tolerance: 0 }),
        hooks({ onProgress: (p) => progress.push(p) }),
      );
      expect(progress.map((p) => p.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(progress.map((p) => p.validationLoss)).toEqual(fit.validationLossHistory);
      expect(fit.validationLossHistory.at(-1)).toBeCloseTo(
        meanLogLoss(validation.x, validation.y, fit),
        12,
      );
    },
  );

  it('treats an empty validation split as none', () => {
    const empty = {
      x: { data: new Float64Array(0), rows: 0, cols: train.x.cols },
      y: new Int32Array(0),
    };
    const fit = fitLogistic(train, empty, 2, hp({ epochs: 3 }), hooks());
    expect(fit.validationLossHistory).toEqual([]);
  });

  it.each(['gradient-descent', 'adam'] as const)(
    '%s stops after `patience` epochs without validation progress and keeps the best weights',
    (optimizer) => {
      const progress: TrainingProgress[] = [];
      const fit = fitLogistic(
        train,
        validation,
        2,
        hp({
          optimizer,
          learningRate: optimizer === 'adam' ? 0.05 : 1,
          epochs: 100000,
          l2: 0,
          patience: 10,
          tolerance: 1e-3,
        }),
        hooks({ onProgress: (p) => progress.push(p) }),
      );
      expect(fit.stoppedEarly).toBe(true);
      expect(fit.epochsRun).toBeLessThan(100000);
      const losses = progress.map((p) => p.validationLoss!);
      expect(meanLogLoss(validation.x, validation.y, fit)).toBeCloseTo(Math.min(...losses), 12);
    },
  );
});

describe('fitLogistic input checks', () => {
  const x = { data: Float64Array.from([0, 1, 2, 3, 4, 5]), rows: 3, cols: 2 };

  it('throws TrainingError for fewer than 2 classes, one class present, or a class without rows', () => {
    const y = Int32Array.from([0, 0, 0]);
    expect(() => fitLogistic({ x, y, sampleWeights: null }, null, 1, hp(), hooks())).toThrow(
      /at least 2 classes/,
    );
    expect(() => fitLogistic({ x, y, sampleWeights: null }, null, 2, hp(), hooks())).toThrow(
      /All training rows belong to one class/,
    );
    expect(() =>
      fitLogistic(
        { x, y: Int32Array.from([0, 1, 0]), sampleWeights: null },
        null,
        3,
        hp(),
        hooks(),
      ),
    ).toThrow(/class 2 has no training rows/);
    const none = {
      x: { data: new Float64Array(0), rows: 0, cols: 2 },
      y: new Int32Array(0),
      sampleWeights: null,
    };
    expect(() => fitLogistic(none, null, 2, hp(), hooks())).toThrow(TrainingError);
  });

  it('throws RangeError for labels out of range and mismatched shapes', () => {
    expect(() =>
      fitLogistic(
        { x, y: Int32Array.from([0, 1, 2]), sampleWeights: null },
        null,
        2,
        hp(),
        hooks(),
      ),
    ).toThrow(RangeError);
    expect(() =>
      fitLogistic({ x, y: Int32Array.from([0, 1]), sampleWeights: null }, null, 2, hp(), hooks()),
    ).toThrow(RangeError);
    expect(() =>
      fitLogistic(
        { x, y: Int32Array.from([0, 1, 1]), sampleWeights: new Float64Array(2) },
        null,
        2,
        hp(),
        hooks(),
      ),
    ).toThrow(RangeError);
  });
});
