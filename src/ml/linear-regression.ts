/**
 * Least squares h(x) = b + w·x minimising L = 1/2m Σ(h(x) − y)² + l2/2m ‖w‖² (the intercept is not
 * penalised): scikit-learn's Ridge(alpha = l2), or LinearRegression for l2 = 0.
 */
import type { RegressionHyperparameters } from './hyperparameters';
import {
  CentredCrossProducts,
  centredCrossProducts,
  centredLeastSquares,
  choleskySolve,
  dot,
  largestEigenvalue,
  mean,
} from './linalg';
import { DesignRows, asDesignRows } from './design-rows';
import type { FitHooks, FitLinear, LinearFit } from './model-fitting';
import {
  Adam,
  RowGradient,
  Sgd,
  divergence,
  identityOrder,
  miniBatchEpoch,
  round,
  runEpochs,
} from './optimizers';
import { Random } from './random';
import { TrainingError } from './training-error';

interface Regression {
  x: DesignRows;
  y: Float64Array;
}

/** ½ mean squared residual of θ = [w, b] on one data set. */
type HalfMse = (theta: Float64Array) => number;

// Below this pivot ratio (a variance inflation factor above 1/√ε) the normal equations keep fewer
// than half of the digits; the SVD of the data itself does not square the condition number.
const CHOLESKY_PIVOT_TOLERANCE = Math.sqrt(Number.EPSILON);

export const fitLinear: FitLinear = (trainData, validationData, hyperparameters, hooks) => {
  const train = { x: asDesignRows(trainData.x), y: trainData.y };
  const validation = validationData && { x: asDesignRows(validationData.x), y: validationData.y };
  checkShape(train, train.x.cols);
  if (validation) {
    checkShape(validation, train.x.cols);
  }
  // An empty validation split has no loss to report or monitor.
  const monitored = validation && validation.x.rows > 0 ? validation : null;
  if (train.x.rows === 0) {
    throw new TrainingError('Training needs at least one training row.');
  }
  switch (hyperparameters.optimizer) {
    case 'normal-equation':
      return normalEquation(train, monitored, hyperparameters.l2);
    case 'gradient-descent':
      return gradientDescent(train, monitored, hyperparameters, hooks);
    case 'sgd':
    case 'adam':
      return miniBatch(train, monitored, hyperparameters, hooks);
  }
};

function checkShape({ x, y }: Regression, cols: number): void {
  if (x.cols !== cols || y.length !== x.rows) {
    throw new RangeError(
      `Design matrix ${x.rows}×${x.cols} does not match ${y.length} targets and ${cols} columns.`,
    );
  }
}

/** Cross products of the data; a non-finite one means non-finite or overflowing input. */
function crossProducts(data: Regression): CentredCrossProducts {
  const products = centredCrossProducts(data.x, data.y);
  if (!Number.isFinite(products.yty) || !products.gram.every(Number.isFinite)) {
    throw new TrainingError(
      'The features or the target hold values that are not finite or too large to fit (their ' +
        'squares overflow). Rescale them, e.g. change the unit.',
    );
  }
  return products;
}

/**
 * Closed form: (XcᵀXc + l2·I) w = Xcᵀyc on the centred data, then b = ȳ − μ·w. Cholesky when the
 * system is well conditioned, otherwise the SVD route (the minimum-norm solution when l2 = 0).
 */
function normalEquation(train: Regression, validation: Regression | null, l2: number): LinearFit {
  const products = crossProducts(train);
  const { gram, xty, means, yMean, rows } = products;
  const n = means.length;
  const system = Float64Array.from(gram);
  for (let j = 0; j < n; j++) {
    system[j * n + j] += l2;
  }
  const weights =
    choleskySolve(system, xty, n, CHOLESKY_PIVOT_TOLERANCE) ??
    centredLeastSquares(train.x, train.y, means, yMean, l2);
  const theta = new Float64Array(n + 1);
  theta.set(weights);
  theta[n] = yMean - dot(means, weights);
  // Residuals summed directly: the quadratic form would cancel the digits of a near-perfect fit.
  const loss = directHalfMse(train)(theta) + (l2 / (2 * rows)) * dot(weights, weights);
  return {
    coefficients: weights,
    intercept: theta[n],
    lossHistory: [loss],
    validationLossHistory: validation ? [directHalfMse(validation)(theta)] : [],
    epochsRun: 0,
    stoppedEarly: false,
  };
}

/**
 * Full-batch gradient descent θ := θ − α∇L from θ = 0. With d = b + μ·w − ȳ (the mean residual),
 * G = XcᵀXc and c = Xcᵀyc, the exact gradient of L on the uncentred data is
 * ∇_w = (Gw − c)/m + μ d + (l2/m) w and ∇_b = d, and L = ½d² + (wᵀGw − 2wᵀc + |yc|²)/2m
 * + l2/2m ‖w‖²: after one O(m n²) pass for G an epoch costs O(n²), not O(m n), and takes exactly
 * the step that summing over the rows would.
 */
