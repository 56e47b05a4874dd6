import {
  choleskySolve,
  dot,
  gramMatrix,
  largestEigenvalue,
  mean,
  minimumNormLeastSquares,
} from './linalg';
import { TrainingError } from './training-error';

export interface LinearRegressionHyperparameters {
  optimizer: 'gradient-descent' | 'normal-equation';
  /** gradient-descent only. */
  learningRate: number;
  /** gradient-descent only. */
  epochs: number;
  /** gradient-descent: stop once an epoch improves the loss by less than this fraction; 0: off. */
  tolerance: number;
}

export const LINEAR_REGRESSION_DEFAULTS: LinearRegressionHyperparameters = Object.freeze({
  optimizer: 'gradient-descent',
  learningRate: 0.01,
  epochs: 1000,
  tolerance: 0,
});

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  loss: number;
}

export interface CancellationSignal {
  readonly aborted: boolean;
}

export interface LinearFit {
  /** Weights in the space of the columns passed in. */
  coefficients: Float64Array;
  intercept: number;
  lossHistory: number[];
  epochsRun: number;
}

const MAX_LOSS_HISTORY = 1000;

// Below this pivot ratio (a variance inflation factor above 1/√ε) the normal equations keep fewer
// than half of the digits; the SVD of the data itself does not square the condition number.
const CHOLESKY_PIVOT_TOLERANCE = Math.sqrt(Number.EPSILON);

/**
 * Least-squares fit of h(z) = b + w·z, minimising L = 1/2m Σ(h(z) − y)², on feature columns that
 * are standardised and centred (each sums to zero). Centring decouples the intercept
 * (b* = mean(y)), so both optimisers only need the Gram matrix ZᵀZ, Zᵀ(y − ȳ) and |y − ȳ|²,
 * computed once in O(m n²).
 */
export function fitLinearRegression(
  columns: Float64Array[],
  target: Float64Array,
  hyperparameters: LinearRegressionHyperparameters,
  onProgress?: (progress: TrainingProgress) => void,
  signal?: CancellationSignal,
): LinearFit {
  const checkpoint = (): void => {
    if (signal?.aborted) {
      throw new TrainingError('cancelled');
    }
  };
  checkpoint();
  const n = columns.length;
  const yMean = mean(target);
  const centred = target.map((y) => y - yMean);
  const gram = gramMatrix(columns, checkpoint);
  const xty = Float64Array.from(columns, (column) => dot(column, centred));

  if (hyperparameters.optimizer === 'normal-equation') {
    const weights =
      choleskySolve(gram, xty, n, CHOLESKY_PIVOT_TOLERANCE) ??
      minimumNormLeastSquares(columns, centred, checkpoint);
    return {
      coefficients: weights,
      intercept: yMean,
      lossHistory: [halfMeanSquaredResidual(columns, weights, centred)],
      epochsRun: 0,
    };
  }
  return gradientDescent(
    gram,
    xty,
    dot(centred, centred),
    yMean,
    target.length,
    hyperparameters,
    checkpoint,
    onProgress,
  );
}

/**
 * Full-batch gradient descent θ := θ − α∇L with the intercept included. For centred columns
 * ∇_b L = b − ȳ and ∇_w L = (Gw − c)/m, with G = ZᵀZ and c = Zᵀ(y − ȳ), so an epoch costs O(n²)
 * instead of O(m n) and takes exactly the step the row-by-row sum would take. The same quantities
 * give the loss: L = ½(b − ȳ)² + (wᵀGw − 2wᵀc + |y − ȳ|²)/2m.
 */
