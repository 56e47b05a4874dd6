/**
 * The maths library's public surface: everything outside ml/ imports from here, and only what
 * something outside uses is exported (modules inside ml/ import each other directly).
 */
export {
  ARTIFACT_FORMAT,
  ARTIFACT_FORMATS,
  ARTIFACT_FORMAT_V1,
  type FeatureSpec,
  validateArtifact,
} from './artifact';
export { type DriftStatus, type FeatureDrift, type LiveColumn, compareColumn } from './drift';
export { allocFloat64, toNumberArray } from './float64-pool';
export {
  ALGORITHMS,
  type Algorithm,
  type Hyperparameters,
  resolveHyperparameters,
} from './hyperparameters';
export type { TrainingProgress } from './model-fitting';
export { predictInChunks } from './predict-columns';
export {
  type PredictionBatch,
  type PredictionOutput,
  type Predictor,
  compilePredictor,
  nonFiniteRows,
} from './predictor';
export type { InputColumn } from './preprocessing';
export { Random } from './random';
export {
  type ReferenceProfile,
  type ReferenceSamples,
  profileReference,
} from './reference-profile';
export { type TrainingInput, type TrainingResult, train } from './train';
export { TrainingError } from './training-error';
export {
  DEFAULT_VALIDATION_SPLIT,
  MAX_CATEGORIES,
  MAX_VALIDATION_SPLIT,
  checkTrainingInput,
  describeTrainingInputProblems,
} from './training-rules';
