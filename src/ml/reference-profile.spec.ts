import { readDriftReferences, sample } from '../../test/fixtures/drift/drift-references';
import { resolveHyperparameters } from './hyperparameters';
import { compareColumn } from './drift';
import { compilePredictor } from './predictor';
import type { InputColumn } from './preprocessing';
import {
  CategoricalProfile,
  MAX_PROFILE_CATEGORIES,
  NumericProfile,
  OTHER_CATEGORY,
  REFERENCE_SAMPLE_SIZE,
  profileReference,
  quantiles,
} from './reference-profile';
import { Random } from './random';
import { trainValidationSplit } from './split';
import { train } from './train';

const references = readDriftReferences();
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

const numbers = (name: string, values: ArrayLike<number>): InputColumn => ({
  name,
  type: 'number',
  values: Float64Array.from(values),
});
const strings = (name: string, values: (string | null)[]): InputColumn => ({
  name,
  type: 'string',
  values,
});
const allRows = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

function profileOf(column: InputColumn, rows = allRows(column.values.length), seed = 1) {
  return profileReference([column], rows, null, seed);
}

describe('profileReference: numeric columns', () => {
  it.each(references.quantiles.map((c) => [c.name, c] as const))(
    'matches numpy.quantile deciles and the bins built on them (%s)',
    (_name, reference) => {
      const values = sample(reference.recipe);
      expect(quantiles(values, DECILES)).toEqual(reference.deciles);
      const profile = profileOf(numbers('x', values)).profile.features[0] as NumericProfile;
      expect(profile.edges).toEqual(reference.edges);
      expect(profile.counts).toEqual(reference.counts);
    },
  );

  // Columns long enough for the histogram path: bins as a sort and a count of every value give them.
  it.each([
    [
      'continuous',
      (r: () => number) => Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()),
    ],
    ['rounded, many ties', (r: () => number) => Math.round(r() * 40) / 4],
    ['heavy-tailed', (r: () => number) => Math.exp(20 * r())],
    ['one far outlier', (r: () => number) => (r() < 1e-5 ? 1e12 : r())],
    ['tied deciles', (r: () => number) => (r() < 0.55 ? 3 : r() * 100)],
  ])('bins a long %s column as sorting and counting every value does', (_kind, draw) => {
    const random = new Random(11);
    const uniform = () => (random.nextUint32() + 0.5) / 4294967296;
    const values = Float64Array.from({ length: 50_000 }, () => draw(uniform));
    values[123] = Math.max(...values.subarray(0, 1000)) * 2; // a lone maximum
    const sorted = values.slice().sort();
    const max = sorted[sorted.length - 1];
    const edges: number[] = [];
    for (const q of DECILES) {
      const decile = sorted[Math.floor((sorted.length - 1) * q)];
      if (decile < max && (edges.length === 0 || decile > edges[edges.length - 1]))
        edges.push(decile);
    }
    const counts = Array.from(
      { length: edges.length + 1 },
      (_, bin) =>
        sorted.filter(
          (v) => (bin === 0 || v > edges[bin - 1]) && (bin === edges.length || v <= edges[bin]),
        ).length,
    );
    const profile = profileOf(numbers('x', values)).profile.features[0] as NumericProfile;
    expect(profile.edges).toEqual(edges);
    expect(profile.counts).toEqual(counts);
    expect(edges.length).toBeGreaterThan(1);
  });

  it('gives a 0/1 column one edge (0) and two bins, a constant column one bin', () => {
    const binary = profileOf(numbers('b', [0, 1, 1, 0, 0, 0, 1, 0, 0, 0])).profile
      .features[0] as NumericProfile;
    expect(binary).toMatchObject({ edges: [0], counts: [7, 3], min: 0, max: 1, mean: 0.3 });
    const constant = profileOf(numbers('c', [2.5, 2.5, 2.5])).profile.features[0] as NumericProfile;
    expect(constant).toMatchObject({
      edges: [],
      counts: [3],
      min: 2.5,
      max: 2.5,
      mean: 2.5,
      std: 0,
    });
  });

  it('gives each value of a column of few distinct values its own bin, however rare', () => {
    // 3 zeros in 100: every decile is 1, so deciles alone would leave one bin.
    const rare = profileOf(
      numbers(
        'flag',
        Array.from({ length: 100 }, (_, i) => (i < 3 ? 0 : 1)),
      ),
    ).profile.features[0] as NumericProfile;
    expect(rare).toMatchObject({ edges: [0], counts: [3, 97] });
    // A rating of 1..5 with unequal shares: five bins, one per rating.
    const ratings = [1, 1, 2, 3, 3, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5];
    const rating = profileOf(numbers('stars', ratings)).profile.features[0] as NumericProfile;
    expect(rating).toMatchObject({ edges: [1, 2, 3, 4], counts: [2, 1, 4, 1, 12] });
    // Eleven distinct values: deciles again.
    const eleven = profileOf(
      numbers(
        'x',
        Array.from({ length: 110 }, (_, i) => i % 11),
      ),
    ).profile.features[0] as NumericProfile;
    expect(eleven.edges).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('rates a rare flag that becomes common as drift', () => {
    const reference = profileOf(
      numbers(
        'flag',
        Array.from({ length: 1000 }, (_, i) => (i % 25 === 0 ? 0 : 1)),
      ),
    );
    const profile = reference.profile.features[0] as NumericProfile;
    const live = Float64Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? 0 : 1));
    const drift = compareColumn(profile, reference.samples.flag, { kind: 'number', values: live });
    expect(drift).toMatchObject({ status: 'drift', rated: true });
  });

  it('counts missing values apart and profiles only the given rows', () => {
    const column = numbers('x', [100, 1, NaN, 2, 3, NaN, 4, 200]);
    const profile = profileOf(column, Uint32Array.from([1, 2, 3, 4, 5, 6])).profile
      .features[0] as NumericProfile;
    expect(profile).toMatchObject({ count: 6, missing: 2, min: 1, max: 4, mean: 2.5 });
    expect(profile.std).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(profile.counts.reduce((a, b) => a + b)).toBe(4);
  });

  it('gives a column with no values no edges, one empty bin and NaN statistics', () => {
    const { profile, samples } = profileOf(numbers('x', [NaN, NaN]));
    expect(profile.features[0]).toMatchObject({ count: 2, missing: 2, edges: [], counts: [0] });
    expect((profile.features[0] as NumericProfile).mean).toBeNaN();
    expect(samples.x).toHaveLength(0);
  });

  it('keeps every value, sorted, as the sample of a small column', () => {
    const { samples } = profileOf(numbers('x', [3, NaN, 1, 2, 1]));
    expect(Array.from(samples.x)).toEqual([1, 1, 2, 3]);
  });

  it('samples a large column uniformly without replacement, the same for the same seed', () => {
    const n = 3 * REFERENCE_SAMPLE_SIZE;
    const column = numbers(
      'x',
      Array.from({ length: n }, (_, i) => i),
    );
    const a = profileOf(column, allRows(n), 7).samples.x;
    expect(a).toHaveLength(REFERENCE_SAMPLE_SIZE);
    expect(new Set(a).size).toBe(REFERENCE_SAMPLE_SIZE);
    expect(a.every((v, i) => i === 0 || v > a[i - 1])).toBe(true);
    expect(profileOf(column, allRows(n), 7).samples.x).toEqual(a);
    expect(profileOf(column, allRows(n), 8).samples.x).not.toEqual(a);
    // A uniform sample of 0 … n−1: about a third below n/3, mean near n/2.
    const low = a.filter((v) => v < n / 3).length;
    expect(Math.abs(low - REFERENCE_SAMPLE_SIZE / 3)).toBeLessThan(250);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - n / 2)).toBeLessThan(300);
  });
});

