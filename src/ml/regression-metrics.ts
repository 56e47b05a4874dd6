export interface RegressionMetrics {
  mse: number;
  rmse: number;
  mae: number;
  r2: number;
}

/**
 * Mean squared error, its root, mean absolute error and R² as scikit-learn computes them.
 * R² follows r2_score: 1 - SS_res / SS_tot; for a constant target it is 1 when the predictions are
 * perfect and 0 otherwise; with a single row it is NaN (undefined; scikit-learn returns nan).
 */
export function regressionMetrics(
  actual: Float64Array,
  predicted: Float64Array,
): RegressionMetrics {
  const n = actual.length;
  if (predicted.length !== n) {
    throw new RangeError(`Got ${n} actual values but ${predicted.length} predictions.`);
  }
  if (n === 0) {
    throw new RangeError('Metrics need at least one row.');
  }
  let squared = 0;
  let absolute = 0;
  let sum = 0;
  let min = actual[0];
  let max = actual[0];
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const e = a - predicted[i];
    squared += e * e;
    absolute += Math.abs(e);
    sum += a;
    if (a < min) min = a;
    if (a > max) max = a;
  }
  const mse = squared / n;
  return {
    mse,
    rmse: Math.sqrt(mse),
    mae: absolute / n,
    r2: rSquared(actual, squared, sum, min === max),
  };
}

function rSquared(
  actual: Float64Array,
  residualSum: number,
  sum: number,
  constant: boolean,
): number {
  const n = actual.length;
  if (n < 2) {
    return NaN;
  }
  // Decide constancy exactly: a rounded mean of equal values can leave a tiny spurious SS_tot.
  if (constant) {
    return residualSum === 0 ? 1 : 0;
  }
  const mean = sum / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = actual[i] - mean;
    total += d * d;
  }
  return 1 - residualSum / total;
}