function gradientDescent(
  train: Regression,
  validation: Regression | null,
  hyperparameters: RegressionHyperparameters,
  hooks: FitHooks,
): LinearFit {
  const { learningRate, l2, epochs } = hyperparameters;
  const products = crossProducts(train);
  const { gram, xty, means, yMean, yty, rows: m } = products;
  const n = means.length;
  const lambda = l2 / m;
  const theta = new Float64Array(n + 1);
  const gradient = new Float64Array(n + 1);

  // The objective at θ; leaves its gradient in `gradient`.
  const evaluate = (): number => {
    let d = theta[n] - yMean;
    for (let j = 0; j < n; j++) {
      d += means[j] * theta[j];
    }
    let quadratic = 0;
    let norm = 0;
    for (let j = 0, row = 0; j < n; j++, row += n) {
      let g = -xty[j];
      for (let k = 0; k < n; k++) {
        g += gram[row + k] * theta[k];
      }
      const w = theta[j];
      quadratic += w * (g - xty[j]);
      norm += w * w;
      gradient[j] = g / m + means[j] * d + lambda * w;
    }
    gradient[n] = d;
    // Rounding can push a near-perfect fit's residual term just below zero; NaN stays NaN.
    return 0.5 * d * d + Math.max(0, quadratic + yty) / (2 * m) + 0.5 * lambda * norm;
  };

  let lowest = evaluate();
  const scale = yty / m;
  const fit = runEpochs({
    theta,
    options: hyperparameters,
    hooks,
    validationLoss: lossOf(validation, epochs, theta),
    step(epoch) {
      for (let j = 0; j <= n; j++) {
        theta[j] -= learningRate * gradient[j];
      }
      const loss = evaluate();
      // Stable steps on a convex quadratic never raise the loss, so a rise beyond what rounding can
      // explain proves the rate unstable, long before an overflow.
      if (!(loss <= lowest + 1e-9 * (lowest + scale))) {
        const rate = round(1 / largestEigenvalue(hessian(products, lambda), n + 1));
        const [low, high] = distinct(lowest, loss);
        const what = Number.isFinite(loss)
          ? `the loss rose to ${high} after having reached ${low}`
          : `the loss became ${loss}`;
        throw divergence(
          learningRate,
          epoch,
          what,
          `about ${rate} converges reliably for this data`,
        );
      }
      lowest = Math.min(lowest, loss);
      return loss;
    },
  });
  return { ...fit, coefficients: theta.slice(0, n), intercept: theta[n] };
}

/**
 * The Hessian of L in (w, b), [[G/m + μμᵀ + λI, μ], [μᵀ, 1]]: full-batch steps are stable for
 * α < 2/λ_max, and 1/λ_max converges reliably.
 */
function hessian({ gram, means, rows }: CentredCrossProducts, lambda: number): Float64Array {
  const n = means.length;
  const size = n + 1;
  const h = new Float64Array(size * size);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      h[j * size + k] = gram[j * n + k] / rows + means[j] * means[k];
    }
    h[j * size + j] += lambda;
    h[j * size + n] = h[n * size + j] = means[j];
  }
  h[n * size + n] = 1;
  return h;
}

/**
 * sgd and adam: mini-batches of shuffled rows (seeded by hooks.seed), penalty l2/m per step. The
 * intercept starts at ȳ, the best constant model: from 0 a target mean of a few hundred would take
 * adam thousands of steps of about learningRate each before the weights mattered.
 */
function miniBatch(
  train: Regression,
  validation: Regression | null,
  hyperparameters: RegressionHyperparameters,
  hooks: FitHooks,
): LinearFit {
  const { learningRate, l2, epochs, batchSize } = hyperparameters;
  const { y } = train;
  // Mini-batches read rows at random: the matrix is kept whole.
  const x = train.x.matrix();
  const n = x.cols;
  const m = x.rows;
  const trainingLoss = halfMseOf(train, epochs);
  const theta = new Float64Array(n + 1);
  theta[n] = mean(y);
  const gradient = new Float64Array(n + 1);
  const rule =
    hyperparameters.optimizer === 'adam' ? new Adam(learningRate, n + 1) : new Sgd(learningRate);
  const random = new Random(hooks.seed);
  const order = identityOrder(m);
  const rows: RowGradient = {
    x,
    perRow: { a: y, b: null },
    accumulate: (rowOrder, from, to, parameters, sum) =>
      accumulateGradient(x.data, n, y, rowOrder, from, to, parameters, sum),
  };
  const batch = { batchSize, penalised: n, l2 };

  const fit = runEpochs({
    theta,
    options: hyperparameters,
    hooks,
    validationLoss: lossOf(validation, epochs, theta),
    step(epoch) {
      random.shuffle(order);
      const finite = miniBatchEpoch(rows, order, theta, gradient, rule, batch);
      const weights = theta.subarray(0, n);
      const loss = finite ? trainingLoss(theta) + (l2 / (2 * m)) * dot(weights, weights) : NaN;
      if (!Number.isFinite(loss)) {
        const what = finite ? `the loss became ${loss}` : 'the weights overflowed';
        throw divergence(learningRate, epoch, what, `try ${round(learningRate / 10)}`);
      }
      return loss;
    },
  });
  return { ...fit, coefficients: theta.slice(0, n), intercept: theta[n] };
}

