import { LinearModelArtifactV2, LogisticModelArtifactV2, ModelArtifactV1 } from './artifact';
import { PredictionBatch, PredictionOutput, compilePredictor, nonFiniteRows } from './predictor';

const batch = (
  rowCount: number,
  numbers: number[],
  strings?: (string | null)[],
): PredictionBatch => ({
  rowCount,
  numbers: Float64Array.from(numbers),
  strings: strings ?? null,
});
const values = (output: PredictionOutput) => {
  if (output.kind !== 'regression') throw new Error('expected a regression');
  return Array.from(output.values);
};
const classification = (output: PredictionOutput) => {
  if (output.kind !== 'classification') throw new Error('expected a classification');
  return output;
};

/** y = 1 + 2a − 3b: the v1 document every v1 test starts from. */
const base: ModelArtifactV1 = {
  format: 'modeldock/v1',
  algorithm: 'linear-regression',
  inputs: [
    { name: 'a', type: 'number' },
    { name: 'b', type: 'number' },
  ],
  output: { name: 'y', type: 'number' },
  coefficients: [2, -3],
  intercept: 1,
};

describe('compilePredictor: modeldock/v1', () => {
  it('predicts b + w·x for each row of a row-major buffer', () => {
    const predictor = compilePredictor(base);
    // 1 + 2 - 3 = 0; 1 + 1 + 6 = 8; 1 + 20 = 21
    expect(values(predictor.predict(batch(3, [1, 1, 0.5, -2, 10, 0])))).toEqual([0, 8, 21]);
  });

  it('folds standardisation into the weights, bit for bit as v1 always served', () => {
    const artifact: ModelArtifactV1 = {
      ...base,
      preprocessing: { standardize: { mean: [10, -4], scale: [2, 0.5] } },
      coefficients: [1.5, 0.25],
      intercept: 7,
    };
    const rows = [
      [12, -3],
      [9.5, -4.25],
      [0, 0],
    ];
    const w = [1.5 / 2, 0.25 / 0.5];
    const b = 7 - w[0] * 10 - w[1] * -4;
    const folded = rows.map(([a, c]) => b + w[0] * a + w[1] * c);
    expect(values(compilePredictor(artifact).predict(batch(3, rows.flat())))).toEqual(folded);
    folded.forEach((value, i) =>
      expect(value).toBeCloseTo(
        7 + 1.5 * ((rows[i][0] - 10) / 2) + 0.25 * ((rows[i][1] + 4) / 0.5),
        12,
      ),
    );
  });

  it('describes itself: inputs in coefficient order, regression, no missing values', () => {
    expect(compilePredictor(base)).toMatchObject({
      inputs: base.inputs,
      kind: 'regression',
      classes: null,
      acceptsMissing: false,
    });
  });

  it('returns an empty array for zero rows', () => {
    expect(values(compilePredictor(base).predict(batch(0, [])))).toHaveLength(0);
  });

  it('rejects a buffer whose length is not rowCount × input count', () => {
    const predictor = compilePredictor(base);
    expect(() => predictor.predict(batch(2, [1, 2, 3]))).toThrow(RangeError);
    expect(() => predictor.predict(batch(1, [1, 2, 3, 4]))).toThrow(/Expected 1 rows of 2 inputs/);
  });
});

