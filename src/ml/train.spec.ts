import {
  DiabetesReference,
  HousingReference,
  LogisticReference,
  MixedReference,
  RidgeReference,
  TableColumn,
  readJsonFixture,
  readNumericCsv,
  readTable,
} from '../../test/fixtures/read-fixture';
import {
  LinearModelArtifactV2,
  ModelArtifactV2,
  rawCoefficients,
  validateArtifact,
} from './artifact';
import { ClassificationMetrics } from './classification-metrics';
import { Algorithm, resolveHyperparameters } from './hyperparameters';
import * as linearRegression from './linear-regression';
import * as logisticRegression from './logistic-regression';
import { RegressionMetrics, regressionMetrics } from './regression-metrics';
import { InputColumn } from './preprocessing';
import { PredictionBatch, PredictionOutput, compilePredictor } from './predictor';
import { trainValidationSplit } from './split';
import { TrainingInput, TrainingResult, train } from './train';
import { TrainingError } from './training-error';

const diabetes = readNumericCsv('diabetes.csv');
const diabetesRef = readJsonFixture<DiabetesReference>('diabetes.sklearn.json');
const ridgeRef = readJsonFixture<RidgeReference>('diabetes-ridge.sklearn.json');
const housing = readNumericCsv('housing-small.csv');
const housingRef = readJsonFixture<HousingReference>('housing-small.sklearn.json');
const mixed = readTable('mixed.csv');
const mixedRef = readJsonFixture<MixedReference>('mixed.sklearn.json');
const iris = readTable('iris.csv');
const irisRef = readJsonFixture<LogisticReference>('iris.sklearn.json');
const cancer = readTable('breast-cancer.csv');
const cancerRef = readJsonFixture<LogisticReference>('breast-cancer.sklearn.json');

// learningRate < 2/λ_max(standardised XᵀX/m) ≈ 0.497 for diabetes; the slowest direction
// (λ_min ≈ 0.0086) then contracts by 1 − 0.4·0.0086 per epoch, so 5000 epochs reach the optimum.
const DIABETES_GD = { learningRate: 0.4, epochs: 5000 };
const NORMAL_EQUATION = { optimizer: 'normal-equation' };

type Overrides = Partial<Omit<TrainingInput, 'hyperparameters'>> & {
  hyperparameters?: Record<string, unknown>;
};

const numberColumn = (values: Float64Array, name: string): InputColumn => ({
  name,
  type: 'number',
  values,
});

function input(
  columns: (name: string) => InputColumn,
  features: string[],
  target: string,
  overrides: Overrides = {},
): TrainingInput {
  const { hyperparameters, ...rest } = overrides;
  const algorithm: Algorithm = rest.algorithm ?? 'linear-regression';
  const resolved = resolveHyperparameters(algorithm, hyperparameters);
  expect(resolved.errors).toEqual([]);
  return {
    algorithm,
    features: features.map(columns),
    target: columns(target),
    hyperparameters: resolved.hyperparameters,
    validationSplit: 0,
    seed: 1,
    ...rest,
  };
}

const numeric = (table: ReturnType<typeof readNumericCsv>) => (name: string) =>
  numberColumn(table.column(name), name);
const diabetesInput = (overrides: Overrides = {}) =>
  input(numeric(diabetes), diabetesRef.features, 'y', overrides);
const housingInput = (overrides: Overrides = {}) =>
  input(numeric(housing), housingRef.features, 'price', overrides);

/** The first `count` rows of the columns as a prediction batch, the way the service sends it. */
function batchOf(columns: TableColumn[], count: number): PredictionBatch {
  const n = columns.length;
  const numbers = new Float64Array(count * n);
  const strings: (string | null)[] = new Array<string | null>(count * n).fill(null);
  columns.forEach((column, j) => {
    for (let i = 0; i < count; i++) {
      if (column.type === 'number') numbers[i * n + j] = column.values[i];
      else strings[i * n + j] = column.values[i];
    }
  });
  return {
    rowCount: count,
    numbers,
    strings: columns.some((c) => c.type === 'string') ? strings : null,
  };
}

function predictRegression(artifact: ModelArtifactV2, batch: PredictionBatch): Float64Array {
  const output = compilePredictor(artifact).predict(batch);
  if (output.kind !== 'regression') throw new Error('expected a regression');
  return output.values;
}

