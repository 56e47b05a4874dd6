import { readDriftReferences, sample } from '../../test/fixtures/drift/drift-references';
import {
  MIN_RATED_ROWS,
  PSI_EPSILON,
  UNSEEN_CATEGORY,
  compareColumn,
  jensenShannon,
  populationStabilityIndex,
} from './drift';
import type { InputColumn } from './preprocessing';
import { Random } from './random';
import { NumericProfile, OTHER_CATEGORY, profileReference } from './reference-profile';

const references = readDriftReferences();

const relative = (ours: number, scipy: number) =>
  ours === scipy ? 0 : Math.abs(ours - scipy) / Math.abs(scipy);

/** Profile and sample of one training column (every row in the training split). */
function reference(column: InputColumn) {
  const rows = Uint32Array.from({ length: column.values.length }, (_, i) => i);
  const { profile, samples } = profileReference([column], rows, null, 1);
  return { profile: profile.features[0], sample: samples[column.name] };
}

const numbers = (values: Float64Array) => ({ kind: 'number' as const, values });
const strings = (values: (string | null)[]) => ({ kind: 'string' as const, values });

describe('compareColumn: numbers', () => {
  it('rates a 0/1 feature ok, PSI near 0, when live values are drawn from the training rows', () => {
    const training = sample({ seed: 1, n: 2000, dist: 'bernoulli', p: 0.3, loc: 0, scale: 1 });
    const { profile, sample: kept } = reference({ name: 'b', type: 'number', values: training });
    const random = new Random(2);
    const live = Float64Array.from({ length: 5000 }, () => training[random.nextInt(2000)]);

    const drift = compareColumn(profile, kept, numbers(live));
    expect(drift).toMatchObject({ status: 'ok', rated: true, sampleSize: 5000 });
    expect(drift.bins?.edges).toEqual([0]);
    expect(drift.psi).toBeLessThan(0.005);
    expect(drift.ks?.pValue).toBeGreaterThan(0.05);
  });

  it('rates a normal shifted by one standard deviation as drift', () => {
    const training = sample({ seed: 3, n: 5000, dist: 'bell', loc: 0, scale: 1 });
    const { profile, sample: kept } = reference({ name: 'x', type: 'number', values: training });
    const sd = 1 / Math.sqrt(3);
    const live = sample({ seed: 4, n: 2000, dist: 'bell', loc: sd, scale: 1 });

    const drift = compareColumn(profile, kept, numbers(live));
    expect(drift.status).toBe('drift');
    expect(drift.psi).toBeGreaterThan(0.5);
    expect(drift.ks?.pValue).toBeLessThan(1e-100);
    expect(drift.wasserstein).toBeCloseTo(sd, 1);
  });

  it('rates the same distribution ok and a smaller shift as a warning', () => {
    const training = sample({ seed: 5, n: 10000, dist: 'bell', loc: 0, scale: 1 });
    const { profile, sample: kept } = reference({ name: 'x', type: 'number', values: training });
    const same = sample({ seed: 6, n: 10000, dist: 'bell', loc: 0, scale: 1 });
    expect(compareColumn(profile, kept, numbers(same)).status).toBe('ok');
    const shifted = sample({ seed: 7, n: 10000, dist: 'bell', loc: 0.2, scale: 1 });
    expect(compareColumn(profile, kept, numbers(shifted)).status).toBe('warning');
  });

  it('keeps PSI finite when a bin is empty on one side, flooring its share at PSI_EPSILON', () => {
    const training = Float64Array.from({ length: 1000 }, (_, i) => i);
    const { profile, sample: kept } = reference({ name: 'x', type: 'number', values: training });
    // Every live value in the first bin (≤ 99): nine bins are empty live.
    const live = Float64Array.from({ length: 500 }, (_, i) => i % 100);

    const drift = compareColumn(profile, kept, numbers(live));
    expect(drift.bins?.live).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const byHand =
      (1 - 0.1) * Math.log(1 / 0.1) + 9 * (PSI_EPSILON - 0.1) * Math.log(PSI_EPSILON / 0.1);
    expect(drift.psi).toBeCloseTo(byHand, 12);
    expect(Number.isFinite(drift.psi)).toBe(true);
    expect(drift.status).toBe('drift');
  });

  it('leaves a feature with fewer than MIN_RATED_ROWS live values unrated, status ok', () => {
    const training = sample({ seed: 8, n: 1000, dist: 'bell', loc: 0, scale: 1 });
    const { profile, sample: kept } = reference({ name: 'x', type: 'number', values: training });
    const shifted = sample({ seed: 9, n: MIN_RATED_ROWS, dist: 'bell', loc: 2, scale: 1 });

    const few = compareColumn(profile, kept, numbers(shifted.subarray(0, MIN_RATED_ROWS - 1)));
    expect(few).toMatchObject({ status: 'ok', rated: false, sampleSize: MIN_RATED_ROWS - 1 });
    expect(few.psi).toBeGreaterThan(1);
    expect(compareColumn(profile, kept, numbers(shifted))).toMatchObject({
      status: 'drift',
      rated: true,
    });
  });

  it('reports missing rates on both sides and compares only the present values', () => {
    const training = Float64Array.from([1, 2, NaN, 4]);
    const { profile, sample: kept } = reference({ name: 'x', type: 'number', values: training });
    const drift = compareColumn(profile, kept, numbers(Float64Array.from([NaN, NaN, 2, 3])));
    expect(drift).toMatchObject({
      missingRate: { reference: 0.25, live: 0.5 },
      sampleSize: 2,
      referenceSize: 3,
    });
  });

  it('gives no PSI, KS or rating when every live value is missing', () => {
    const { profile, sample: kept } = reference({
      name: 'x',
      type: 'number',
      values: Float64Array.from([1, 2, 3]),
    });
    const drift = compareColumn(profile, kept, numbers(Float64Array.from([NaN, NaN])));
    expect(drift).toMatchObject({ psi: null, rated: false, status: 'ok', sampleSize: 0 });
    expect(drift.ks).toBeUndefined();
    expect(drift.missingRate.live).toBe(1);
  });

  it.each(references.ks2samp.map((c) => [c.name, c] as const))(
    'reports KS and Wasserstein as scipy does against the reference sample (%s)',
    (_name, ref) => {
      const { profile, sample: kept } = reference({
        name: 'x',
        type: 'number',
        values: sample(ref.reference),
      });
      const drift = compareColumn(profile, kept, numbers(sample(ref.live)));
      expect(relative(drift.ks?.statistic as number, ref.statistic)).toBeLessThan(1e-12);
      const p = drift.ks?.pValue as number;
      expect(ref.pValue >= 1e-10 ? relative(p, ref.pValue) < 1e-6 : p < 1e-10).toBe(true);
      expect(relative(drift.wasserstein as number, ref.wasserstein)).toBeLessThan(1e-9);
    },
  );

  it('refuses a live column of the other kind', () => {
    const { profile } = reference({ name: 'x', type: 'number', values: Float64Array.of(1) });
    expect(() => compareColumn(profile, undefined, strings(['a']))).toThrow(RangeError);
  });
});