describe('compilePredictor: modeldock/v2 regression', () => {
  // Encoded columns: [size, color=blue, color=red, age].
  const artifact: LinearModelArtifactV2 = {
    format: 'modeldock/v2',
    algorithm: 'linear-regression',
    inputs: [
      { name: 'size', type: 'number' },
      { name: 'color', type: 'string' },
      { name: 'age', type: 'number' },
    ],
    output: { name: 'price', type: 'number' },
    preprocessing: [
      { impute: 50, mean: 40, scale: 10 },
      { impute: 'red', categories: ['blue', 'red'] },
      { impute: 3, mean: 5, scale: 2 },
    ],
    coefficients: [20, -4, 6, -1],
    intercept: 100,
  };
  const expected = (size: number, color: 'blue' | 'red' | null, age: number) =>
    100 +
    20 * ((size - 40) / 10) +
    (color === 'blue' ? -4 : color === 'red' ? 6 : 0) -
    (age - 5) / 2;

  it('standardises numbers and adds the weight of the row’s category', () => {
    const output = compilePredictor(artifact).predict(
      batch(2, [60, 0, 9, 30, 0, 5], [null, 'blue', null, null, 'red', null]),
    );
    values(output).forEach((value, i) =>
      expect(value).toBeCloseTo([expected(60, 'blue', 9), expected(30, 'red', 5)][i], 12),
    );
  });

  it('imputes NaN numbers and null strings with the artifact’s values', () => {
    const output = compilePredictor(artifact).predict(batch(1, [NaN, 0, NaN], [null, null, null]));
    expect(values(output)[0]).toBeCloseTo(expected(50, 'red', 3), 12);
  });

  it('gives an unknown category none of the categories’ weights (all-zero one-hot)', () => {
    const output = compilePredictor(artifact).predict(
      batch(2, [60, 0, 9, 60, 0, 9], [null, 'green', null, null, 'Blue', null]),
    );
    expect(values(output)).toEqual([expected(60, null, 9), expected(60, null, 9)]);
  });

  it('describes itself as a regression that accepts missing values', () => {
    expect(compilePredictor(artifact)).toMatchObject({
      inputs: artifact.inputs,
      kind: 'regression',
      classes: null,
      acceptsMissing: true,
    });
  });

  it('keeps full precision when a mean is huge against its scale', () => {
    // Folding the mean into the intercept would compute 1e11-sized terms and keep ~5 digits.
    const precise: LinearModelArtifactV2 = {
      ...artifact,
      inputs: [{ name: 'x', type: 'number' }],
      preprocessing: [{ impute: 1e8, mean: 1e8, scale: 1e-3 }],
      coefficients: [1],
      intercept: 0,
    };
    const x = 1e8 + 0.002;
    expect(values(compilePredictor(precise).predict(batch(1, [x])))[0]).toBe((x - 1e8) / 1e-3);
  });

  it('needs the strings of a model with string inputs, and not otherwise', () => {
    expect(() => compilePredictor(artifact).predict(batch(1, [1, 0, 2]))).toThrow(
      /got 3 numbers and no strings/,
    );
    const numeric: LinearModelArtifactV2 = {
      ...artifact,
      inputs: [{ name: 'x', type: 'number' }],
      preprocessing: [{ impute: 0, mean: 0, scale: 1 }],
      coefficients: [2],
      intercept: 1,
    };
    expect(values(compilePredictor(numeric).predict(batch(2, [1, NaN])))).toEqual([3, 1]);
  });
});