const regression = (metrics: RegressionMetrics | ClassificationMetrics | null) =>
  metrics as RegressionMetrics;
const classification = (metrics: RegressionMetrics | ClassificationMetrics | null) =>
  metrics as ClassificationMetrics;
const linear = (result: TrainingResult) => result.artifact as LinearModelArtifactV2;

function expectRelativelyClose(actual: number, expected: number, tolerance: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.abs(expected));
}

/** Once converged the loss can wobble in its last bit of rounding; allow that, nothing more. */
function expectNonIncreasing(values: number[]): void {
  values.slice(1).forEach((v, i) => expect(v).toBeLessThanOrEqual(values[i] * (1 + 1e-15)));
}

afterEach(() => jest.restoreAllMocks());

describe('train: normal equation against scikit-learn', () => {
  let result: TrainingResult;
  beforeAll(() => (result = train(diabetesInput({ hyperparameters: NORMAL_EQUATION }))));

  it("matches LinearRegression's raw coefficients and intercept on diabetes", () => {
    const raw = rawCoefficients(linear(result));
    diabetesRef.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], diabetesRef.coefficients[name], 1e-10),
    );
    expect(raw.intercept).toBeCloseTo(diabetesRef.intercept, 10);
  });

  it('matches r2 (within 1e-10), mse, rmse and mae of scikit-learn on the training rows', () => {
    const metrics = regression(result.metrics.train);
    expect(Math.abs(metrics.r2 - diabetesRef.metrics.r2)).toBeLessThan(1e-10);
    expectRelativelyClose(metrics.mse, diabetesRef.metrics.mse, 1e-12);
    expectRelativelyClose(metrics.rmse, diabetesRef.metrics.rmse, 1e-12);
    expectRelativelyClose(metrics.mae, diabetesRef.metrics.mae, 1e-12);
    expect(result.metrics.validation).toBeNull();
    expect(result).toMatchObject({
      trainRows: 442,
      validationRows: 0,
      epochsRun: 0,
      stoppedEarly: false,
      validationLossHistory: [],
    });
    expect(result.lossHistory).toHaveLength(1);
    expectRelativelyClose(result.lossHistory[0], diabetesRef.metrics.mse / 2, 1e-12);
  });

  it("serves scikit-learn's predictions through compilePredictor", () => {
    const columns = diabetesRef.features.map(numeric(diabetes)) as TableColumn[];
    predictRegression(result.artifact, batchOf(columns, 5)).forEach((p, i) =>
      expect(p).toBeCloseTo(diabetesRef.firstPredictions[i], 10),
    );
  });

  it('stores the train-split mean and population standard deviation per input', () => {
    diabetesRef.features.forEach((name, j) => {
      const column = Array.from(diabetes.column(name));
      const mu = column.reduce((a, b) => a + b, 0) / column.length;
      const sd = Math.sqrt(column.reduce((a, v) => a + (v - mu) ** 2, 0) / column.length);
      const p = result.artifact.preprocessing[j] as { impute: number; mean: number; scale: number };
      expect(p.mean).toBeCloseTo(mu, 15);
      expect(p.impute).toBe(p.mean);
      expectRelativelyClose(p.scale, sd, 1e-13);
    });
    expect(result.artifact).toMatchObject({
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
      inputs: diabetesRef.features.map((name) => ({ name, type: 'number' })),
      output: { name: 'y', type: 'number' },
    });
  });

  it('reproduces every sklearn prediction on the small housing set', () => {
    const housingResult = train(housingInput({ hyperparameters: NORMAL_EQUATION }));
    const columns = housingRef.features.map(numeric(housing)) as TableColumn[];
    predictRegression(housingResult.artifact, batchOf(columns, 40)).forEach((p, i) =>
      expectRelativelyClose(p, housingRef.predictions[i], 1e-12),
    );
    expect(
      Math.abs(regression(housingResult.metrics.train).r2 - housingRef.metrics.r2),
    ).toBeLessThan(1e-12);
  });
});

