import { TrainingJobResponse } from './dto/training-job.dto';
import { TrainingJob } from './training-job.entity';

export function toTrainingJobResponse(job: TrainingJob): TrainingJobResponse {
  return {
    id: job.id,
    model: job.modelName,
    dataset: job.datasetId,
    target: job.target,
    features: job.features,
    status: job.status,
    progress: job.progress,
    algorithm: job.algorithm,
    hyperparameters: job.hyperparameters,
    validationSplit: job.validationSplit,
    seed: job.seed,
    alias: job.alias,
    lossHistory: job.lossHistory,
    metrics: job.metrics,
    training: job.training,
    modelVersion: job.modelVersion,
    error: job.error,
    createdBy: job.createdBy,
    attempts: job.attempts,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}
