import {
  DiabetesReference,
  HousingReference,
  readJsonFixture,
  readNumericCsv,
} from '../../test/fixtures/read-fixture';
import { rawCoefficients } from './artifact';
import { LINEAR_REGRESSION_DEFAULTS, LinearRegressionHyperparameters } from './linear-regression';
import { regressionMetrics } from './metrics';
import { compilePredictor } from './predictor';
import { trainValidationSplit } from './split';
import { TrainingError, TrainingInput, train } from './train';

const diabetes = readNumericCsv('diabetes.csv');
const diabetesRef = readJsonFixture<DiabetesReference>('diabetes.sklearn.json');
const housing = readNumericCsv('housing-small.csv');
const housingRef = readJsonFixture<HousingReference>('housing-small.sklearn.json');

// learningRate < 2/λ_max(standardised XᵀX/m) ≈ 0.497 for diabetes; the slowest direction
// (λ_min ≈ 0.0086) then contracts by 1 − 0.4·0.0086 per epoch, so 5000 epochs reach the optimum.
const DIABETES_GD = { learningRate: 0.4, epochs: 5000 };

type Overrides = Partial<Omit<TrainingInput, 'hyperparameters'>> & {
  hyperparameters?: Partial<LinearRegressionHyperparameters>;
};

function input(
  table: ReturnType<typeof readNumericCsv>,
  features: string[],
  target: string,
  overrides: Overrides = {},
): TrainingInput {
  const { hyperparameters, ...rest } = overrides;
  return {
    algorithm: 'linear-regression',
    features,
    featureColumns: features.map((name) => table.column(name)),
    target,
    targetColumn: table.column(target),
    hyperparameters: { ...LINEAR_REGRESSION_DEFAULTS, ...hyperparameters },
    validationSplit: 0,
    seed: 1,
    ...rest,
  };
}

const diabetesInput = (overrides: Overrides = {}) =>
  input(diabetes, diabetesRef.features, 'y', overrides);
const housingInput = (overrides: Overrides = {}) =>
  input(housing, housingRef.features, 'price', overrides);

function firstRows(table: ReturnType<typeof readNumericCsv>, features: string[], count: number) {
  const rows = new Float64Array(count * features.length);
  for (let i = 0; i < count; i++) {
    features.forEach((name, j) => (rows[i * features.length + j] = table.column(name)[i]));
  }
  return rows;
}

function expectRelativelyClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
}

/** Once converged the loss can wobble in its last bit of rounding; allow that, nothing more. */
function expectNonIncreasing(values: number[]): void {
  values.slice(1).forEach((v, i) => expect(v).toBeLessThanOrEqual(values[i] * (1 + 1e-15)));
}