describe('train: collinear and constant features', () => {
  const duplicated = housingRef.withDuplicatedColumn;
  const housingColumns = housingRef.features.map(numeric(housing));
  const copy = numberColumn(housing.column('area_m2'), 'area_m2_copy');
  const constant = numberColumn(new Float64Array(40).fill(7), 'constant');
  const withCopy = (hyperparameters: Record<string, unknown>) =>
    train({ ...housingInput({ hyperparameters }), features: [...housingColumns, copy] });

  it('normal equation falls back to the minimum-norm (lstsq) fit for a duplicated column', () => {
    const result = withCopy(NORMAL_EQUATION);
    const raw = rawCoefficients(linear(result));
    duplicated.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], duplicated.coefficients[name], 1e-9),
    );
    expect(raw.coefficients[0]).toBeCloseTo(raw.coefficients[3], 8);
    predictRegression(
      result.artifact,
      batchOf([...housingColumns, copy] as TableColumn[], 40),
    ).forEach((p, i) => expectRelativelyClose(p, duplicated.predictions[i], 1e-12));
    expect(Math.abs(regression(result.metrics.train).r2 - duplicated.metrics.r2)).toBeLessThan(
      1e-12,
    );
  });

  it('gradient descent with the duplicated column converges to the same minimum norm', () => {
    const result = withCopy({ learningRate: 0.3, epochs: 3000 });
    const raw = rawCoefficients(linear(result));
    duplicated.features.forEach((name, j) =>
      expectRelativelyClose(raw.coefficients[j], duplicated.coefficients[name], 1e-9),
    );
  });

  it('gives a constant column scale 1 and coefficient 0, leaving the predictions unchanged', () => {
    const features = [...housingColumns, copy, constant];
    const result = train({ ...housingInput({ hyperparameters: NORMAL_EQUATION }), features });
    expect(result.artifact.preprocessing[4]).toEqual({ impute: 7, mean: 7, scale: 1 });
    expect(linear(result).coefficients[4]).toBe(0);
    predictRegression(result.artifact, batchOf(features as TableColumn[], 40)).forEach((p, i) =>
      expectRelativelyClose(p, housingRef.predictions[i], 1e-12),
    );
  });
});

describe('train: gradient descent', () => {
  it("reaches scikit-learn's optimum on diabetes with learningRate 0.4 and 5000 epochs", () => {
    const result = train(diabetesInput({ hyperparameters: DIABETES_GD }));
    expect(Math.abs(regression(result.metrics.train).r2 - diabetesRef.metrics.r2)).toBeLessThan(
      1e-9,
    );
    const columns = diabetesRef.features.map(numeric(diabetes)) as TableColumn[];
    predictRegression(result.artifact, batchOf(columns, 5)).forEach((p, i) =>
      expect(Math.abs(p - diabetesRef.firstPredictions[i])).toBeLessThan(1e-4),
    );
    const raw = rawCoefficients(linear(result));
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
    const r2 = regression(result.metrics.train).r2;
    expect(r2).toBeLessThan(diabetesRef.metrics.r2 - 1e-3);
    expect(r2).toBeGreaterThan(diabetesRef.metrics.r2 - 1e-2);
  });

  it('throws TrainingError mentioning learningRate 5 when the loss diverges', () => {
    const run = () => train(diabetesInput({ hyperparameters: { learningRate: 5 } }));
    expect(run).toThrow(TrainingError);
    expect(run).toThrow(/learningRate 5: .*Use a smaller learningRate; about 0\.248 /);
  });

  it('is deterministic: same input and seed give bit-identical artifacts and loss history', () => {
    const run = (seed: number) =>
      train(diabetesInput({ validationSplit: 0.2, seed, hyperparameters: DIABETES_GD }));
    const a = run(7);
    const b = run(7);
    expect(b.artifact).toEqual(a.artifact);
    expect(b.lossHistory).toEqual(a.lossHistory);
    expect(b.validationLossHistory).toEqual(a.validationLossHistory);
    expect(b.metrics).toEqual(a.metrics);
    expect(linear(run(8)).coefficients).not.toEqual(linear(a).coefficients);
  });
});

describe('train: ridge regression against scikit-learn', () => {
  let result: TrainingResult;
  beforeAll(() => (result = train(diabetesInput({ algorithm: 'ridge-regression' }))));

  it('matches Pipeline(StandardScaler, Ridge(alpha=1)) in r2 and every prediction (1e-6)', () => {
    expect(result.artifact.algorithm).toBe('ridge-regression');
    expect(Math.abs(regression(result.metrics.train).r2 - ridgeRef.metrics.r2)).toBeLessThan(1e-6);
    const columns = diabetesRef.features.map(numeric(diabetes)) as TableColumn[];
    predictRegression(result.artifact, batchOf(columns, 442)).forEach((p, i) =>
      expect(Math.abs(p - ridgeRef.predictions[i])).toBeLessThan(1e-6),
    );
    linear(result).coefficients.forEach((c, j) =>
      expect(Math.abs(c - ridgeRef.coefficients[j])).toBeLessThan(1e-6),
    );
  });
});

