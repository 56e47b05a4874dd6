import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomInt, randomUUID } from 'node:crypto';
import { ConflictError, InvalidInputError, NotFoundError } from '../common/errors';
import { Page } from '../common/pagination';
import type { Actor } from '../auth/roles';
import { DatasetsService } from '../datasets/datasets.service';
import { ModelsService } from '../models/models.service';
import { CreateTrainingJobRequest } from './dto/training-job.dto';
import { DEFAULT_VALIDATION_SPLIT } from '../ml';
import { checkTrainingData, resolveJobHyperparameters } from './training-request.checks';
import { JobStatus, TrainingJob } from './training-job.entity';
import { TrainingJobsRepository } from './training-jobs.repository';
import { JOB_DISPATCHER, JobDispatcher } from './job-dispatcher';

@Injectable()
export class TrainingService implements OnModuleInit {
  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly datasets: DatasetsService,
    @Inject(JOB_DISPATCHER) private readonly dispatcher: JobDispatcher,
    private readonly models: ModelsService,
  ) {}

  onModuleInit(): void {
    this.datasets.addDeletionCheck(async (datasetId) => {
      const active = await this.jobs.countActiveForDataset(datasetId);
      return active > 0
        ? `Dataset ${datasetId} is used by ${active} queued or running training job(s); cancel them or wait until they finish.`
        : null;
    });
    // A job that finishes after its model was deleted would create the model again.
    this.models.addDeletionCheck(async (modelName) => {
      const active = await this.jobs.activeForModel(modelName, 3);
      if (active.length === 0) return null;
      const jobs = active.map((job) => `${job.id} (${job.status})`).join(', ');
      return (
        `Model ${modelName} has queued or running training job(s) ${jobs}; a job would create the ` +
        `model again when it finishes. Cancel them (POST /v1/training-jobs/{id}/cancel) or wait, then delete.`
      );
    });
  }

  /** Validates the request against its dataset, records the job as queued and dispatches it. */
  async create(request: CreateTrainingJobRequest, actor: Actor): Promise<TrainingJob> {
    const dataset = await this.datasets.findByIdOrName(request.dataset).catch((error: unknown) => {
      if (error instanceof NotFoundError) {
        throw new InvalidInputError(error.message, [
          { field: 'dataset', message: 'does not exist' },
        ]);
      }
      throw error;
    });
    const hyperparameters = resolveJobHyperparameters(request.algorithm, request.hyperparameters);
    const validationSplit = request.validationSplit ?? DEFAULT_VALIDATION_SPLIT;
    const features =
      request.features ?? dataset.columns.map((c) => c.name).filter((n) => n !== request.target);
    checkTrainingData(dataset, {
      algorithm: request.algorithm,
      target: request.target,
      features,
      validationSplit,
    });
    if (request.alias) await this.models.assertMayMoveAlias(request.model, request.alias, actor);
    const job = await this.jobs.create({
      id: randomUUID(),
      modelName: request.model,
      datasetId: dataset.id,
      target: request.target,
      features,
      algorithm: request.algorithm,
      hyperparameters: { ...hyperparameters },
      validationSplit,
      seed: request.seed ?? randomInt(0, 2147483647),
      alias: request.alias ?? null,
      description: request.description ?? null,
      tags: request.tags ?? {},
      createdBy: actor.name,
      createdByRole: actor.role,
    });
    await this.dispatcher.submitted(job);
    return job;
  }

  list(
    filter: { status?: JobStatus; model?: string },
    limit: number,
    offset: number,
  ): Promise<Page<TrainingJob>> {
    return this.jobs.list(filter, limit, offset);
  }

  async get(id: string): Promise<TrainingJob> {
    const job = await this.jobs.get(id);
    if (!job)
      throw new NotFoundError(
        `Training job ${id} does not exist. List jobs with GET /v1/training-jobs.`,
      );
    return job;
  }

  /**
   * The row is the authority: it turns cancelled at once, whichever process runs the job, and that
   * runner's claim is gone, so it can no longer register a version. Then the runner is told to stop.
   */
  async cancel(id: string): Promise<TrainingJob> {
    const cancelled = await this.jobs.cancel(id);
    if (!cancelled) {
      const now = await this.get(id);
      throw new ConflictError(
        `Training job ${id} is already ${now.status}; only queued or running jobs can be cancelled.`,
      );
    }
    await this.dispatcher.cancelled(id);
    return cancelled;
  }
}