describe('train: normal equation against scikit-learn', () => {
  const result = train(diabetesInput({ hyperparameters: { optimizer: 'normal-equation' } }));

  it("matches LinearRegression's raw coefficients and intercept on diabetes", () => {
    const raw = rawCoefficients(result.artifact);
    diabetesRef.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], diabetesRef.coefficients[name], 1e-10),
    );
    expect(raw.intercept).toBeCloseTo(diabetesRef.intercept, 10);
  });

  it('matches r2 (within 1e-10), mse, rmse and mae of scikit-learn on the training rows', () => {
    const { train: metrics, validation } = result.metrics;
    expect(Math.abs(metrics.r2 - diabetesRef.metrics.r2)).toBeLessThan(1e-10);
    expectRelativelyClose(metrics.mse, diabetesRef.metrics.mse, 1e-12);
    expectRelativelyClose(metrics.rmse, diabetesRef.metrics.rmse, 1e-12);
    expectRelativelyClose(metrics.mae, diabetesRef.metrics.mae, 1e-12);
    expect(validation).toBeNull();
    expect(result).toMatchObject({ trainRows: 442, validationRows: 0, epochsRun: 0 });
    expect(result.lossHistory).toHaveLength(1);
    expectRelativelyClose(result.lossHistory[0], diabetesRef.metrics.mse / 2, 1e-12);
  });

  it("serves scikit-learn's predictions through compilePredictor", () => {
    const predictions = compilePredictor(result.artifact).predict(
      firstRows(diabetes, diabetesRef.features, 5),
      5,
    );
    predictions.forEach((p, i) => expect(p).toBeCloseTo(diabetesRef.firstPredictions[i], 10));
  });

  it('stores the train-split mean and population standard deviation in the artifact', () => {
    const { mean, scale } = result.artifact.preprocessing?.standardize ?? { mean: [], scale: [] };
    diabetesRef.features.forEach((name, j) => {
      const column = Array.from(diabetes.column(name));
      const mu = column.reduce((a, b) => a + b, 0) / column.length;
      const sd = Math.sqrt(column.reduce((a, v) => a + (v - mu) ** 2, 0) / column.length);
      expect(mean[j]).toBeCloseTo(mu, 15);
      expectRelativelyClose(scale[j], sd, 1e-13);
    });
    expect(result.artifact).toMatchObject({
      format: 'modeldock/v1',
      algorithm: 'linear-regression',
      inputs: diabetesRef.features.map((name) => ({ name, type: 'number' })),
      output: { name: 'y', type: 'number' },
    });
  });

  it('reproduces every sklearn prediction on the small housing set', () => {
    const housingResult = train(
      housingInput({ hyperparameters: { optimizer: 'normal-equation' } }),
    );
    const predictions = compilePredictor(housingResult.artifact).predict(
      firstRows(housing, housingRef.features, 40),
      40,
    );
    predictions.forEach((p, i) => expectRelativelyClose(p, housingRef.predictions[i], 1e-12));
    expect(Math.abs(housingResult.metrics.train.r2 - housingRef.metrics.r2)).toBeLessThan(1e-12);
  });
});

describe('train: collinear and constant features', () => {
  const duplicated = housingRef.withDuplicatedColumn;
  const withCopy = (optimizer: LinearRegressionHyperparameters['optimizer'], extra = {}) =>
    train({
      ...housingInput({ hyperparameters: { optimizer, ...extra } }),
      features: duplicated.features,
      featureColumns: [
        ...housingRef.features.map((f) => housing.column(f)),
        housing.column('area_m2'),
      ],
    });
  const predict = (result: ReturnType<typeof train>, features: number) => {
    const rows = firstRows(housing, housingRef.features, 40);
    const widened = new Float64Array(40 * features);
    for (let i = 0; i < 40; i++) {
      widened.set(rows.subarray(i * 3, i * 3 + 3), i * features);
      if (features === 4) widened[i * 4 + 3] = rows[i * 3];
      if (features === 5) widened.set([rows[i * 3], 7], i * 5 + 3);
    }
    return compilePredictor(result.artifact).predict(widened, 40);
  };

  it('normal equation falls back to the minimum-norm (lstsq) fit for a duplicated column', () => {
    const result = withCopy('normal-equation');
    const raw = rawCoefficients(result.artifact);
    duplicated.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], duplicated.coefficients[name], 1e-9),
    );
    expect(raw.coefficients[0]).toBeCloseTo(raw.coefficients[3], 8);
    predict(result, 4).forEach((p, i) =>
      expectRelativelyClose(p, duplicated.predictions[i], 1e-12),
    );
    expect(Math.abs(result.metrics.train.r2 - duplicated.metrics.r2)).toBeLessThan(1e-12);
  });

  it('gradient descent with the duplicated column converges to the same minimum norm', () => {
    const result = withCopy('gradient-descent', { learningRate: 0.3, epochs: 3000 });
    const raw = rawCoefficients(result.artifact);
    duplicated.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], duplicated.coefficients[name], 1e-9),
    );
    predict(result, 4).forEach((p, i) =>
      expectRelativelyClose(p, duplicated.predictions[i], 1e-12),
    );
  });

  it('gives a constant column scale 1 and coefficient 0, leaving the predictions unchanged', () => {
    const constant = new Float64Array(40).fill(7);
    const result = train({
      ...housingInput({ hyperparameters: { optimizer: 'normal-equation' } }),
      features: [...housingRef.features, 'area_copy', 'constant'],
      featureColumns: [
        ...housingRef.features.map((f) => housing.column(f)),
        housing.column('area_m2'),
        constant,
      ],
    });
    expect(result.artifact.preprocessing?.standardize?.scale[4]).toBe(1);
    expect(result.artifact.preprocessing?.standardize?.mean[4]).toBe(7);
    expect(result.artifact.coefficients[4]).toBe(0);
    predict(result, 5).forEach((p, i) =>
      expectRelativelyClose(p, housingRef.predictions[i], 1e-12),
    );
  });
});