describe('train: missing values and string features against scikit-learn', () => {
  const columns = mixedRef.features.map((name) => mixed.column(name));
  let result: TrainingResult;
  beforeAll(() => {
    result = train(
      input((name) => mixed.column(name) as InputColumn, mixedRef.features, 'y', {
        hyperparameters: NORMAL_EQUATION,
      }),
    );
  });
  const query: TableColumn[] = [
    {
      name: 'size',
      type: 'number',
      values: Float64Array.from(mixedRef.query.size, (v) => v ?? NaN),
    },
    { name: 'color', type: 'string', values: mixedRef.query.color },
    { name: 'age', type: 'number', values: Float64Array.from(mixedRef.query.age, (v) => v ?? NaN) },
  ];

  it('predicts every training row as the ColumnTransformer + LinearRegression pipeline (1e-6)', () => {
    predictRegression(result.artifact, batchOf(columns, mixed.rowCount)).forEach((p, i) =>
      expect(Math.abs(p - mixedRef.predictions[i])).toBeLessThan(1e-6),
    );
    expect(Math.abs(regression(result.metrics.train).r2 - mixedRef.r2)).toBeLessThan(1e-9);
  });

  it('predicts rows with missing values and unknown categories as scikit-learn (1e-6)', () => {
    predictRegression(result.artifact, batchOf(query, 8)).forEach((p, i) =>
      expect(Math.abs(p - mixedRef.queryPredictions[i])).toBeLessThan(1e-6),
    );
  });

  it('writes a readable v2 artifact: inputs, per-input preprocessing, encoded coefficients', () => {
    expect(result.artifact).toMatchObject({
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
      inputs: [
        { name: 'size', type: 'number' },
        { name: 'color', type: 'string' },
        { name: 'age', type: 'number' },
      ],
      output: { name: 'y', type: 'number' },
      preprocessing: [
        { impute: expect.closeTo(mixedRef.impute.size, 12) },
        { impute: 'blue', categories: ['blue', 'green', 'red'] },
        { impute: expect.closeTo(mixedRef.impute.age, 12) },
      ],
    });
    expect(linear(result).coefficients).toHaveLength(5);
  });

  it('round-trips through JSON, validateArtifact and compilePredictor with identical predictions', () => {
    const imported = validateArtifact(JSON.parse(JSON.stringify(result.artifact)));
    expect(imported.errors).toBeUndefined();
    const again = compilePredictor(imported.artifact as ModelArtifactV2).predict(batchOf(query, 8));
    expect(again).toEqual(compilePredictor(result.artifact).predict(batchOf(query, 8)));
  });
});

