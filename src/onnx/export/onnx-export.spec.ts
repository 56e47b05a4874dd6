import { onnx } from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import {
  ARTIFACT_FORMAT_V1,
  Algorithm,
  FeatureSpec,
  PredictionOutput,
  Random,
  TrainingInput,
  compilePredictor,
  resolveHyperparameters,
  train,
  validateArtifact,
} from '../../ml';
import { exportOnnx } from './onnx-export';

type ModelArtifact = NonNullable<ReturnType<typeof validateArtifact>['artifact']>;
type Column = TrainingInput['features'][number];
/** One value per feature: a number (NaN = missing) or a string (null = missing). */
type Row = (number | string | null)[];

const TOLERANCE = 1e-9;

// ---------------------------------------------------------------------------------------------
// Synthetic data

/** Uniform in [-1, 1), from the seeded PRNG the trainer uses. */
function uniform(random: Random): number {
  return random.nextUint32() / 2 ** 31 - 1;
}

const COLORS = ['red', 'green', 'blue'];

/** n rows of x1, x2, x3 (numbers, ~5% missing) and color (3 categories, ~5% missing). */
function synthetic(n: number, seed: number) {
  const random = new Random(seed);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const x3 = new Float64Array(n);
  const color: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    x1[i] = 10 + 5 * uniform(random);
    x2[i] = 200 * uniform(random);
    x3[i] = uniform(random);
    color.push(COLORS[random.nextInt(3)]);
  }
  // Missing values only after the draws, so the values above do not depend on them.
  for (let i = 0; i < n; i += 19) x1[i] = NaN;
  for (let i = 3; i < n; i += 23) x3[i] = NaN;
  for (let i = 5; i < n; i += 17) color[i] = null;
  const noise = () => 0.1 * uniform(random);
  const get = (column: Float64Array, i: number) => (Number.isNaN(column[i]) ? 0 : column[i]);
  const colorEffect = (i: number) => ({ red: 3, green: -2, blue: 0.5 })[color[i] ?? 'red'] ?? 0;
  const linear = (i: number) =>
    2 * get(x1, i) - 0.03 * get(x2, i) + 4 * get(x3, i) + colorEffect(i) + 7 + noise();
  return {
    number: (name: string, values: Float64Array): Column => ({ name, type: 'number', values }),
    x1,
    x2,
    x3,
    color,
    y: Float64Array.from({ length: n }, (_, i) => linear(i)),
    /** Score for a binary/multinomial target, centred around 0. */
    score: (i: number) => linear(i) - 27,
  };
}

function trainModel(
  algorithm: Algorithm,
  features: Column[],
  target: Column,
  hyperparameters: Record<string, unknown> = {},
): ModelArtifact {
  const resolved = resolveHyperparameters(algorithm, hyperparameters);
  expect(resolved.errors).toEqual([]);
  return train({
    algorithm,
    features,
    target,
    hyperparameters: resolved.hyperparameters,
    validationSplit: 0,
    seed: 1,
  }).artifact;
}

const data = synthetic(240, 7);
const x1 = data.number('x1', data.x1);
const x2 = data.number('x2', data.x2);
const x3 = data.number('x3', data.x3);
const color: Column = { name: 'color', type: 'string', values: data.color };
const y = data.number('y', data.y);

// ---------------------------------------------------------------------------------------------
// The rows both sides predict

/** Typical rows, a missing value in every feature, an unknown category, exact category ties. */
function queryRows(inputs: FeatureSpec[], imputes: boolean): Row[] {
  const random = new Random(99);
  const rows: Row[] = [];
  for (let r = 0; r < 12; r++) {
    rows.push(
      inputs.map((input, j) =>
        input.type === 'string' ? COLORS[(r + j) % 3] : 30 * uniform(random) + (j === 1 ? 50 : 0),
      ),
    );
  }
  if (imputes) {
    inputs.forEach((input, j) => {
      const row = rows[j % rows.length].slice();
      row[j] = input.type === 'string' ? null : NaN;
      rows.push(row);
    });
    // Every value missing at once.
    rows.push(inputs.map((input) => (input.type === 'string' ? null : NaN)));
  }
  const unknown = inputs.findIndex((input) => input.type === 'string');
  if (unknown >= 0) {
    const row = rows[0].slice();
    row[unknown] = 'purple';
    rows.push(row);
    const caseSensitive = rows[1].slice();
    caseSensitive[unknown] = 'Red';
    rows.push(caseSensitive);
  }
  // Large values, and zeros.
  rows.push(inputs.map((input) => (input.type === 'string' ? COLORS[2] : 1e4)));
  rows.push(inputs.map((input) => (input.type === 'string' ? COLORS[1] : 0)));
  return rows;
}

