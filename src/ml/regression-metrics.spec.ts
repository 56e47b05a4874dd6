import { regressionMetrics } from './regression-metrics';

const f64 = (values: number[]) => Float64Array.from(values);

describe('regressionMetrics', () => {
  it("matches scikit-learn's documented example (mse 0.375, mae 0.5, r2 0.9486...)", () => {
    const metrics = regressionMetrics(f64([3, -0.5, 2, 7]), f64([2.5, 0.0, 2, 8]));
    expect(metrics.mse).toBe(0.375);
    expect(metrics.rmse).toBe(Math.sqrt(0.375));
    expect(metrics.mae).toBe(0.5);
    expect(metrics.r2).toBeCloseTo(0.9486081370449679, 15);
  });

  it('gives a negative r2 for predictions worse than the mean (by hand: 1 - 8/2 = -3)', () => {
    const metrics = regressionMetrics(f64([1, 2, 3]), f64([3, 2, 1]));
    expect(metrics.r2).toBe(-3);
    expect(metrics.mse).toBeCloseTo(8 / 3, 15);
    expect(metrics.mae).toBeCloseTo(4 / 3, 15);
  });

  it('scores a constant target like r2_score: 1 for perfect predictions, 0 otherwise', () => {
    expect(regressionMetrics(f64([4, 4, 4]), f64([4, 4, 4])).r2).toBe(1);
    expect(regressionMetrics(f64([4, 4, 4]), f64([4, 4, 5])).r2).toBe(0);
  });

  it('detects a constant target exactly even when its rounded mean is not the value itself', () => {
    // sum([0.1, 0.1, 0.1]) / 3 !== 0.1; a naive SS_tot would be ~1e-33 and r2 about -1.7e31.
    expect(regressionMetrics(f64([0.1, 0.1, 0.1]), f64([0.1, 0.1, 0.2])).r2).toBe(0);
    expect(regressionMetrics(f64([0.1, 0.1, 0.1]), f64([0.1, 0.1, 0.1])).r2).toBe(1);
  });

  it('returns NaN r2 for a single row, as r2_score does, but real error metrics', () => {
    const metrics = regressionMetrics(f64([5]), f64([4]));
    expect(metrics.r2).toBeNaN();
    expect(metrics).toMatchObject({ mse: 1, rmse: 1, mae: 1 });
  });

  it('rejects arrays of different lengths and empty arrays', () => {
    expect(() => regressionMetrics(f64([1, 2]), f64([1]))).toThrow(RangeError);
    expect(() => regressionMetrics(f64([]), f64([]))).toThrow(RangeError);
  });
});