describe('train: logistic regression against scikit-learn', () => {
  const fit = (table: typeof iris, ref: LogisticReference, overrides: Overrides = {}) =>
    train(
      input((name) => table.column(name) as InputColumn, ref.features, ref.target, {
        algorithm: 'logistic-regression',
        ...overrides,
      }),
    );
  let irisResult: TrainingResult;
  let cancerResult: TrainingResult;
  beforeAll(() => {
    irisResult = fit(iris, irisRef);
    cancerResult = fit(cancer, cancerRef);
  });

  it.each([
    ['iris (3 string classes)', () => irisResult, irisRef],
    ['breast cancer (numeric 0/1)', () => cancerResult, cancerRef],
  ])('%s: accuracy within 0.01 and log loss close to the sklearn pipeline', (_, get, ref) => {
    const result = get();
    const metrics = classification(result.metrics.train);
    expect(Math.abs(metrics.accuracy - ref.metrics.accuracy)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(metrics.logLoss - ref.metrics.logLoss)).toBeLessThan(
      1e-3 * ref.metrics.logLoss,
    );
    expect(metrics.classes).toEqual(ref.classes);
    expect(result.artifact).toMatchObject({ classes: ref.classes });
    const total = metrics.confusionMatrix.flat().reduce((a, b) => a + b, 0);
    expect(total).toBe(ref.rows);
  });

  it('keeps string labels in order and numeric labels as numbers', () => {
    expect(irisResult.artifact).toMatchObject({
      algorithm: 'logistic-regression',
      output: { name: 'species', type: 'string' },
      classes: ['setosa', 'versicolor', 'virginica'],
    });
    expect(cancerResult.artifact).toMatchObject({
      output: { name: 'benign', type: 'number' },
      classes: [0, 1],
    });
  });

  it('stores one row of weights for 2 classes and one per class for more', () => {
    const weights = (r: TrainingResult) => (r.artifact as { weights: number[][] }).weights;
    expect(weights(cancerResult)).toHaveLength(1);
    expect(weights(cancerResult)[0]).toHaveLength(30);
    expect(weights(irisResult)).toHaveLength(3);
    expect(weights(irisResult)[0]).toHaveLength(4);
  });

  it("serves probabilities close to scikit-learn's and labels as the argmax", () => {
    const columns = irisRef.features.map((name) => iris.column(name));
    const output = compilePredictor(irisResult.artifact).predict(batchOf(columns, 5));
    if (output.kind !== 'classification') throw new Error('expected a classification');
    irisRef.firstProbabilities
      .flat()
      .forEach((p, i) => expect(Math.abs(output.probabilities[i] - p)).toBeLessThan(1e-3));
    expect(output.labels).toEqual(Array(5).fill('setosa'));
  });

  it('round-trips through JSON with identical probabilities', () => {
    const columns = cancerRef.features.map((name) => cancer.column(name));
    const imported = validateArtifact(JSON.parse(JSON.stringify(cancerResult.artifact)));
    const predict = (artifact: ModelArtifactV2): PredictionOutput =>
      compilePredictor(artifact).predict(batchOf(columns, 50));
    expect(predict(imported.artifact as ModelArtifactV2)).toEqual(predict(cancerResult.artifact));
  });

  it('splits stratified: every class in training, validation scored over all classes', () => {
    const result = fit(iris, irisRef, { validationSplit: 0.2, seed: 3 });
    expect(result).toMatchObject({ trainRows: 120, validationRows: 30 });
    const validation = classification(result.metrics.validation);
    expect(validation.confusionMatrix.map((row) => row.reduce((a, b) => a + b))).toEqual([
      10, 10, 10,
    ]);
  });

  it('passes classWeight to the fitter as per-row weights', () => {
    const spy = jest.spyOn(logisticRegression, 'fitLogistic');
    const labels = ['a', 'a', 'a', 'b', 'a', 'b', 'a', 'a'];
    const small = (classWeight: unknown) =>
      train({
        ...input((name) => irisLike(name, labels), ['x'], 'label', {
          algorithm: 'logistic-regression',
          hyperparameters: { classWeight },
        }),
      });
    small('balanced');
    // n / (classes × count): a: 8 / (2·6), b: 8 / (2·2)
    const balanced = spy.mock.calls[0][0].sampleWeights as Float64Array;
    expect(Array.from(balanced)).toEqual(labels.map((l) => (l === 'a' ? 8 / 12 : 2)));
    small({ b: 3 });
    expect(Array.from(spy.mock.calls[1][0].sampleWeights as Float64Array)).toEqual(
      labels.map((l) => (l === 'a' ? 1 : 3)),
    );
    small('none');
    expect(spy.mock.calls[2][0].sampleWeights).toBeNull();
    expect(() => small({ c: 2 })).toThrow(
      new TrainingError(
        'classWeight names "c", not a class of the target; the classes are "a", "b".',
      ),
    );
  });

  it('matches classWeight labels by their string form for numeric classes', () => {
    const spy = jest.spyOn(logisticRegression, 'fitLogistic');
    fit(cancer, cancerRef, { hyperparameters: { classWeight: { '0': 2 } } });
    const weights = spy.mock.calls[0][0].sampleWeights as Float64Array;
    const benign = cancer.column('benign').values as Float64Array;
    expect(Array.from(weights)).toEqual(Array.from(benign, (y) => (y === 0 ? 2 : 1)));
  });
});

/** A feature x = row index and a label column. */
function irisLike(name: string, labels: (string | null)[]): InputColumn {
  return name === 'x'
    ? numberColumn(
        Float64Array.from(labels, (_, i) => i),
        'x',
      )
    : { name, type: 'string', values: labels };
}