function ours(artifact: ModelArtifact, rows: Row[]): PredictionOutput {
  const n = artifact.inputs.length;
  const hasStrings = artifact.inputs.some((input) => input.type === 'string');
  const numbers = new Float64Array(rows.length * n).fill(NaN);
  const strings: (string | null)[] | null = hasStrings
    ? new Array(rows.length * n).fill(null)
    : null;
  rows.forEach((row, r) =>
    row.forEach((value, j) => {
      if (typeof value === 'number') numbers[r * n + j] = value;
      else if (strings) strings[r * n + j] = value;
    }),
  );
  return compilePredictor(artifact).predict({ rowCount: rows.length, numbers, strings });
}

/** The ONNX feeds for the same rows: one [N, F] `input`, or one [N, 1] tensor per feature. */
function feeds(artifact: ModelArtifact, rows: Row[]): Record<string, Tensor> {
  const inputs = artifact.inputs;
  if (inputs.every((input) => input.type === 'number')) {
    const values = Float64Array.from(rows.flat() as number[]);
    return { input: new Tensor('float64', values, [rows.length, inputs.length]) };
  }
  const out: Record<string, Tensor> = {};
  inputs.forEach((input, j) => {
    const column = rows.map((row) => row[j]);
    out[input.name] =
      input.type === 'number'
        ? new Tensor('float64', Float64Array.from(column as number[]), [rows.length, 1])
        : new Tensor(
            'string',
            column.map((v) => (v === null ? '' : (v as string))),
            [rows.length, 1],
          );
  });
  return out;
}

async function load(artifact: ModelArtifact, name = 'm', version = 3) {
  const bytes = exportOnnx(artifact, { modelName: name, version });
  const session = await InferenceSession.create(bytes);
  return { bytes, session };
}

/** Largest |a − b| over the values; NaN only where both are NaN, ±Infinity only where equal. */
function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      expect([i, a]).toEqual([i, e]);
      continue;
    }
    max = Math.max(max, Math.abs(a - e));
  }
  return max;
}

/** Runs both and compares; returns the largest difference seen and the labels. */
async function compare(
  artifact: ModelArtifact,
  rows: Row[],
): Promise<{ difference: number; labels?: unknown[] }> {
  const { session } = await load(artifact);
  const expected = ours(artifact, rows);
  const result = await session.run(feeds(artifact, rows));
  if (expected.kind === 'regression') {
    expect(result.predict.dims).toEqual([rows.length]);
    expect(result.predict.type).toBe('float64');
    const difference = maxDifference(result.predict.data as Float64Array, expected.values);
    expect(difference).toBeLessThanOrEqual(TOLERANCE);
    return { difference };
  }
  const classes = expected.classes;
  expect(result.predict_proba.dims).toEqual([rows.length, classes.length]);
  expect(result.predict_proba.type).toBe('float64');
  const difference = maxDifference(
    result.predict_proba.data as Float64Array,
    expected.probabilities,
  );
  expect(difference).toBeLessThanOrEqual(TOLERANCE);
  expect(result.predict.dims).toEqual([rows.length]);
  const labels = Array.from(result.predict.data as ArrayLike<unknown>, (label) =>
    typeof label === 'bigint' ? Number(label) : label,
  );
  expect(labels).toEqual(expected.labels);
  return { difference, labels };
}

function decode(bytes: Uint8Array) {
  const model = onnx.ModelProto.decode(bytes);
  const props = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  return { model, props };
}

// ---------------------------------------------------------------------------------------------

