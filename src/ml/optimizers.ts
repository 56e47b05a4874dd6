/**
 * Machinery shared by the iterative fits: the epoch loop (progress, loss history, early stopping), mini-batch epochs over shuffled rows, and the sgd/adam update rules.
 * Parameters live in one Float64Array θ: the penalised weights first, then the intercepts.
 */
import type { IterativeOptions } from './hyperparameters';
import type { DesignMatrix, FitHooks, FitResult } from './model-fitting';
import { TrainingError } from './training-error';

/** A long mini-batch epoch checks this often that θ is still finite (stops a diverged epoch). */
const ROWS_PER_FINITE_CHECK = 65536;
const MAX_LOSS_HISTORY = 1000;
// Rows whose cache lines are loaded ahead of a shuffled pass: their loads overlap, where the
// arithmetic of the pass would wait for each row's memory in turn (3× faster at 1M × 20); 256
// rows of up to ~100 columns stay in L2.
const PREFETCH_ROWS = 256;
// Eight doubles, a 64-byte cache line.
const LINE = 8;

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/** 0, 1, …, rows − 1: the row order of a full pass. */
export function identityOrder(rows: number): Uint32Array {
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) {
    order[i] = i;
  }
  return order;
}

export function allFinite(values: Float64Array): boolean {
  for (let j = 0; j < values.length; j++) {
    if (!Number.isFinite(values[j])) {
      return false;
    }
  }
  return true;
}

export function divergence(learningRate: number, epoch: number, what: string, advice: string) {
  return new TrainingError(
    `Training diverged with learningRate ${learningRate}: at epoch ${epoch} ${what}. ` +
      `Use a smaller learningRate; ${advice}.`,
  );
}

/** A number with 3 significant digits, for messages. */
export function round(value: number): string {
  return String(Number(value.toPrecision(3)));
}

export interface EpochLoop {
  /** Updated in place by `step`; with patience > 0 it ends up holding the best parameters seen. */
  theta: Float64Array;
  options: Pick<IterativeOptions, 'epochs' | 'patience' | 'tolerance'>;
  hooks: FitHooks;
  /** Runs one epoch (lbfgs: iteration) and returns the training objective at the new θ. */
  step(epoch: number): number;
  /** Validation loss at the current θ; null without a validation split. */
  validationLoss: (() => number) | null;
  /** Checked after each epoch: true ends the run (lbfgs converged). */
  converged?: () => boolean;
}

/**
 * Runs `step` until the epochs are used up, the optimizer converges or early stopping ends the run,
 * reporting every epoch and recording at most 1000 evenly spaced losses (the last always). With
 * patience > 0, θ ends as the best parameters seen by the monitored loss, however the run ended.
 */
export function runEpochs(loop: EpochLoop): FitResult {
  const { theta, hooks } = loop;
  const { epochs, patience, tolerance } = loop.options;
  const stride = Math.ceil(epochs / MAX_LOSS_HISTORY);
  const lossHistory: number[] = [];
  const validationLossHistory: number[] = [];
  const stopping = patience > 0 ? new EarlyStopping(patience, tolerance, theta) : null;
  let epoch = 0;
  let loss = NaN;
  let validationLoss: number | undefined;
  let stoppedEarly = false;
  while (epoch < epochs) {
    epoch++;
    loss = loop.step(epoch);
    validationLoss = loop.validationLoss?.();
    if (epoch % stride === 0) {
      lossHistory.push(loss);
      if (validationLoss !== undefined) validationLossHistory.push(validationLoss);
    }
    hooks.onProgress?.(
      validationLoss === undefined
        ? { epoch, epochs, loss }
        : { epoch, epochs, loss, validationLoss },
    );
    if (stopping?.observe(validationLoss ?? loss, theta)) {
      stoppedEarly = true;
      break;
    }
    if (loop.converged?.()) {
      break;
    }
  }
  if (epoch % stride !== 0) {
    lossHistory.push(loss);
    if (validationLoss !== undefined) validationLossHistory.push(validationLoss);
  }
  stopping?.restoreBest(theta);
  return { lossHistory, validationLossHistory, epochsRun: epoch, stoppedEarly };
}

/**
 * The rule of IterativeOptions: an epoch is progress when the loss falls below
 * best × (1 − tolerance); `patience` epochs without progress stop the run. As scikit-learn's
 * n_iter_no_change, any lower loss becomes the new best (and its θ is kept), even one too small to
 * count as progress.
 */
class EarlyStopping {
  private best = Infinity;
  private stalled = 0;
  private readonly bestTheta: Float64Array;

  constructor(
    private readonly patience: number,
    private readonly tolerance: number,
    theta: Float64Array,
  ) {
    this.bestTheta = Float64Array.from(theta);
  }

  /** True when training should stop. */
  observe(loss: number, theta: Float64Array): boolean {
    this.stalled = loss < this.best * (1 - this.tolerance) ? 0 : this.stalled + 1;
    if (loss < this.best) {
      this.best = loss;
      this.bestTheta.set(theta);
    }
    return this.stalled >= this.patience;
  }

