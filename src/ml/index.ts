export {
  ARTIFACT_FORMAT,
  type ArtifactError,
  type ArtifactValidation,
  type FeatureSpec,
  type LinearModelArtifact,
  type ModelArtifact,
  rawCoefficients,
  validateArtifact,
} from './artifact';
export {
  LINEAR_REGRESSION_DEFAULTS,
  type LinearRegressionHyperparameters,
} from './linear-regression';
export { type RegressionMetrics, regressionMetrics } from './metrics';
export { type Predictor, compilePredictor } from './predictor';
export { Random } from './random';
export { trainValidationSplit } from './split';
export {
  type CancellationSignal,
  MAX_VALIDATION_SPLIT,
  TrainingError,
  type TrainingInput,
  type TrainingProgress,
  type TrainingResult,
  train,
} from './train';