describe('exportOnnx', () => {
  const models: Record<string, ModelArtifact> = {};
  beforeAll(() => {
    const numbers = [x1, x2, x3];
    models.numbers = trainModel('linear-regression', numbers, y, { optimizer: 'normal-equation' });
    models.mixed = trainModel('linear-regression', [x1, color, x3], y, {
      optimizer: 'normal-equation',
    });
    models.ridge = trainModel('ridge-regression', [x1, x2, x3, color], y, {
      optimizer: 'normal-equation',
      l2: 5,
    });
    const n = data.y.length;
    const binaryLabels = Array.from({ length: n }, (_, i) => (data.score(i) > 0 ? 'yes' : 'no'));
    models.binary = trainModel('logistic-regression', numbers, {
      name: 'bought',
      type: 'string',
      values: binaryLabels,
    });
    const tertiles = Float64Array.from({ length: n }, (_, i) => {
      const s = data.score(i);
      return s < -6 ? 1 : s < 6 ? 2 : 3;
    });
    models.multinomial = trainModel('logistic-regression', [x1, color, x3], {
      name: 'band',
      type: 'number',
      values: tertiles,
    });
    const v1 = validateArtifact({
      format: ARTIFACT_FORMAT_V1,
      algorithm: 'linear-regression',
      inputs: [
        { name: 'sqft', type: 'number' },
        { name: 'age', type: 'number' },
      ],
      output: { name: 'price', type: 'number' },
      preprocessing: { standardize: { mean: [1500, 20], scale: [400, 8] } },
      coefficients: [52000.5, -3100.25],
      intercept: 310000,
    });
    expect(v1.errors).toBeUndefined();
    models.v1 = v1.artifact as ModelArtifact;
  });

  it('trained the models the spec needs', () => {
    expect(models.numbers).toMatchObject({
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
    });
    expect(models.binary).toMatchObject({ classes: ['no', 'yes'], weights: [expect.any(Array)] });
    expect(models.multinomial).toMatchObject({ classes: [1, 2, 3] });
    expect((models.multinomial as { weights: number[][] }).weights).toHaveLength(3);
    expect(models.ridge).toMatchObject({ algorithm: 'ridge-regression' });
  });

  it.each([
    ['numbers only (one [N, F] input, NaN imputed)', 'numbers'],
    ['numbers and a string feature (per-feature inputs, "" imputed, unknown → zeros)', 'mixed'],
    ['ridge regression with a string feature', 'ridge'],
    ['binary logistic regression with string labels', 'binary'],
    ['multinomial logistic regression with integer labels and a string feature', 'multinomial'],
    ['hand-written modeldock/v1 (standardisation folded, no imputation)', 'v1'],
  ])('%s predicts what ModelDock predicts', async (_, key) => {
    const artifact = models[key];
    const rows = queryRows(artifact.inputs, artifact.format !== ARTIFACT_FORMAT_V1);
    const { labels } = await compare(artifact, rows);
    if (labels) {
      // The rows reach more than one class, so the labels say something.
      expect(new Set(labels).size).toBeGreaterThan(1);
    }
  });

  it('a v1 model passes NaN through: the prediction is NaN, as our predictor computes it', async () => {
    const rows: Row[] = [
      [NaN, 10],
      [1000, 5],
    ];
    const { session } = await load(models.v1);
    const result = await session.run(feeds(models.v1, rows));
    const values = Array.from(result.predict.data as Float64Array);
    expect(Number.isNaN(values[0])).toBe(true);
    expect((ours(models.v1, rows) as { values: Float64Array }).values[0]).toBeNaN();
    expect(values[1]).toBeCloseTo(
      310000 + (52000.5 * (1000 - 1500)) / 400 - (3100.25 * -15) / 8,
      6,
    );
  });

  it('predicts a batch of many rows and of none', async () => {
    const artifact = models.multinomial;
    const many = Array.from({ length: 50 }, () => queryRows(artifact.inputs, true)).flat();
    await compare(artifact, many);
    await compare(models.numbers, []);
  });

  it('breaks probability ties towards the first class, like our predictor', async () => {
    // Equal weights for every class: every probability ties, the label is classes[0].
    const tie: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'logistic-regression',
      inputs: [{ name: 'x', type: 'number' }],
      output: { name: 'label', type: 'string' },
      preprocessing: [{ impute: 0, mean: 0, scale: 1 }],
      classes: ['c', 'a', 'b'],
      weights: [[1], [1], [1]],
      intercepts: [0.5, 0.5, 0.5],
    };
    await compare(tie, [[1], [-2], [NaN]]);
    const { session } = await load(tie);
    const result = await session.run(feeds(tie, [[1]]));
    expect(Array.from(result.predict.data as string[])).toEqual(['c']);
    // A binary model at score 0: P = [0.5, 0.5], the label is classes[0].
    const binaryTie: ModelArtifact = {
      ...tie,
      output: { name: 'label', type: 'number' },
      classes: [0.5, 2.25],
      weights: [[1]],
      intercepts: [0],
    };
    await compare(binaryTie, [[0], [1], [-1]]);
  });

  it('keeps double precision where onnxruntime would fuse a scalar into a float attribute', async () => {
    // One number feature: a Div by its [1, 1] scale right before MatMul is what onnxruntime's
    // MatMulScaleFusion folds into FusedMatMul's alpha, a float32 attribute (1e-8 relative).
    const artifact: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
      inputs: [{ name: 'x', type: 'number' }],
      output: { name: 'y', type: 'number' },
      preprocessing: [{ impute: 0.3, mean: 1.1, scale: 3.7 }],
      coefficients: [123456.789],
      intercept: 0.1,
    };
    await compare(artifact, [[1], [2.5], [-1e3], [NaN], [7.123456789]]);
  });

  it('overflowed scores: NaN probabilities and the first class, like our predictor', async () => {
    const artifact: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'logistic-regression',
      inputs: [{ name: 'x', type: 'number' }],
      output: { name: 'label', type: 'string' },
      preprocessing: [{ impute: 0, mean: 0, scale: 1e-300 }],
      classes: ['a', 'b'],
      weights: [[1]],
      intercepts: [0],
    };
    const multinomial: ModelArtifact = {
      ...artifact,
      classes: ['a', 'b', 'c'],
      weights: [[1], [-1], [0.5]],
      intercepts: [0, 0, 0],
    };
    const rows: Row[] = [[1e10], [-1e10], [Infinity], [-Infinity], [1]];
    await compare(artifact, rows);
    await compare(multinomial, rows);
    const expected = ours(multinomial, rows) as { probabilities: Float64Array; labels: unknown[] };
    expect(expected.probabilities[0]).toBeNaN();
    expect(expected.labels).toEqual(['a', 'a', 'a', 'a', 'a']);
  });

  it('gives non-integer numeric classes as DOUBLE labels', async () => {
    const artifact: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'logistic-regression',
      inputs: [{ name: 'x', type: 'number' }],
      output: { name: 'label', type: 'number' },
      preprocessing: [{ impute: 0, mean: 0, scale: 1 }],
      classes: [0.5, 2.25],
      weights: [[3]],
      intercepts: [-1],
    };
    const { session } = await load(artifact);
    expect(session.outputMetadata).toContainEqual(
      expect.objectContaining({ name: 'predict', type: 'float64' }),
    );
    await compare(artifact, [[0], [1], [-5], [NaN], [40]]);
  });

  it('declares the tabular input and the outputs of a number-only model', async () => {
    const { bytes, session } = await load(models.binary, 'churn', 7);
    expect(session.inputNames).toEqual(['input']);
    expect(session.inputMetadata).toEqual([
      { name: 'input', isTensor: true, type: 'float64', shape: ['N', 3] },
    ]);
    expect(session.outputMetadata).toEqual([
      { name: 'predict_proba', isTensor: true, type: 'float64', shape: ['N', 2] },
      { name: 'predict', isTensor: true, type: 'string', shape: ['N'] },
    ]);
    const { model, props } = decode(bytes);
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(Number(model.modelVersion)).toBe(7);
    expect(model.graph?.name).toBe('churn');
    expect(props).toEqual({
      'modeldock.model': 'churn',
      'modeldock.version': '7',
      'modeldock.algorithm': 'logistic-regression',
      'modeldock.format': 'modeldock/v2',
      'modeldock.inputs': JSON.stringify([
        { name: 'x1', type: 'number' },
        { name: 'x2', type: 'number' },
        { name: 'x3', type: 'number' },
      ]),
      'modeldock.input_layout': 'matrix',
      'modeldock.missing': JSON.stringify({ x1: 'NaN', x2: 'NaN', x3: 'NaN' }),
      'modeldock.output': JSON.stringify({ name: 'bought', type: 'string' }),
      'modeldock.classes': JSON.stringify(['no', 'yes']),
    });
    // Standard ai.onnx operators only.
    expect(model.graph?.node?.every((n) => !n.domain)).toBe(true);
  });

  it('declares one input per feature when a feature is a string, and INT64 integer labels', async () => {
    const { bytes, session } = await load(models.multinomial);
    expect(session.inputMetadata).toEqual([
      { name: 'x1', isTensor: true, type: 'float64', shape: ['N', 1] },
      { name: 'color', isTensor: true, type: 'string', shape: ['N', 1] },
      { name: 'x3', isTensor: true, type: 'float64', shape: ['N', 1] },
    ]);
    expect(session.outputMetadata).toEqual([
      { name: 'predict_proba', isTensor: true, type: 'float64', shape: ['N', 3] },
      { name: 'predict', isTensor: true, type: 'int64', shape: ['N'] },
    ]);
    const { model, props } = decode(bytes);
    // Equal on strings is standard from opset 19.
    expect(Number(model.irVersion)).toBe(9);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 19]]);
    expect(JSON.parse(props['modeldock.inputs'])).toEqual([
      { name: 'x1', type: 'number' },
      { name: 'color', type: 'string' },
      { name: 'x3', type: 'number' },
    ]);
    expect(props['modeldock.input_layout']).toBe('per-feature');
    expect(JSON.parse(props['modeldock.missing'])).toEqual({ x1: 'NaN', color: '', x3: 'NaN' });
    expect(JSON.parse(props['modeldock.classes'])).toEqual([1, 2, 3]);
  });

  it('declares the regression output and v1 metadata', async () => {
    const { bytes, session } = await load(models.v1, 'houses', 1);
    expect(session.inputMetadata).toEqual([
      { name: 'input', isTensor: true, type: 'float64', shape: ['N', 2] },
    ]);
    expect(session.outputMetadata).toEqual([
      { name: 'predict', isTensor: true, type: 'float64', shape: ['N'] },
    ]);
    const { props } = decode(bytes);
    expect(props).toMatchObject({
      'modeldock.format': 'modeldock/v1',
      'modeldock.algorithm': 'linear-regression',
      'modeldock.missing': JSON.stringify({ sqft: null, age: null }),
    });
    expect(props['modeldock.classes']).toBeUndefined();
  });

  it('takes feature names as they are, even ones like its internal values', async () => {
    const artifact: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
      inputs: [
        { name: 'weights', type: 'number' },
        { name: 'a b/c ü', type: 'string' },
        { name: 'input', type: 'number' },
      ],
      output: { name: 'y', type: 'number' },
      preprocessing: [
        { impute: 1, mean: 2, scale: 3 },
        { impute: 'x', categories: ['x', 'y', 'ü'] },
        { impute: -1, mean: 0, scale: 1 },
      ],
      coefficients: [1.5, 10, 20, 30, -2],
      intercept: 0.25,
    };
    const { session } = await load(artifact);
    expect(session.inputNames).toEqual(['weights', 'a b/c ü', 'input']);
    await compare(artifact, [
      [4, 'ü', 2],
      [NaN, null, NaN],
      [1, 'nope', 0],
      [1, 'y', 0],
    ]);
  });

  it('treats "" as a category, not as missing, when the artifact lists it', async () => {
    const artifact: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
      inputs: [{ name: 's', type: 'string' }],
      output: { name: 'y', type: 'number' },
      preprocessing: [{ impute: 'a', categories: ['a', ''] }],
      coefficients: [1, 100],
      intercept: 0,
    };
    const { bytes, session } = await load(artifact);
    const result = await session.run({ s: new Tensor('string', ['', 'a', 'zz'], [3, 1]) });
    expect(Array.from(result.predict.data as Float64Array)).toEqual([100, 1, 0]);
    expect(JSON.parse(decode(bytes).props['modeldock.missing'])).toEqual({ s: null });
  });

  it('refuses a string-input model with a feature named like an output', () => {
    const artifact: ModelArtifact = {
      format: 'modeldock/v2',
      algorithm: 'linear-regression',
      inputs: [{ name: 'predict', type: 'string' }],
      output: { name: 'y', type: 'number' },
      preprocessing: [{ impute: 'a', categories: ['a'] }],
      coefficients: [1],
      intercept: 0,
    };
    expect(() => exportOnnx(artifact, { modelName: 'm', version: 1 })).toThrow(
      /feature "predict" would be a graph input with the same name as the output/,
    );
  });
});