describe('train: what reaches the fitter', () => {
  it('passes a validation set only when validationSplit > 0, encoded from the columns', () => {
    const spy = jest.spyOn(linearRegression, 'fitLinear');
    train(housingInput({ hyperparameters: NORMAL_EQUATION }));
    expect(spy.mock.calls[0][1]).toBeNull();
    train(housingInput({ validationSplit: 0.25, hyperparameters: NORMAL_EQUATION }));
    const [training, validation] = spy.mock.calls[1];
    expect(training.x).toMatchObject({ rows: 30, cols: 3 });
    expect(validation?.x).toMatchObject({ rows: 10, cols: 3 });
    const rows = trainValidationSplit(40, 0.25, 1).validation;
    expect(Array.from(validation?.y ?? [])).toEqual(
      Array.from(rows, (row) => housing.column('price')[row]),
    );
  });

  it('reports the validation metrics and loss history the fitter monitored', () => {
    const result = train(
      diabetesInput({ validationSplit: 0.2, hyperparameters: { ...DIABETES_GD, epochs: 10 } }),
    );
    expect(result.validationLossHistory).toHaveLength(result.lossHistory.length);
    expect(result.metrics.validation).not.toBeNull();
  });
});

describe('train: validation split', () => {
  let result: TrainingResult;
  beforeAll(() => {
    result = train(
      diabetesInput({ validationSplit: 0.2, seed: 42, hyperparameters: NORMAL_EQUATION }),
    );
  });
  const split = trainValidationSplit(442, 0.2, 42);

  it('holds out Math.round(0.2 * 442) = 88 rows', () => {
    expect(result.trainRows).toBe(354);
    expect(result.validationRows).toBe(88);
  });

  it('fits the standardisation on the training rows only', () => {
    const bmi = diabetes.column('bmi');
    const trainMean = Array.from(split.train, (i) => bmi[i]).reduce((a, b) => a + b, 0) / 354;
    const allMean = bmi.reduce((a, b) => a + b, 0) / 442;
    expect((result.artifact.preprocessing[2] as { mean: number }).mean).toBeCloseTo(trainMean, 15);
    expect(Math.abs(trainMean - allMean)).toBeGreaterThan(1e-4);
  });

  it('scores each split with the predictions the served model makes', () => {
    const score = (rows: Uint32Array) => {
      const columns = diabetesRef.features.map((f) =>
        numberColumn(
          Float64Array.from(rows, (row) => diabetes.column(f)[row]),
          f,
        ),
      ) as TableColumn[];
      const y = Float64Array.from(rows, (row) => diabetes.column('y')[row]);
      return regressionMetrics(
        y,
        predictRegression(result.artifact, batchOf(columns, rows.length)),
      );
    };
    expect(result.metrics.train).toEqual(score(split.train));
    expect(result.metrics.validation).toEqual(score(split.validation));
    expect(regression(result.metrics.validation).r2).toBeLessThan(
      regression(result.metrics.train).r2,
    );
  });
});

