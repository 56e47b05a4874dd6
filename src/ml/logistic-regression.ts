/**
 * Logistic regression minimising L = 1/m [Σ sᵢ · logloss(xᵢ, yᵢ) + l2/2 ‖W‖²] with sample weights
 * sᵢ and unpenalised intercepts: scikit-learn's LogisticRegression(C = 1/l2, multinomial) objective
 * divided by m. Two classes: one weight row and the sigmoid; more: a row per class and softmax.
 */
import type { ClassificationHyperparameters } from './hyperparameters';
import { Lbfgs } from './lbfgs';
import { DesignRows, asDesignRows } from './design-rows';
import type { DesignMatrix, FitHooks, FitLogistic } from './model-fitting';
import {
  Adam,
  EpochLoop,
  RowGradient,
  divergence,
  identityOrder,
  miniBatchEpoch,
  round,
  runEpochs,
} from './optimizers';
import { Random } from './random';
import { TrainingError } from './training-error';

interface Classification {
  x: DesignRows;
  y: Int32Array;
  sampleWeights: Float64Array | null;
}

// Rows per stage of a pass: scores for all of them, then their losses and residuals, then their
// gradient terms. Row by row, each row's exp and division would wait on its long dot product and
// the gradient on both; by stages the rows' chains overlap (with several rows per sweep over θ, a
// quarter faster). A stage's rows stay in cache from its first step to its last.
const STAGE_ROWS = 256;
// Σ log tᵢ is taken as log Π tᵢ, one logarithm per few hundred rows instead of one per row
// (a quarter of a pass's time); the product is flushed long before it could overflow.
const PRODUCT_LIMIT = 1e250;

export const fitLogistic: FitLogistic = (
  trainData,
  validationData,
  classCount,
  hyperparameters,
  hooks,
) => {
  const train = { ...trainData, x: asDesignRows(trainData.x) };
  const validation = validationData && { ...validationData, x: asDesignRows(validationData.x) };
  checkData(train, validation, classCount);
  const loss = new LogLoss(train, classCount, hyperparameters.l2);
  const theta = new Float64Array(loss.size);
  // An empty validation split has no loss to report or monitor.
  const validationLoss =
    validation && validation.x.rows > 0
      ? new LogLoss({ ...validation, sampleWeights: null }, classCount, 0)
      : null;
  const optimizer: Pick<EpochLoop, 'step' | 'converged'> =
    hyperparameters.optimizer === 'lbfgs'
      ? lbfgs(loss, theta, hyperparameters.tolerance)
      : {
          step:
            hyperparameters.optimizer === 'gradient-descent'
              ? gradientDescent(loss, theta, hyperparameters.learningRate)
              : adam(loss, theta, hyperparameters, hooks),
        };
  const fit = runEpochs({
    theta,
    options: hyperparameters,
    hooks,
    validationLoss: validationLoss && (() => validationLoss.objective(theta, null)),
    ...optimizer,
  });
  const weightCount = loss.classes * loss.cols;
  return { ...fit, weights: theta.slice(0, weightCount), intercepts: theta.slice(weightCount) };
};

/** One L-BFGS iteration per epoch, until the gradient is within `tolerance`. */
function lbfgs(loss: LogLoss, theta: Float64Array, tolerance: number) {
  const optimizer = new Lbfgs((x, gradient) => loss.objective(x, gradient), theta, {
    gradientTolerance: tolerance,
  });
  return { step: () => optimizer.step(), converged: () => optimizer.converged };
}

/** Full-batch θ := θ − α∇L; a rise of this convex objective means the rate is too large. */
function gradientDescent(loss: LogLoss, theta: Float64Array, learningRate: number) {
  const gradient = new Float64Array(theta.length);
  let lowest = loss.objective(theta, gradient);
  return (epoch: number): number => {
    for (let j = 0; j < theta.length; j++) {
      theta[j] -= learningRate * gradient[j];
    }
    const value = loss.objective(theta, gradient);
    // Allows for rounding in a sum over all rows.
    if (!(value <= lowest * (1 + 1e-9))) {
      const what = Number.isFinite(value)
        ? `the loss rose to ${value} after having reached ${lowest}`
        : `the loss became ${value}`;
      throw divergence(learningRate, epoch, what, `try ${round(learningRate / 10)}`);
    }
    lowest = Math.min(lowest, value);
    return value;
  };
}