describe('compareColumn: strings', () => {
  const column = (counts: Record<string, number>): InputColumn => ({
    name: 's',
    type: 'string',
    values: Object.entries(counts).flatMap(([name, n]) => Array<string>(n).fill(name)),
  });
  const liveOf = (counts: Record<string, number>) =>
    strings(column(counts).values as (string | null)[]);

  it('rates the same proportions ok and moved proportions as drift', () => {
    const { profile } = reference(column({ a: 500, b: 300, c: 200 }));
    const same = compareColumn(profile, undefined, liveOf({ a: 250, b: 150, c: 100 }));
    expect(same).toMatchObject({ status: 'ok', psi: 0, jensenShannon: 0, rated: true });
    const moved = compareColumn(profile, undefined, liveOf({ a: 100, b: 150, c: 250 }));
    expect(moved.status).toBe('drift');
    expect(moved.psi).toBeCloseTo(
      populationStabilityIndex([0.5, 0.3, 0.2, 0], [0.2, 0.3, 0.5, 0]),
      15,
    );
  });

  it('counts live categories the profile does not know in an unseen bucket', () => {
    const { profile } = reference(column({ a: 600, b: 400 }));
    const drift = compareColumn(profile, undefined, liveOf({ a: 300, b: 300, z: 200, y: 200 }));
    expect(drift.categories).toEqual([
      { name: 'a', reference: 0.6, live: 0.3 },
      { name: 'b', reference: 0.4, live: 0.3 },
      { name: UNSEEN_CATEGORY, reference: 0, live: 0.4 },
    ]);
    expect(drift.psi).toBeCloseTo(populationStabilityIndex([0.6, 0.4, 0], [0.3, 0.3, 0.4]), 15);
    expect(drift.jensenShannon).toBeCloseTo(jensenShannon([600, 400, 0], [300, 300, 400]), 15);
    expect(drift.status).toBe('drift');
  });

  it('counts unknown live categories under OTHER_CATEGORY when the profile folded rare ones', () => {
    const counts = Object.fromEntries(Array.from({ length: 60 }, (_, k) => [`c${k}`, 100 - k]));
    const { profile } = reference(column(counts));
    // c59 was folded into OTHER_CATEGORY; "new" is unknown: both may be among the folded ones.
    const drift = compareColumn(profile, undefined, liveOf({ c0: 100, c59: 30, new: 20 }));
    const other = drift.categories?.find((c) => c.name === OTHER_CATEGORY);
    expect(other?.live).toBeCloseTo(50 / 150, 15);
    expect(drift.categories?.some((c) => c.name === UNSEEN_CATEGORY)).toBe(false);
  });

  it('reports missing rates and leaves a small sample unrated', () => {
    const { profile } = reference({ name: 's', type: 'string', values: ['a', null, 'b', 'a'] });
    const drift = compareColumn(profile, undefined, strings(['b', null, null, null]));
    expect(drift).toMatchObject({
      missingRate: { reference: 0.25, live: 0.75 },
      rated: false,
      status: 'ok',
      sampleSize: 1,
      referenceSize: 3,
    });
  });
});

describe('jensenShannon', () => {
  it.each(references.jensenShannon.map((c) => [c.name, c] as const))(
    'matches scipy.spatial.distance.jensenshannon (%s)',
    (_name, ref) => {
      const ours = jensenShannon(ref.reference, ref.live);
      expect(ref.jensenShannon === 0 ? ours : relative(ours, ref.jensenShannon)).toBeLessThan(
        1e-12,
      );
    },
  );
});

describe('numeric profile bins', () => {
  it('bins live values with the reference edges, right-closed', () => {
    const { profile, sample: kept } = reference({
      name: 'x',
      type: 'number',
      values: Float64Array.from([0, 0, 0, 1, 1, 2]),
    });
    expect((profile as NumericProfile).edges).toEqual([0, 1]);
    const drift = compareColumn(profile, kept, numbers(Float64Array.from([-1, 0, 0.5, 1, 3])));
    expect(drift.bins?.live).toEqual([0.4, 0.4, 0.2]);
  });
});