describe('profileReference: string columns', () => {
  it('counts categories and missing values', () => {
    const profile = profileOf(strings('s', ['a', 'b', null, 'a', 'c', 'a', null])).profile
      .features[0] as CategoricalProfile;
    expect(profile).toEqual({
      kind: 'string',
      name: 's',
      count: 7,
      missing: 2,
      categories: { a: 3, b: 1, c: 1 },
    });
  });

  it('keeps the most frequent categories and folds the rest into OTHER_CATEGORY', () => {
    // Category k appears k + 1 times: the 50 most frequent are 10 … 59.
    const values = Array.from({ length: 60 }, (_, k) => Array<string>(k + 1).fill(`c${k}`)).flat();
    const profile = profileOf(strings('s', values)).profile.features[0] as CategoricalProfile;
    const names = Object.keys(profile.categories);
    expect(names).toHaveLength(MAX_PROFILE_CATEGORIES + 1);
    expect(names).toContain('c10');
    expect(names).not.toContain('c9');
    expect(profile.categories[OTHER_CATEGORY]).toBe((10 * 11) / 2);
  });

  it('keeps a category named like an Object property as a category', () => {
    const profile = profileOf(strings('s', ['__proto__', 'constructor'])).profile
      .features[0] as CategoricalProfile;
    expect(Object.entries(profile.categories)).toEqual([
      ['__proto__', 1],
      ['constructor', 1],
    ]);
  });
});

