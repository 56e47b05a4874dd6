/**
 * The contract between the training pipeline (split, preprocessing, evaluation: train.ts) and the
 * fitting code (linear-regression.ts, logistic-regression.ts). Fitting sees only numbers: an
 * encoded, standardised design matrix without an intercept column.
 */
import type { DesignRows } from './design-rows';
import type { ClassificationHyperparameters, RegressionHyperparameters } from './hyperparameters';

/** Row-major: element (i, j) is data[i * cols + j]. */
export interface DesignMatrix {
  data: Float64Array;
  rows: number;
  cols: number;
}

export interface TrainingProgress {
  /** 1-based epoch (lbfgs: iteration) just finished. */
  epoch: number;
  /** The most epochs this run may take. */
  epochs: number;
  /** Training loss after this epoch (the penalised objective the optimizer minimises). */
  loss: number;
  /** Validation loss after this epoch, when there is a validation split and it was computed. */
  validationLoss?: number;
}

export interface FitHooks {
  /** Called after every epoch; cheap, the caller throttles. */
  onProgress?: (progress: TrainingProgress) => void;
  /** Seeds mini-batch shuffling: the same seed gives bit-identical weights. */
  seed: number;
}

export interface FitResult {
  /** Training loss per recorded epoch: at most 1000 evenly spaced points, the last included. */
  lossHistory: number[];
  /** Validation loss at the same epochs, when monitored; otherwise empty. */
  validationLossHistory: number[];
  epochsRun: number;
  /** True when early stopping ended the run (the weights are the best ones seen). */
  stoppedEarly: boolean;
}

export interface LinearFit extends FitResult {
  coefficients: Float64Array;
  intercept: number;
}

/** Least squares, L = 1/2m Σ(h(x) − y)² + l2/2m ‖w‖². */
export type FitLinear = (
  train: { x: DesignMatrix | DesignRows; y: Float64Array },
  validation: { x: DesignMatrix | DesignRows; y: Float64Array } | null,
  hyperparameters: RegressionHyperparameters,
  hooks: FitHooks,
) => LinearFit;

export interface LogisticFit extends FitResult {
  /**
   * Binary (2 classes): one row of weights for the positive class (index 1), sigmoid.
   * Multinomial (3+ classes): one row per class, softmax. Row-major, `rows × cols of x`.
   */
  weights: Float64Array;
  intercepts: Float64Array;
}

/** Cross-entropy, L = 1/m [Σ wᵢ · logloss(xᵢ, yᵢ) + l2/2 ‖W‖²] with sample weights from classWeight. */
export type FitLogistic = (
  train: { x: DesignMatrix | DesignRows; y: Int32Array; sampleWeights: Float64Array | null },
  validation: { x: DesignMatrix | DesignRows; y: Int32Array } | null,
  classCount: number,
  hyperparameters: ClassificationHyperparameters,
  hooks: FitHooks,
) => LogisticFit;