  restoreBest(theta: Float64Array): void {
    theta.set(this.bestTheta);
  }
}

/** A per-batch parameter update θ := θ − step(g). */
export interface UpdateRule {
  update(theta: Float64Array, gradient: Float64Array): void;
}

export class Sgd implements UpdateRule {
  constructor(private readonly learningRate: number) {}

  update(theta: Float64Array, gradient: Float64Array): void {
    const rate = this.learningRate;
    for (let j = 0; j < theta.length; j++) {
      theta[j] -= rate * gradient[j];
    }
  }
}

/** Adam (Kingma & Ba) with β1 = 0.9, β2 = 0.999, ε = 1e-8 and bias-corrected moments. */
export class Adam implements UpdateRule {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(
    private readonly learningRate: number,
    size: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  update(theta: Float64Array, gradient: Float64Array): void {
    const { m, v, learningRate } = this;
    this.beta1Power *= ADAM_BETA1;
    this.beta2Power *= ADAM_BETA2;
    const correction1 = 1 / (1 - this.beta1Power);
    const correction2 = 1 / (1 - this.beta2Power);
    for (let j = 0; j < theta.length; j++) {
      const g = gradient[j];
      m[j] = ADAM_BETA1 * m[j] + (1 - ADAM_BETA1) * g;
      v[j] = ADAM_BETA2 * v[j] + (1 - ADAM_BETA2) * g * g;
      theta[j] -=
        (learningRate * m[j] * correction1) / (Math.sqrt(v[j] * correction2) + ADAM_EPSILON);
    }
  }
}

/** The per-row part of a mini-batch gradient. */
export interface RowGradient {
  x: DesignMatrix;
  /** Per-row arrays besides x (targets, sample weights) that a pass reads, for prefetching. */
  perRow: { a: Float64Array | Int32Array; b: Float64Array | null };
  /** Adds Σ ∂lossᵢ/∂θ over the rows order[from], …, order[to − 1] to `gradient`. */
  accumulate(
    order: Uint32Array,
    from: number,
    to: number,
    theta: Float64Array,
    gradient: Float64Array,
  ): void;
}

export interface MiniBatchOptions {
  batchSize: number;
  /** θ's first `penalised` entries carry the penalty l2/2m ‖w‖². */
  penalised: number;
  l2: number;
}

/**
 * One epoch of mini-batch steps over the rows in `order`. A batch of B rows steps along
 * 1/B Σ ∂lossᵢ/∂θ + (l2/m) w, an unbiased estimate of the gradient of the full objective
 * 1/m Σ lossᵢ + l2/2m ‖w‖², so every batch size shares its optimum. Returns false, ending the
 * epoch early, if θ stopped being finite.
 */
export function miniBatchEpoch(
  rows: RowGradient,
  order: Uint32Array,
  theta: Float64Array,
  gradient: Float64Array,
  rule: UpdateRule,
  { batchSize, penalised, l2 }: MiniBatchOptions,
): boolean {
  const m = order.length;
  const penalty = l2 / m;
  let prefetched = 0;
  let nextCheck = ROWS_PER_FINITE_CHECK;
  for (let start = 0; start < m; start += batchSize) {
    const end = Math.min(start + batchSize, m);
    gradient.fill(0);
    for (let from = start; from < end;) {
      if (from === prefetched) {
        if (prefetched >= nextCheck) {
          if (!allFinite(theta)) {
            return false;
          }
          nextCheck += ROWS_PER_FINITE_CHECK;
        }
        prefetched = Math.min(prefetched + PREFETCH_ROWS, m);
        prefetchRows(rows, order, from, prefetched);
      }
      const to = Math.min(end, prefetched);
      rows.accumulate(order, from, to, theta, gradient);
      from = to;
    }
    const scale = 1 / (end - start);
    for (let j = 0; j < gradient.length; j++) {
      gradient[j] *= scale;
    }
    for (let j = 0; j < penalised; j++) {
      gradient[j] += penalty * theta[j];
    }
    rule.update(theta, gradient);
  }
  return allFinite(theta);
}

// Written to by prefetchRows so that the compiler cannot drop its loads as unused.
const prefetchSink = { value: 0 };

/** Touches every cache line of the rows order[from..to) so that their misses overlap. */
function prefetchRows(rows: RowGradient, order: Uint32Array, from: number, to: number): void {
  const { data, cols: n } = rows.x;
  const { a, b } = rows.perRow;
  if (n === 0) {
    return;
  }
  // One element per 64 bytes and the last one reach every line a row spans. The first four are
  // unrolled (up to 24 columns, repeating the last for narrower rows): a loop over so few
  // elements costs more than the loads themselves.
  const last = n - 1;
  const second = Math.min(LINE, last);
  const third = Math.min(2 * LINE, last);
  let sum = 0;
  for (let p = from; p < to; p++) {
    const i = order[p];
    const base = i * n;
    sum += data[base] + data[base + second] + data[base + third] + data[base + last] + a[i];
    for (let k = 3 * LINE; k < last; k += LINE) {
      sum += data[base + k];
    }
    if (b !== null) {
      sum += b[i];
    }
  }
  prefetchSink.value += sum;
}