describe('train: input checks', () => {
  const slice = (column: InputColumn, rows: number): InputColumn =>
    column.type === 'number'
      ? { ...column, values: column.values.slice(0, rows) }
      : { ...column, values: column.values.slice(0, rows) };

  const refusal = (message: string) =>
    new TrainingError(`The dataset does not fit this training job: ${message}.`);

  it('requires at least 2 training rows and says how many there are', () => {
    const tiny = (rows: number, validationSplit: number) => () => {
      const base = housingInput({ validationSplit, hyperparameters: NORMAL_EQUATION });
      train({
        ...base,
        features: base.features.map((c) => slice(c, rows)),
        target: slice(base.target, rows),
      });
    };
    expect(tiny(3, 0.5)).toThrow(
      refusal(
        'validationSplit 0.5 leaves 1 of 3 rows for training; at least 2 are needed: ' +
          'lower validationSplit or upload more rows',
      ),
    );
    expect(tiny(1, 0)).toThrow(
      refusal('the dataset has 1 row(s); training needs at least 2: upload more rows'),
    );
    expect(tiny(2, 0)).not.toThrow();
    // 3 rows at 0.3: round(0.9) = 1 validation row, 2 train, as the splitter does.
    expect(tiny(3, 0.3)).not.toThrow();
  });

  it('rejects bad user choices with TrainingError', () => {
    const base = housingInput();
    const [area, rooms] = base.features;
    const cases: [Partial<TrainingInput>, RegExp][] = [
      [{ validationSplit: 0.95 }, /validationSplit must be between 0 and 0.9, got 0.95/],
      [{ features: [area, area, rooms] }, /area_m2 is listed more than once/],
      [{ target: rooms }, /rooms is the target; remove it from the features/],
      [{ features: [] }, /at least one feature/],
      [{ algorithm: 'random-forest' as never }, /unknown algorithm random-forest/],
    ];
    for (const [overrides, message] of cases) {
      expect(() => train({ ...base, ...overrides })).toThrow(message);
    }
  });

  it('names the column and row of an infinite value', () => {
    const base = housingInput();
    const rooms = housing.column('rooms').slice();
    rooms[4] = Infinity;
    const features = [base.features[0], numberColumn(rooms, 'rooms'), base.features[2]];
    expect(() => train({ ...base, features })).toThrow(
      new TrainingError('Column "rooms" has an infinite value (Infinity) in data row 5.'),
    );
  });

  it('imputes missing feature values instead of refusing them', () => {
    const base = housingInput({ hyperparameters: NORMAL_EQUATION });
    const rooms = housing.column('rooms').slice();
    rooms[4] = NaN;
    const features = [base.features[0], numberColumn(rooms, 'rooms'), base.features[2]];
    const result = train({ ...base, features });
    const present = Array.from(rooms).filter((v) => !Number.isNaN(v));
    expect((result.artifact.preprocessing[1] as { impute: number }).impute).toBeCloseTo(
      present.reduce((a, b) => a + b, 0) / present.length,
      12,
    );
  });

  it('treats a feature column of another length as a programming error (RangeError)', () => {
    const base = housingInput();
    const short = slice(base.features[0], 10);
    expect(() => train({ ...base, features: [short, ...base.features.slice(1)] })).toThrow(
      RangeError,
    );
  });

  it('needs a numeric target without missing values for regression', () => {
    const base = housingInput();
    const price = housing.column('price').slice();
    price[0] = NaN;
    price[7] = NaN;
    expect(() => train({ ...base, target: numberColumn(price, 'price') })).toThrow(
      refusal(
        'column price is missing in 2 of 40 rows; a target cannot be imputed: ' +
          'fill them in or drop those rows',
      ),
    );
    const label: InputColumn = { name: 'label', type: 'string', values: Array(40).fill('x') };
    expect(() => train({ ...base, algorithm: 'ridge-regression', target: label })).toThrow(
      refusal(
        'column label holds strings (class labels); ridge-regression predicts numbers, ' +
          'use logistic-regression',
      ),
    );
  });

  it('needs class labels in every row, at least 2 classes, and not a measurement', () => {
    const classify = (target: InputColumn) => () =>
      train({
        ...input((name) => irisLike(name, Array(target.values.length).fill('a')), ['x'], 'label', {
          algorithm: 'logistic-regression',
        }),
        target,
      });
    const strings = (values: (string | null)[]): InputColumn => ({
      name: 'label',
      type: 'string',
      values,
    });
    expect(classify(strings(['a', null, 'b', null, 'a', 'b']))).toThrow(
      refusal(
        'column label is missing in 2 of 6 rows; a target cannot be imputed: ' +
          'fill them in or drop those rows',
      ),
    );
    expect(classify(strings(['a', 'a', 'a']))).toThrow(
      refusal(
        'column label has a single class; logistic-regression needs at least 2 classes ' +
          'to tell apart',
      ),
    );
    expect(classify(numberColumn(Float64Array.from([0.5, 1.25, 2, 3.5]), 'label'))).toThrow(
      refusal(
        'column label has 4 distinct values in 4 rows, too many to be class labels ' +
          '(at most 100, repeating); to predict a number, use linear-regression or ridge-regression',
      ),
    );
    const many = Float64Array.from({ length: 1000 }, (_, i) => i % 101);
    expect(classify(numberColumn(many, 'label'))).toThrow(/101 distinct values in 1000 rows/);
    // The same limit for text labels as for numbers (the API's rule).
    const manyStrings = Array.from({ length: 1000 }, (_, i) => `c${i % 101}`);
    expect(classify(strings(manyStrings))).toThrow(/101 distinct labels in 1000 rows/);
    expect(classify(strings(['a', 'b', 'c', 'd', 'a']))).toThrow(
      /4 distinct labels in 5 rows; logistic-regression needs at most 100 class labels that repeat/,
    );
  });
});
