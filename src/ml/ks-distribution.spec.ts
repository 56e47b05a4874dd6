import { readDriftReferences, sample } from '../../test/fixtures/drift/drift-references';
import { ks2Samp, kolmogorovSf } from './ks-distribution';

const references = readDriftReferences();

/** |ours − scipy| / |scipy|, 0 when equal (both 0 included). */
const relative = (ours: number, scipy: number) =>
  ours === scipy ? 0 : Math.abs(ours - scipy) / Math.abs(scipy);

describe('kolmogorovSf', () => {
  it('matches scipy.stats.kstwo.sf to 1e-9 over every method kolmogn picks', () => {
    const failures = references.kstwoSf.filter(({ n, x, sf }) => {
      const ours = kolmogorovSf(n, x);
      return sf >= 1e-300 ? !(relative(ours, sf) < 1e-9) : !(ours < 1e-300);
    });
    expect(failures).toEqual([]);
  });

  it('is 1 at and below 1/(2n) and 0 from 1 on', () => {
    expect(kolmogorovSf(10, 0)).toBe(1);
    expect(kolmogorovSf(10, 0.05)).toBe(1);
    expect(kolmogorovSf(10, 1)).toBe(0);
  });
});

describe('ks2Samp', () => {
  it.each(references.ks2samp.map((c) => [c.name, c] as const))(
    'matches scipy.stats.ks_2samp (%s)',
    (_name, reference) => {
      const result = ks2Samp(sample(reference.reference).sort(), sample(reference.live).sort());
      expect(relative(result.statistic, reference.statistic)).toBeLessThan(1e-12);
      if (reference.pValue >= 1e-10) {
        expect(result.method).toBe(reference.method);
        expect(relative(result.pValue, reference.pValue)).toBeLessThan(1e-6);
      } else {
        // Below 1e-10 the exact recursion may be skipped for the asymptotic value (see
        // EXACT_SKIP_BELOW): both are far below any threshold.
        expect(result.pValue).toBeLessThan(1e-10);
        expect(reference.pValue < 1e-20 || relative(result.pValue, reference.pValue) < 1e-6).toBe(
          true,
        );
      }
    },
  );

  it('refuses an empty sample', () => {
    expect(() => ks2Samp(new Float64Array(0), Float64Array.of(1))).toThrow(RangeError);
  });
});
