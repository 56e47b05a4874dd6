import { LinearModelArtifact } from './artifact';
import { compilePredictor } from './predictor';

const base: LinearModelArtifact = {
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

describe('compilePredictor', () => {
  it('predicts b + w·x for each row of a row-major buffer', () => {
    const predictor = compilePredictor(base);
    const out = predictor.predict(Float64Array.from([1, 1, 0.5, -2, 10, 0]), 3);
    // 1 + 2 - 3 = 0; 1 + 1 + 6 = 8; 1 + 20 = 21
    expect(Array.from(out)).toEqual([0, 8, 21]);
  });

  it('folds standardisation into the weights: same result as standardising each row first', () => {
    const artifact: LinearModelArtifact = {
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
    const expected = rows.map(([a, b]) => 7 + 1.5 * ((a - 10) / 2) + 0.25 * ((b + 4) / 0.5));
    const out = compilePredictor(artifact).predict(Float64Array.from(rows.flat()), 3);
    out.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 12));
  });

  it('exposes the input specification in coefficient order', () => {
    expect(compilePredictor(base).inputs).toEqual(base.inputs);
  });

  it('returns an empty array for zero rows', () => {
    expect(compilePredictor(base).predict(new Float64Array(0), 0)).toHaveLength(0);
  });

  it('rejects a buffer whose length is not rowCount × feature count', () => {
    const predictor = compilePredictor(base);
    expect(() => predictor.predict(Float64Array.from([1, 2, 3]), 2)).toThrow(RangeError);
    expect(() => predictor.predict(Float64Array.from([1, 2, 3, 4]), 1)).toThrow(
      /Expected 1 rows of 2/,
    );
  });
});
