import { MixedReference, readJsonFixture, readTable } from '../../test/fixtures/read-fixture';
import { InputColumn, encodeRows, encodedRows, fitPreprocessing } from './preprocessing';
import { TrainingError } from './training-error';

const mixed = readTable('mixed.csv');
const mixedRef = readJsonFixture<MixedReference>('mixed.sklearn.json');

const numbers = (name: string, values: number[]): InputColumn => ({
  name,
  type: 'number',
  values: Float64Array.from(values),
});
const strings = (name: string, values: (string | null)[]): InputColumn => ({
  name,
  type: 'string',
  values,
});
const all = (count: number) => Uint32Array.from({ length: count }, (_, i) => i);

describe('fitPreprocessing', () => {
  it("matches scikit-learn's SimpleImputer, StandardScaler and OneHotEncoder on mixed.csv", () => {
    const features = mixedRef.features.map((name) => mixed.column(name));
    const [size, color, age] = fitPreprocessing(features, all(mixed.rowCount));
    expect(size).toEqual({
      impute: expect.closeTo(mixedRef.impute.size, 12),
      mean: expect.closeTo(mixedRef.mean.size, 12),
      scale: expect.closeTo(mixedRef.scale.size, 12),
    });
    expect(age).toEqual({
      impute: expect.closeTo(mixedRef.impute.age, 12),
      mean: expect.closeTo(mixedRef.mean.age, 12),
      scale: expect.closeTo(mixedRef.scale.age, 12),
    });
    // blue and red are both most frequent (13 rows each): the smaller wins, as in scikit-learn.
    expect(color).toEqual({ impute: mixedRef.impute.color, categories: mixedRef.categories });
  });

  it('imputes the mean of the present values and counts imputed rows in the deviation', () => {
    // Imputed [1, 2, 3, 2]: mean 2, population variance (1 + 0 + 1 + 0) / 4.
    expect(fitPreprocessing([numbers('x', [1, NaN, 3, 2])], all(4))).toEqual([
      { impute: 2, mean: 2, scale: Math.sqrt(0.5) },
    ]);
  });

  it('gives a constant column its value as mean and scale 1, even when its mean rounds', () => {
    expect(fitPreprocessing([numbers('x', [0.1, 0.1, NaN, 0.1])], all(4))).toEqual([
      { impute: 0.1, mean: 0.1, scale: 1 },
    ]);
  });

  it('fits on the given rows only', () => {
    const [x, s] = fitPreprocessing(
      [numbers('x', [1, 100, 3]), strings('s', ['b', 'z', 'a'])],
      Uint32Array.from([0, 2]),
    );
    expect(x).toEqual({ impute: 2, mean: 2, scale: 1 });
    expect(s).toEqual({ impute: 'a', categories: ['a', 'b'] });
  });

  it('sorts categories by code unit and imputes the most frequent', () => {
    const [s] = fitPreprocessing([strings('s', ['b', 'B', null, 'b', 'a', 'é'])], all(6));
    expect(s).toEqual({ impute: 'b', categories: ['B', 'a', 'b', 'é'] });
  });

  it('refuses a feature without any value in the training rows, naming it', () => {
    expect(() => fitPreprocessing([numbers('x', [NaN, NaN, 1])], all(2))).toThrow(
      new TrainingError(
        'Feature "x" has no values in the 2 training rows; ' +
          'remove it from the features or fill in its values.',
      ),
    );
    expect(() => fitPreprocessing([strings('s', [null, null])], all(2))).toThrow(
      /"s" has no values/,
    );
  });
});

describe('encodeRows', () => {
  const features = [
    numbers('x', [1, NaN, 3, 5]),
    strings('s', ['b', null, 'c', 'a']),
    numbers('y', [10, 20, 30, 40]),
  ];
  const preprocessing = fitPreprocessing(features, all(3));

  // x: [1, 2 (imputed), 3], mean 2, scale √(2/3); s: categories [b, c], impute b;
  // y: [10, 20, 30], mean 20, scale √(200/3).
  const sx = Math.sqrt(2 / 3);
  const sy = Math.sqrt(200 / 3);

  it('writes numbers standardised and strings one-hot, side by side in input order', () => {
    const matrix = encodeRows(features, preprocessing, all(3));
    expect(matrix).toMatchObject({ rows: 3, cols: 4 });
    const rows = [
      [-1 / sx, 1, 0, -10 / sy],
      [0, 1, 0, 0],
      [1 / sx, 0, 1, 10 / sy],
    ];
    expect(Array.from(matrix.data)).toEqual(rows.flat());
  });

  it('encodes a category unseen in training as all zeros, and reads only the rows given', () => {
    const matrix = encodeRows(features, preprocessing, Uint32Array.from([3, 0]));
    expect(matrix.rows).toBe(2);
    expect(Array.from(matrix.data)).toEqual([3 / sx, 0, 0, 20 / sy, -1 / sx, 1, 0, -10 / sy]);
  });

  it('encodes every row in order (validationSplit 0) as it encodes rows through an index', () => {
    const inOrder = encodeRows(features, preprocessing, all(4)).data;
    const reversed = encodeRows(features, preprocessing, Uint32Array.from([3, 2, 1, 0])).data;
    const cols = 4;
    for (let i = 0; i < 4; i++) {
      expect(inOrder.subarray(i * cols, (i + 1) * cols)).toEqual(
        reversed.subarray((3 - i) * cols, (4 - i) * cols),
      );
    }
  });

  it('streams the same values block by block, pass after pass, as the stored matrix holds', () => {
    // Enough rows for several blocks, strings included: a reused block must not keep old ones.
    const count = 10_000;
    const many = [
      numbers(
        'x',
        Array.from({ length: count }, (_, i) => (i % 7 === 0 ? NaN : Math.sin(i))),
      ),
      strings(
        's',
        Array.from({ length: count }, (_, i) => ['a', 'b', null, 'c'][i % 4]),
      ),
    ];
    const rows = Uint32Array.from({ length: count - 3 }, (_, i) => count - 1 - i);
    const fitted = fitPreprocessing(many, rows);
    const expected = encodeRows(many, fitted, rows).data;
    const streamed = encodedRows(many, fitted, rows);
    expect(streamed.blockRows).toBeLessThan(rows.length);
    // Streamed passes first, then the matrix kept from some pass on: every pass reads the same.
    for (let pass = 0; pass < 4; pass++) {
      const read = new Float64Array(expected.length);
      for (let start = 0; start < rows.length; start += streamed.blockRows) {
        const block = streamed.block(start, Math.min(streamed.blockRows, rows.length - start));
        read.set(block, start * streamed.cols);
      }
      expect(read).toEqual(expected);
    }
    expect(streamed.matrix().data).toEqual(expected);
  });
});