describe('train: gradient descent', () => {
  it("reaches scikit-learn's optimum on diabetes with learningRate 0.4 and 5000 epochs", () => {
    const result = train(diabetesInput({ hyperparameters: DIABETES_GD }));
    expect(Math.abs(result.metrics.train.r2 - diabetesRef.metrics.r2)).toBeLessThan(1e-9);
    const predictions = compilePredictor(result.artifact).predict(
      firstRows(diabetes, diabetesRef.features, 5),
      5,
    );
    predictions.forEach((p, i) =>
      expect(Math.abs(p - diabetesRef.firstPredictions[i])).toBeLessThan(1e-4),
    );
    const raw = rawCoefficients(result.artifact);
    diabetesRef.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], diabetesRef.coefficients[name], 1e-6),
    );
    expect(result.epochsRun).toBe(DIABETES_GD.epochs);
    expect(result.lossHistory).toHaveLength(1000);
    expectNonIncreasing(result.lossHistory);
    expectRelativelyClose(result.lossHistory[999], diabetesRef.metrics.mse / 2, 1e-12);
  });

  it('with the defaults (0.01, 1000 epochs) lowers the loss every epoch, short of optimum', () => {
    const result = train(diabetesInput());
    expect(result.lossHistory).toHaveLength(1000);
    expectNonIncreasing(result.lossHistory);
    expect(result.metrics.train.r2).toBeLessThan(diabetesRef.metrics.r2 - 1e-3);
    expect(result.metrics.train.r2).toBeGreaterThan(diabetesRef.metrics.r2 - 1e-2);
  });

  it('throws TrainingError mentioning learningRate 5 when the loss diverges', () => {
    const run = () => train(diabetesInput({ hyperparameters: { learningRate: 5 } }));
    expect(run).toThrow(TrainingError);
    expect(run).toThrow(/learningRate 5: .*Use a smaller learningRate; about 0\.248 /);
  });

  it('is deterministic: same input and seed give bit-identical artifacts and loss history', () => {
    const a = train(diabetesInput({ validationSplit: 0.2, seed: 7, hyperparameters: DIABETES_GD }));
    const b = train(diabetesInput({ validationSplit: 0.2, seed: 7, hyperparameters: DIABETES_GD }));
    expect(b.artifact).toEqual(a.artifact);
    expect(b.lossHistory).toEqual(a.lossHistory);
    expect(b.metrics).toEqual(a.metrics);
    const other = train(
      diabetesInput({ validationSplit: 0.2, seed: 8, hyperparameters: DIABETES_GD }),
    );
    expect(other.artifact.coefficients).not.toEqual(a.artifact.coefficients);
  });

  it("throws TrainingError('cancelled') when the signal is aborted mid-training", () => {
    const signal = { aborted: false };
    let epochs = 0;
    const run = () =>
      train(
        diabetesInput({ hyperparameters: DIABETES_GD }),
        (p) => {
          epochs = p.epoch;
          if (p.epoch === 100) signal.aborted = true;
        },
        signal,
      );
    expect(run).toThrow(new TrainingError('cancelled'));
    expect(epochs).toBe(100);
  });
});

