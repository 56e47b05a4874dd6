export {
  ARTIFACT_FORMAT,
  ARTIFACT_FORMATS,
  ARTIFACT_FORMAT_V1,
  type ArtifactError,
  type ArtifactValidation,
  type FeatureSpec,
  type InputPreprocessing,
  type LinearModelArtifactV2,
  type LogisticModelArtifactV2,
  type ModelArtifact,
  type ModelArtifactV1,
  type ModelArtifactV2,
  type NumberPreprocessing,
  type StringPreprocessing,
  encodedWidth,
  rawCoefficients,
  validateArtifact,
} from './artifact';
export {
  type ClassificationMetrics,
  ClassificationMetricsAccumulator,
  classificationMetrics,
} from './classification-metrics';
export {
  ALGORITHMS,
  type Algorithm,
  CLASSIFICATION_OPTIMIZERS,
  type ClassificationHyperparameters,
  type ClassificationOptimizer,
  type HyperparameterError,
  type Hyperparameters,
  type IterativeOptions,
  MAX_BATCH_SIZE,
  MAX_EPOCHS,
  REGRESSION_OPTIMIZERS,
  type RegressionHyperparameters,
  type RegressionOptimizer,
  defaultHyperparameters,
  resolveHyperparameters,
} from './hyperparameters';
export { type RegressionMetrics, regressionMetrics } from './metrics';
export type { TrainingProgress } from './model-fitting';
export { type InputColumn } from './preprocessing';
export {
  type PredictionBatch,
  type PredictionOutput,
  type Predictor,
  compilePredictor,
} from './predictor';
export { allocFloat64, toNumberArray } from './float64-pool';
export { Random } from './random';
export { stratifiedSplit, trainValidationSplit } from './split';
export { type TrainingInput, type TrainingResult, train } from './train';
export {
  type ColumnSummaryLike,
  DEFAULT_VALIDATION_SPLIT,
  MAX_CATEGORIES,
  MAX_VALIDATION_SPLIT,
  type TrainingInputProblem,
  checkTrainingInput,
  describeTrainingInputProblems,
} from './training-rules';
export { TrainingError } from './training-error';