/** Mini-batch adam over rows shuffled each epoch by a generator seeded with hooks.seed. */
function adam(
  loss: LogLoss,
  theta: Float64Array,
  { learningRate, batchSize, l2 }: ClassificationHyperparameters,
  hooks: FitHooks,
) {
  const gradient = new Float64Array(theta.length);
  const rule = new Adam(learningRate, theta.length);
  const random = new Random(hooks.seed);
  const order = identityOrder(loss.rows);
  const batch = { batchSize, penalised: loss.classes * loss.cols, l2 };
  return (epoch: number): number => {
    random.shuffle(order);
    const finite = miniBatchEpoch(loss, order, theta, gradient, rule, batch);
    const value = finite ? loss.objective(theta, null) : NaN;
    if (!Number.isFinite(value)) {
      const what = finite ? `the loss became ${value}` : 'the weights overflowed';
      throw divergence(learningRate, epoch, what, `try ${round(learningRate / 10)}`);
    }
    return value;
  };
}

function checkData(
  train: Classification,
  validation: { x: DesignRows; y: Int32Array } | null,
  classCount: number,
): void {
  if (!Number.isInteger(classCount) || classCount < 2) {
    throw new TrainingError(
      `logistic-regression needs at least 2 classes to tell apart, but got ${classCount}.`,
    );
  }
  const { x, y, sampleWeights } = train;
  checkShape(x, y, train.x.cols, classCount);
  if (validation) {
    checkShape(validation.x, validation.y, train.x.cols, classCount);
  }
  if (sampleWeights && sampleWeights.length !== x.rows) {
    throw new RangeError(`${sampleWeights.length} sample weights for ${x.rows} rows.`);
  }
  const weightPerClass = new Float64Array(classCount);
  for (let i = 0; i < x.rows; i++) {
    const s = sampleWeights ? sampleWeights[i] : 1;
    if (!(s >= 0 && s < Infinity)) {
      throw new RangeError(`Sample weight ${s} of row ${i} is not a finite non-negative number.`);
    }
    weightPerClass[y[i]] += s;
  }
  const missing = [...weightPerClass.keys()].filter((k) => !(weightPerClass[k] > 0));
  if (classCount - missing.length < 2) {
    throw new TrainingError(
      x.rows === 0
        ? 'Training needs at least one training row of each class, but there are no training rows.'
        : 'All training rows belong to one class, so there is nothing to tell apart. ' +
            'Use data with at least 2 classes (or a smaller validationSplit).',
    );
  }
  if (missing.length > 0) {
    const which =
      missing.length === 1 ? `class ${missing[0]} has` : `classes ${missing.join(', ')} have`;
    throw new TrainingError(
      `Of the ${classCount} classes (numbered 0 to ${classCount - 1}), ${which} no training rows, ` +
        'so the model could never predict them. Add rows of every class, use a smaller ' +
        'validationSplit, or drop the class.',
    );
  }
}

function checkShape(x: DesignRows, y: Int32Array, cols: number, classCount: number): void {
  if (x.cols !== cols || y.length !== x.rows) {
    throw new RangeError(
      `Design matrix ${x.rows}×${x.cols} does not match ${y.length} labels and ${cols} columns.`,
    );
  }
  for (let i = 0; i < y.length; i++) {
    if (!(y[i] >= 0 && y[i] < classCount)) {
      throw new RangeError(`Label ${y[i]} of row ${i} is not a class index below ${classCount}.`);
    }
  }
}

/**
 * The objective over one data set. θ holds the weights, a row of `cols` per class row (one row
 * for 2 classes), then the intercepts. A full pass reads the rows block by block; mini-batches
 * read them at random from the whole matrix.
 */
class LogLoss implements RowGradient {
  readonly perRow: { a: Int32Array; b: Float64Array | null };
  readonly rows: number;
  readonly cols: number;
  /** Weight rows: 1 for 2 classes (the positive class, index 1), else one per class. */
  readonly classes: number;
  readonly size: number;
  private readonly design: DesignRows;
  private readonly y: Int32Array;
  private readonly weights: Float64Array | null;
  /** 0, 1, …: the row order within a block. */
  private readonly blockOrder: Uint32Array;
  /** Scratch for the kernels' stages. */
  private readonly stage: Float64Array;

  constructor(
    data: Classification,
    classCount: number,
    private readonly l2: number,
  ) {
    this.design = data.x;
    this.y = data.y;
    this.weights = data.sampleWeights;
    this.perRow = { a: data.y, b: data.sampleWeights };
    this.rows = data.x.rows;
    this.cols = data.x.cols;
    this.classes = classCount === 2 ? 1 : classCount;
    this.size = this.classes * (this.cols + 1);
    this.blockOrder = identityOrder(data.x.blockRows);
    this.stage = new Float64Array(STAGE_ROWS * this.classes);
  }