describe('train: validation split', () => {
  const result = train(
    diabetesInput({
      validationSplit: 0.2,
      seed: 42,
      hyperparameters: { optimizer: 'normal-equation' },
    }),
  );
  const split = trainValidationSplit(442, 0.2, 42);

  it('holds out Math.round(0.2 * 442) = 88 rows', () => {
    expect(result.trainRows).toBe(354);
    expect(result.validationRows).toBe(88);
  });

  it('fits the standardisation on the training rows only', () => {
    const bmi = diabetes.column('bmi');
    const trainMean = Array.from(split.train, (i) => bmi[i]).reduce((a, b) => a + b, 0) / 354;
    const allMean = bmi.reduce((a, b) => a + b, 0) / 442;
    expect(result.artifact.preprocessing?.standardize?.mean[2]).toBeCloseTo(trainMean, 15);
    expect(Math.abs(trainMean - allMean)).toBeGreaterThan(1e-4);
  });

  it('scores each split with the predictions the served model makes', () => {
    const predictor = compilePredictor(result.artifact);
    const score = (rows: Uint32Array) => {
      const x = new Float64Array(rows.length * 10);
      rows.forEach((row, i) =>
        diabetesRef.features.forEach((f, j) => (x[i * 10 + j] = diabetes.column(f)[row])),
      );
      const y = Float64Array.from(rows, (row) => diabetes.column('y')[row]);
      return regressionMetrics(y, predictor.predict(x, rows.length));
    };
    expect(result.metrics.train).toEqual(score(split.train));
    expect(result.metrics.validation).toEqual(score(split.validation));
    expect(result.metrics.validation?.r2).toBeLessThan(result.metrics.train.r2);
  });
});

describe('train: input checks', () => {
  it('requires at least 2 training rows and says how many there are', () => {
    const tiny = (rows: number, validationSplit: number) => () =>
      train({
        ...housingInput({ validationSplit }),
        featureColumns: housingRef.features.map((f) => housing.column(f).slice(0, rows)),
        targetColumn: housing.column('price').slice(0, rows),
      });
    expect(tiny(3, 0.5)).toThrow(
      new TrainingError(
        'Training needs at least 2 training rows, but the dataset has 3 rows and ' +
          'validationSplit 0.5 leaves 1 for training.',
      ),
    );
    expect(tiny(1, 0)).toThrow(
      new TrainingError('Training needs at least 2 training rows, but the dataset has 1 row.'),
    );
    expect(tiny(2, 0)).not.toThrow();
  });

  it('rejects bad user choices with TrainingError', () => {
    const cases: [Partial<TrainingInput>, RegExp][] = [
      [{ validationSplit: 0.95 }, /validationSplit must be between 0 and 0.9, got 0.95/],
      [{ features: ['area_m2', 'area_m2', 'rooms'] }, /"area_m2" is listed more than once/],
      [{ target: 'rooms' }, /target "rooms" cannot also be a feature/],
      [{ features: [], featureColumns: [] }, /at least one feature/],
    ];
    for (const [overrides, message] of cases) {
      expect(() => train({ ...housingInput(), ...overrides })).toThrow(message);
    }
    const hyper: [Partial<LinearRegressionHyperparameters>, RegExp][] = [
      [{ learningRate: 0 }, /learningRate must be a positive number, got 0/],
      [{ epochs: 1.5 }, /epochs must be a whole number of at least 1, got 1.5/],
      [{ tolerance: -1 }, /tolerance must be 0 \(disabled\) or a positive number, got -1/],
    ];
    for (const [hyperparameters, message] of hyper) {
      expect(() => train(housingInput({ hyperparameters }))).toThrow(message);
    }
  });

  it('names the column and row of a non-finite value instead of reporting a divergence', () => {
    const rooms = housing.column('rooms').slice();
    rooms[4] = NaN;
    const featureColumns = [housing.column('area_m2'), rooms, housing.column('age_years')];
    expect(() => train({ ...housingInput(), featureColumns })).toThrow(
      new TrainingError('Column "rooms" has a non-numeric or infinite value (NaN) in data row 5.'),
    );
  });

  it('treats mismatched column counts or lengths as a programming error (RangeError)', () => {
    const short = [
      housing.column('area_m2').slice(0, 10),
      housing.column('rooms'),
      housing.column('age_years'),
    ];
    expect(() => train({ ...housingInput(), featureColumns: short })).toThrow(RangeError);
    expect(() => train({ ...housingInput(), featureColumns: [housing.column('rooms')] })).toThrow(
      RangeError,
    );
  });
});