describe('compilePredictor: modeldock/v2 classification', () => {
  const binary: LogisticModelArtifactV2 = {
    format: 'modeldock/v2',
    algorithm: 'logistic-regression',
    inputs: [
      { name: 'x', type: 'number' },
      { name: 'kind', type: 'string' },
    ],
    output: { name: 'label', type: 'number' },
    preprocessing: [
      { impute: 0, mean: 1, scale: 2 },
      { impute: 'a', categories: ['a', 'b'] },
    ],
    classes: [0, 1],
    weights: [[4, 0.5, -0.5]],
    intercepts: [-1],
  };
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

  it('gives [1 − p, p] with p the sigmoid of the score of classes[1], and the likelier label', () => {
    const predictor = compilePredictor(binary);
    expect(predictor).toMatchObject({
      kind: 'classification',
      classes: [0, 1],
      acceptsMissing: true,
    });
    // z = -1 + 4·(x − 1)/2 ± 0.5
    const output = classification(
      predictor.predict(batch(3, [3, 0, -1, 0, NaN, 0], [null, 'b', null, 'a', null, null])),
    );
    const z = [-1 + 4 - 0.5, -1 - 4 + 0.5, -1 - 2 + 0.5];
    z.forEach((score, i) => {
      expect(output.probabilities[2 * i + 1]).toBeCloseTo(sigmoid(score), 15);
      expect(output.probabilities[2 * i]).toBeCloseTo(1 - sigmoid(score), 15);
    });
    expect(output.labels).toEqual([1, 0, 0]);
    expect(output.classes).toEqual([0, 1]);
  });

  it('stays finite and exact in the tails, and breaks a tie towards the first class', () => {
    const predictor = compilePredictor({ ...binary, weights: [[1, 0, 0]], intercepts: [0] });
    // z = (x − 1)/2: 2000 and −2000 overflow a naive exp; x = 1 gives p = 0.5 exactly.
    const output = classification(
      predictor.predict(batch(3, [4001, 0, -3999, 0, 1, 0], Array(6).fill(null))),
    );
    expect(Array.from(output.probabilities)).toEqual([0, 1, 1, 0, 0.5, 0.5]);
    expect(output.labels).toEqual([1, 0, 0]);
    const tail = classification(predictor.predict(batch(1, [81, 0], [null, null])));
    expect(tail.probabilities[0]).toBeCloseTo(Math.exp(-40), 30);
  });

  const multi: LogisticModelArtifactV2 = {
    format: 'modeldock/v2',
    algorithm: 'logistic-regression',
    inputs: [
      { name: 'x', type: 'number' },
      { name: 'y', type: 'number' },
    ],
    output: { name: 'species', type: 'string' },
    preprocessing: [
      { impute: 0, mean: 0, scale: 1 },
      { impute: 0, mean: 0, scale: 1 },
    ],
    classes: ['cat', 'dog', 'fish'],
    weights: [
      [1, 0],
      [0, 1],
      [-1, -1],
    ],
    intercepts: [0, 0, 0.5],
  };

  it('gives the softmax of one score per class, stable for large scores', () => {
    const softmax = (z: number[]) => {
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      return e.map((v) => v / e.reduce((a, b) => a + b, 0));
    };
    const output = classification(
      compilePredictor(multi).predict(batch(3, [2, 1, 0, 0, 1000, 999])),
    );
    const expected = [softmax([2, 1, -2.5]), softmax([0, 0, 0.5]), softmax([1000, 999, -1998.5])];
    expected.flat().forEach((p, i) => expect(output.probabilities[i]).toBeCloseTo(p, 15));
    expect(output.labels).toEqual(['cat', 'fish', 'cat']);
  });

  it('labels a tie with the first of the tied classes', () => {
    const output = classification(compilePredictor(multi).predict(batch(1, [1, 1])));
    expect(output.labels).toEqual(['cat']);
  });
});

describe('nonFiniteRows: inputs whose arithmetic overflows', () => {
  const linear: ModelArtifactV1 = { ...base, coefficients: [2, 3], intercept: 0 };

  it('names the rows of a regression whose prediction is ±Infinity or NaN', () => {
    // 2e308 overflows; 2e308 + (−3e308) is Infinity − Infinity = NaN.
    const output = compilePredictor(linear).predict(
      batch(4, [1, 1, 1e308, 0, 1e308, -1e308, -1e308, 1]),
    );
    expect(nonFiniteRows(output)).toEqual([1, 2, 3]);
    expect(nonFiniteRows(output, 2)).toEqual([1, 2]);
  });

  it('is empty when every prediction is finite', () => {
    expect(nonFiniteRows(compilePredictor(linear).predict(batch(2, [1, 2, 3, 4])))).toEqual([]);
  });

  const classifier = (k: number): LogisticModelArtifactV2 => ({
    format: 'modeldock/v2',
    algorithm: 'logistic-regression',
    inputs: [{ name: 'x', type: 'number' }],
    output: { name: 'label', type: 'string' },
    // A tiny scale: huge values become scores beyond Float64 through standardisation.
    preprocessing: [{ impute: 0, mean: 0, scale: 1e-10 }],
    classes: k === 1 ? ['no', 'yes'] : ['a', 'b', 'c'],
    weights: k === 1 ? [[1]] : [[1], [-1], [0]],
    intercepts: k === 1 ? [0] : [0, 0, 0],
  });

  it('finds a binary classifier whose score overflowed, instead of a confident 0/1', () => {
    const output = compilePredictor(classifier(1)).predict(batch(3, [1, 1e300, -1e300]));
    expect(nonFiniteRows(output)).toEqual([1, 2]);
    const probabilities = classification(output).probabilities;
    expect(Number.isFinite(probabilities[0]) && Number.isFinite(probabilities[1])).toBe(true);
  });

  it('finds a multiclass row whose scores overflowed the softmax', () => {
    const output = compilePredictor(classifier(3)).predict(batch(3, [1e300, 2, -1e300]));
    expect(nonFiniteRows(output)).toEqual([0, 2]);
  });
});