  /** The whole matrix, for mini-batches (made on first use). */
  get x(): DesignMatrix {
    return this.design.matrix();
  }

  /** L(θ) = (Σ sᵢ lossᵢ + l2/2 ‖W‖²)/m; its gradient into `gradient` unless that is null. */
  objective(theta: Float64Array, gradient: Float64Array | null): number {
    gradient?.fill(0);
    const { design, y, weights, rows, blockOrder } = this;
    let sum = 0;
    for (let start = 0; start < rows; start += design.blockRows) {
      const count = Math.min(design.blockRows, rows - start);
      const data = design.block(start, count);
      sum += this.sum(
        data,
        y.subarray(start, start + count),
        weights && weights.subarray(start, start + count),
        blockOrder,
        0,
        count,
        theta,
        gradient,
      );
    }
    let norm = 0;
    const weightCount = this.classes * this.cols;
    for (let j = 0; j < weightCount; j++) {
      norm += theta[j] * theta[j];
    }
    if (gradient) {
      for (let j = 0; j < weightCount; j++) {
        gradient[j] = (gradient[j] + this.l2 * theta[j]) / this.rows;
      }
      for (let j = weightCount; j < gradient.length; j++) {
        gradient[j] /= this.rows;
      }
    }
    return (sum + 0.5 * this.l2 * norm) / this.rows;
  }

  accumulate(
    order: Uint32Array,
    from: number,
    to: number,
    theta: Float64Array,
    gradient: Float64Array,
  ) {
    this.sum(this.x.data, this.y, this.weights, order, from, to, theta, gradient);
  }

  private sum(
    data: Float64Array,
    y: Int32Array,
    weights: Float64Array | null,
    order: Uint32Array,
    from: number,
    to: number,
    theta: Float64Array,
    gradient: Float64Array | null,
  ): number {
    const n = this.cols;
    return this.classes === 1
      ? binaryLoss(data, n, y, weights, order, from, to, theta, gradient, this.stage)
      : multinomialLoss(
          data,
          n,
          this.classes,
          y,
          weights,
          order,
          from,
          to,
          theta,
          gradient,
          this.stage,
        );
  }
}

/**
 * Σ sᵢ [log(1 + e^zᵢ) − yᵢ zᵢ] over the rows order[from..to), zᵢ = b + w·xᵢ; adds
 * Σ sᵢ (σ(zᵢ) − yᵢ) [xᵢ, 1] to `gradient` unless it is null. One pass computes both, in stages of
 * STAGE_ROWS rows, four rows per sweep over θ and the gradient (a stage's last sweep pads with
 * its first row, at weight 0).
 */
function binaryLoss(
  data: Float64Array,
  n: number,
  y: Int32Array,
  weights: Float64Array | null,
  order: Uint32Array,
  from: number,
  to: number,
  theta: Float64Array,
  gradient: Float64Array | null,
  stage: Float64Array,
): number {
  const b = theta[n];
  let loss = 0;
  let product = 1;
  let interceptSum = 0;
  for (let start = from; start < to; start += STAGE_ROWS) {
    const end = Math.min(start + STAGE_ROWS, to);
    for (let p = start; p < end; p += 4) {
      const base1 = order[p] * n;
      const base2 = p + 1 < end ? order[p + 1] * n : base1;
      const base3 = p + 2 < end ? order[p + 2] * n : base1;
      const base4 = p + 3 < end ? order[p + 3] * n : base1;
      let z1 = b;
      let z2 = b;
      let z3 = b;
      let z4 = b;
      for (let j = 0; j < n; j++) {
        const w = theta[j];
        z1 += w * data[base1 + j];
        z2 += w * data[base2 + j];
        z3 += w * data[base3 + j];
        z4 += w * data[base4 + j];
      }
      const o = p - start;
      stage[o] = z1;
      if (p + 1 < end) stage[o + 1] = z2;
      if (p + 2 < end) stage[o + 2] = z3;
      if (p + 3 < end) stage[o + 3] = z4;
    }
    for (let p = start; p < end; p++) {
      const i = order[p];
      const z = stage[p - start];
      const label = y[i];
      // log(1 + e^z) = max(z, 0) + log(1 + e^−|z|): no overflow, no cancellation.
      const e = Math.exp(-Math.abs(z));
      const q = 1 + e;
      const margin = (z > 0 ? z : 0) - label * z;
      const s = weights === null ? 1 : weights[i];
      if (weights === null) {
        loss += margin;
        product *= q;
        if (product > PRODUCT_LIMIT) {
          loss += Math.log(product);
          product = 1;
        }
      } else {
        loss += s * (margin + Math.log1p(e));
      }
      // The score's slot now holds the residual sᵢ (σ(zᵢ) − yᵢ).
      stage[p - start] = s * ((z >= 0 ? 1 : e) / q - label);
    }
    if (gradient !== null) {
      for (let p = start; p < end; p += 4) {
        const base1 = order[p] * n;
        const base2 = p + 1 < end ? order[p + 1] * n : base1;
        const base3 = p + 2 < end ? order[p + 2] * n : base1;
        const base4 = p + 3 < end ? order[p + 3] * n : base1;
        const o = p - start;
        const r1 = stage[o];
        const r2 = p + 1 < end ? stage[o + 1] : 0;
        const r3 = p + 2 < end ? stage[o + 2] : 0;
        const r4 = p + 3 < end ? stage[o + 3] : 0;
        interceptSum += r1 + r2 + r3 + r4;
        for (let j = 0; j < n; j++) {
          gradient[j] +=
            r1 * data[base1 + j] +
            r2 * data[base2 + j] +
            r3 * data[base3 + j] +
            r4 * data[base4 + j];
        }
      }
    }
  }
  if (gradient !== null) {
    gradient[n] += interceptSum;
  }
  return loss + Math.log(product);
}