function gradientDescent(
  gram: Float64Array,
  xty: Float64Array,
  yty: number,
  yMean: number,
  rows: number,
  { learningRate, epochs, tolerance }: LinearRegressionHyperparameters,
  checkpoint: () => void,
  onProgress?: (progress: TrainingProgress) => void,
): LinearFit {
  const n = xty.length;
  const h = gram.map((v) => v / rows);
  const c = xty.map((v) => v / rows);
  const s = yty / rows;
  const weights = new Float64Array(n);
  // Gradient of the w-part, Hw − c; w starts at 0.
  const gradient = c.map((v) => -v);
  // The intercept is tracked as b − ȳ (the step b −= α(b − ȳ) is the same); b starts at 0.
  // Keeping the small difference itself avoids cancellation in the loss next to a large ȳ.
  let offset = -yMean;

  const initialLoss = 0.5 * (offset * offset + s);
  let lowestLoss = initialLoss;
  let previousLoss = initialLoss;
  let loss = initialLoss;
  const stride = Math.ceil(epochs / MAX_LOSS_HISTORY);
  const lossHistory: number[] = [];
  let epoch = 0;
  while (epoch < epochs) {
    checkpoint();
    epoch++;
    offset -= learningRate * offset;
    for (let j = 0; j < n; j++) {
      weights[j] -= learningRate * gradient[j];
    }
    // New gradient for the next step, and wᵀ(Hw − 2c) for this epoch's loss.
    let quadratic = 0;
    for (let j = 0, row = 0; j < n; j++, row += n) {
      let g = -c[j];
      for (let k = 0; k < n; k++) {
        g += h[row + k] * weights[k];
      }
      gradient[j] = g;
      quadratic += weights[j] * (g - c[j]);
    }
    // Rounding can push a near-perfect fit's residual term just below zero; NaN stays NaN.
    loss = 0.5 * (offset * offset + Math.max(0, quadratic + s));

    // Stable steps on a convex quadratic never raise the loss, so a rise beyond what rounding can
    // explain (a few ε of the terms summed) proves the rate unstable, long before an overflow.
    if (!(loss <= lowestLoss + 1e-9 * (lowestLoss + s))) {
      throw divergence(epoch, loss, lowestLoss, learningRate, h, n);
    }
    lowestLoss = Math.min(lowestLoss, loss);
    if (epoch % stride === 0) {
      lossHistory.push(loss);
    }
    onProgress?.({ epoch, epochs, loss });
    if (tolerance > 0 && previousLoss - loss <= tolerance * previousLoss) {
      break;
    }
    previousLoss = loss;
  }
  if (epoch % stride !== 0) {
    lossHistory.push(loss);
  }
  return { coefficients: weights, intercept: yMean + offset, lossHistory, epochsRun: epoch };
}

function divergence(
  epoch: number,
  loss: number,
  lowestLoss: number,
  learningRate: number,
  h: Float64Array,
  n: number,
): TrainingError {
  // The update is stable for α < 2/λ_max(ZᵀZ/m) (and α < 2 for the intercept); 1/λ_max is safe.
  const safeRate = Math.min(1, 1 / largestEigenvalue(h, n));
  const [low, high] = distinct(lowestLoss, loss);
  const what = Number.isFinite(loss)
    ? `the loss rose to ${high} after having reached ${low}`
    : `the loss became ${loss}`;
  return new TrainingError(
    `Training diverged with learningRate ${learningRate}: at epoch ${epoch} ${what}. ` +
      `Use a smaller learningRate; about ${round(safeRate)} converges reliably for this data.`,
  );
}

function halfMeanSquaredResidual(
  columns: Float64Array[],
  weights: Float64Array,
  centred: Float64Array,
): number {
  const residual = centred.map((y) => -y);
  columns.forEach((column, j) => {
    const w = weights[j];
    for (let i = 0; i < residual.length; i++) {
      residual[i] += w * column[i];
    }
  });
  return dot(residual, residual) / (2 * residual.length);
}

function round(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Both numbers with 3 significant digits, or more if needed to tell them apart. */
function distinct(a: number, b: number): [string, string] {
  let digits = 3;
  while (digits < 17 && a.toPrecision(digits) === b.toPrecision(digits)) {
    digits++;
  }
  return [String(Number(a.toPrecision(digits))), String(Number(b.toPrecision(digits)))];
}