/**
 * Adds Σ (h(xᵢ) − yᵢ)·[xᵢ, 1] over the rows order[from..to) to `gradient`. Four rows at a time:
 * one pass over θ and the gradient serves all four, and their four dot products proceed side by
 * side (a fifth faster than two rows at 1M × 20). Missing rows of a last short group repeat its
 * first row at weight 0, which adds exactly nothing.
 */
function accumulateGradient(
  data: Float64Array,
  n: number,
  y: Float64Array,
  order: Uint32Array,
  from: number,
  to: number,
  theta: Float64Array,
  gradient: Float64Array,
): void {
  const b = theta[n];
  let interceptSum = 0;
  for (let p = from; p < to; p += 4) {
    const i1 = order[p];
    const i2 = p + 1 < to ? order[p + 1] : i1;
    const i3 = p + 2 < to ? order[p + 2] : i1;
    const i4 = p + 3 < to ? order[p + 3] : i1;
    const base1 = i1 * n;
    const base2 = i2 * n;
    const base3 = i3 * n;
    const base4 = i4 * n;
    let h1 = b;
    let h2 = b;
    let h3 = b;
    let h4 = b;
    for (let j = 0; j < n; j++) {
      const w = theta[j];
      h1 += w * data[base1 + j];
      h2 += w * data[base2 + j];
      h3 += w * data[base3 + j];
      h4 += w * data[base4 + j];
    }
    const r1 = h1 - y[i1];
    const r2 = p + 1 < to ? h2 - y[i2] : 0;
    const r3 = p + 2 < to ? h3 - y[i3] : 0;
    const r4 = p + 3 < to ? h4 - y[i4] : 0;
    interceptSum += r1 + r2 + r3 + r4;
    for (let j = 0; j < n; j++) {
      gradient[j] +=
        r1 * data[base1 + j] + r2 * data[base2 + j] + r3 * data[base3 + j] + r4 * data[base4 + j];
    }
  }
  gradient[n] += interceptSum;
}

/** The validation loss of the current θ for runEpochs. */
function lossOf(
  data: Regression | null,
  epochs: number,
  theta: Float64Array,
): (() => number) | null {
  if (data === null) {
    return null;
  }
  const halfMse = halfMseOf(data, epochs);
  return () => halfMse(theta);
}

/**
 * ½ MSE evaluated `epochs` times: from the cross products when their one-off cost, about (n + 3)/2
 * passes over the rows, is below that of a pass per epoch; then each evaluation is O(n²).
 */
function halfMseOf(data: Regression, epochs: number): HalfMse {
  if ((data.x.cols + 3) / 2 > epochs) {
    return directHalfMse(data);
  }
  const { gram, xty, means, yMean, yty, rows } = crossProducts(data);
  const n = means.length;
  return (theta) => {
    let d = theta[n] - yMean;
    let quadratic = 0;
    for (let j = 0, row = 0; j < n; j++, row += n) {
      d += means[j] * theta[j];
      let g = -2 * xty[j];
      for (let k = 0; k < n; k++) {
        g += gram[row + k] * theta[k];
      }
      quadratic += theta[j] * g;
    }
    return 0.5 * d * d + Math.max(0, quadratic + yty) / (2 * rows);
  };
}

function directHalfMse({ x, y }: Regression): HalfMse {
  const { rows, cols: n, blockRows } = x;
  return (theta) => {
    let sum = 0;
    for (let start = 0; start < rows; start += blockRows) {
      const count = Math.min(blockRows, rows - start);
      sum += squaredResiduals(x.block(start, count), n, y, start, count, theta);
    }
    return sum / (2 * rows);
  };
}

/** Σ (b + w·xᵢ − yᵢ)² over a block's rows; yᵢ is y[start + i]. */
function squaredResiduals(
  data: Float64Array,
  n: number,
  y: Float64Array,
  start: number,
  count: number,
  theta: Float64Array,
): number {
  const b = theta[n];
  let sum = 0;
  for (let i = 0, base = 0; i < count; i++, base += n) {
    let h = b;
    for (let j = 0; j < n; j++) {
      h += theta[j] * data[base + j];
    }
    const r = h - y[start + i];
    sum += r * r;
  }
  return sum;
}

/** Both numbers with 3 significant digits, or more if needed to tell them apart. */
function distinct(a: number, b: number): [string, string] {
  let digits = 3;
  while (digits < 17 && a.toPrecision(digits) === b.toPrecision(digits)) {
    digits++;
  }
  return [String(Number(a.toPrecision(digits))), String(Number(b.toPrecision(digits)))];
}