/**
 * Σ sᵢ [log Σₖ e^zᵢₖ − zᵢ,yᵢ] over the rows order[from..to), zᵢₖ = bₖ + Wₖ·xᵢ; adds
 * Σ sᵢ (softmaxₖ(zᵢ) − [k = yᵢ]) [xᵢ, 1] to row k of `gradient` unless it is null. In stages as
 * binaryLoss; `stage` holds each staged row's class scores, then its residuals.
 */
function multinomialLoss(
  data: Float64Array,
  n: number,
  classes: number,
  y: Int32Array,
  weights: Float64Array | null,
  order: Uint32Array,
  from: number,
  to: number,
  theta: Float64Array,
  gradient: Float64Array | null,
  stage: Float64Array,
): number {
  const intercepts = classes * n;
  let loss = 0;
  let product = 1;
  for (let start = from; start < to; start += STAGE_ROWS) {
    const end = Math.min(start + STAGE_ROWS, to);
    for (let p = start; p < end; p += 2) {
      const paired = p + 1 < end;
      const base = order[p] * n;
      const base2 = paired ? order[p + 1] * n : base;
      const slot = (p - start) * classes;
      for (let k = 0, row = 0; k < classes; k++, row += n) {
        let z = theta[intercepts + k];
        let z2 = z;
        for (let j = 0; j < n; j++) {
          const w = theta[row + j];
          z += w * data[base + j];
          z2 += w * data[base2 + j];
        }
        stage[slot + k] = z;
        if (paired) {
          stage[slot + classes + k] = z2;
        }
      }
    }
    for (let p = start; p < end; p++) {
      const i = order[p];
      const slot = (p - start) * classes;
      let max = -Infinity;
      for (let k = 0; k < classes; k++) {
        max = Math.max(max, stage[slot + k]);
      }
      const label = y[i];
      // log Σ e^z = max + log Σ e^(z − max), the sum between 1 and the class count.
      const margin = max - stage[slot + label];
      let total = 0;
      for (let k = 0; k < classes; k++) {
        const e = Math.exp(stage[slot + k] - max);
        stage[slot + k] = e;
        total += e;
      }
      const s = weights === null ? 1 : weights[i];
      if (weights === null) {
        loss += margin;
        product *= total;
        if (product > PRODUCT_LIMIT) {
          loss += Math.log(product);
          product = 1;
        }
      } else {
        loss += s * (margin + Math.log(total));
      }
      // The scores' slots now hold the residuals sᵢ (softmaxₖ − [k = yᵢ]).
      const scale = s / total;
      for (let k = 0; k < classes; k++) {
        stage[slot + k] = stage[slot + k] * scale - (k === label ? s : 0);
      }
    }
    if (gradient !== null) {
      for (let p = start; p < end; p += 2) {
        const paired = p + 1 < end;
        const base = order[p] * n;
        const base2 = paired ? order[p + 1] * n : base;
        const slot = (p - start) * classes;
        for (let k = 0, row = 0; k < classes; k++, row += n) {
          const r = stage[slot + k];
          // An odd last row pairs with itself at weight 0.
          const r2 = paired ? stage[slot + classes + k] : 0;
          gradient[intercepts + k] += r + r2;
          for (let j = 0; j < n; j++) {
            gradient[row + j] += r * data[base + j] + r2 * data[base2 + j];
          }
        }
      }
    }
  }
  return loss + Math.log(product);
}