describe('profileReference: predictions', () => {
  it('profiles predictions aligned with the rows, numbers with a sample, labels by category', () => {
    const features = [numbers('x', [1, 2, 3, 4])];
    const rows = Uint32Array.from([3, 1]);
    const regression = profileReference(features, rows, numbers('y', [40, 20]), 1);
    expect(regression.profile.rows).toBe(2);
    expect(regression.profile.predictions).toMatchObject({ kind: 'number', count: 2, min: 20 });
    expect(Array.from(regression.samples.y)).toEqual([20, 40]);
    expect(Array.from(regression.samples.x)).toEqual([2, 4]);

    const classification = profileReference(features, rows, strings('label', ['1', '0']), 1);
    expect(classification.profile.predictions).toMatchObject({ categories: { '0': 1, '1': 1 } });
    expect(profileReference(features, rows, null, 1).profile.predictions).toBeNull();
  });
});

describe('train: the reference profile of a run', () => {
  const n = 400;
  const x = Float64Array.from({ length: n }, (_, i) => (i % 17 === 0 ? NaN : (i * 7) % 50));
  const colour = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 'red' : 'blue'));
  const features: InputColumn[] = [numbers('x', x), strings('colour', colour)];
  const run = (algorithm: 'linear-regression' | 'logistic-regression', target: InputColumn) =>
    train({
      algorithm,
      features,
      target,
      hyperparameters: resolveHyperparameters(algorithm).hyperparameters,
      validationSplit: 0.25,
      seed: 3,
    });

  it("profiles a regressor's training split and its predicted values on it", () => {
    const y = numbers(
      'y',
      Array.from(x, (v, i) => (v === v ? 2 * v : 1) + (i % 3)),
    );
    const result = run('linear-regression', y);
    const { profile, samples } = result.reference;
    expect(profile.rows).toBe(result.trainRows);
    expect(profile.features.map((f) => [f.name, f.kind, f.count])).toEqual([
      ['x', 'number', result.trainRows],
      ['colour', 'string', result.trainRows],
    ]);
    const trainRows = trainValidationSplit(n, 0.25, 3).train;
    const missing = Array.from(trainRows).filter((row) => row % 17 === 0).length;
    expect(profile.features[0].missing).toBe(missing);

    // The predictions' sample is the model's outputs on the training rows, sorted.
    const predictor = compilePredictor(result.artifact);
    const output = predictor.predict({
      rowCount: trainRows.length,
      numbers: Float64Array.from(Array.from(trainRows).flatMap((row) => [x[row], 0])),
      strings: Array.from(trainRows).flatMap((row) => [null, colour[row]]),
    });
    expect(output.kind).toBe('regression');
    const expected = Float64Array.from((output as { values: Float64Array }).values).sort();
    expect(profile.predictions).toMatchObject({ kind: 'number', name: 'y', missing: 0 });
    expect(samples.y).toEqual(expected);
    expect(Object.keys(samples)).toEqual(['x', 'y']);
  });

  it("profiles a classifier's predicted labels as strings, numeric classes included", () => {
    const label = numbers(
      'label',
      Array.from(colour, (c) => (c === 'red' ? 1 : 0)),
    );
    const result = run('logistic-regression', label);
    const predictions = result.reference.profile.predictions as CategoricalProfile;
    expect(predictions.kind).toBe('string');
    expect(Object.keys(predictions.categories).sort()).toEqual(['0', '1']);
    expect(predictions.count).toBe(result.trainRows);
  });
});
