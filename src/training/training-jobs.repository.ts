import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { FindOptionsWhere, In, LessThan, Repository } from 'typeorm';
import { Page } from '../common/pagination';
import { FinalTrainingStatus, MetricsService } from '../metrics/metrics.service';
import { ModelsService, NewModelVersion, VersionWithAliases } from '../models/models.service';
import {
  ACTIVE_JOB_STATUSES,
  JobMetrics,
  JobStatus,
  TrainingJob,
  TrainingSummary,
} from './training-job.entity';

/** What a new job is made of: everything but the fields its transitions own. */
export type NewTrainingJob = Omit<
  TrainingJob,
  | 'status'
  | 'progress'
  | 'lossHistory'
  | 'metrics'
  | 'training'
  | 'modelVersion'
  | 'error'
  | 'attempts'
  | 'createdAt'
  | 'startedAt'
  | 'finishedAt'
>;

/** What a succeeded run leaves on its job. */
export interface SucceededRun {
  metrics: JobMetrics;
  lossHistory: number[];
  training: TrainingSummary;
}

/**
 * The one owner of the training_jobs table: every read, and every status change as a named
 * transition. queued → running (claim) → succeeded | failed | queued again (handBack); queued or
 * running → cancelled; running → failed (markInterrupted, failUnclaimed).
 *
 * A runner (the embedded runner, or a worker process's queue consumer) claims a job to run it. A
 * claim is the job's `attempts` number at the moment a runner moved it to running. A runner's
 * writes (progress, success, failure, hand back) are conditional on the job still being `running`
 * under that claim, so a job cancelled meanwhile, or taken over after its runner was presumed
 * dead, is never registered twice and never overwritten by a stale runner. A transition that
 * loses such a race says so in its return value (false or null), and changes nothing.
 *
 * Each transition counts the status it reaches in modeldock_training_jobs_total, once, when its
 * write took effect.
 */
@Injectable()
export class TrainingJobsRepository implements OnModuleInit {
  constructor(
    @InjectRepository(TrainingJob) private readonly jobs: Repository<TrainingJob>,
    private readonly models: ModelsService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.countActiveTrainingJobsWith(() => this.countActive());
  }

  // ---- reads

  get(id: string): Promise<TrainingJob | null> {
    return this.jobs.findOneBy({ id });
  }

  async list(
    filter: { status?: JobStatus; model?: string },
    limit: number,
    offset: number,
  ): Promise<Page<TrainingJob>> {
    const where: FindOptionsWhere<TrainingJob> = {};
    if (filter.status) where.status = filter.status;
    if (filter.model) where.modelName = filter.model;
    const [items, total] = await this.jobs.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items, total, limit, offset };
  }

  /** The oldest queued job: the embedded runner's next. */
  nextQueued(): Promise<TrainingJob | null> {
    return this.jobs.findOne({
      where: { status: 'queued' },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  countActiveForDataset(datasetId: string): Promise<number> {
    return this.jobs.countBy({ datasetId, status: In(ACTIVE_JOB_STATUSES) });
  }

  /** Up to `limit` queued or running jobs of the model. */
  activeForModel(modelName: string, limit: number): Promise<Pick<TrainingJob, 'id' | 'status'>[]> {
    return this.jobs.find({
      where: { modelName, status: In(ACTIVE_JOB_STATUSES) },
      select: { id: true, status: true },
      take: limit,
    });
  }

  /** Queued jobs created before `before`: their queue entry may be missing. */
  async staleQueuedIds(before: Date, limit: number): Promise<string[]> {
    const rows = await this.jobs.find({
      where: { status: 'queued', createdAt: LessThan(before) },
      select: { id: true },
      take: limit,
    });
    return rows.map(({ id }) => id);
  }

  // ---- transitions

  /** Records a new job as queued. */
  async create(fields: NewTrainingJob): Promise<TrainingJob> {
    const job = this.jobs.create({
      ...fields,
      status: 'queued',
      progress: 0,
      lossHistory: [],
      metrics: null,
      training: null,
      modelVersion: null,
      error: null,
      attempts: 0,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    });
    await this.jobs.insert(job);
    this.metrics.initTrainingJobSeries(job.modelName);
    return job;
  }

  /**
   * Moves the job to running under a new claim, if it is still as `seen` (queued, or running
   * under a claim whose runner is gone). Null: someone else changed it first.
   */
  async claim(seen: TrainingJob): Promise<TrainingJob | null> {
    const claimed = {
      status: 'running' as const,
      attempts: seen.attempts + 1,
      startedAt: new Date(),
      progress: 0,
      lossHistory: [],
    };
    const result = await this.jobs.update(
      { id: seen.id, status: seen.status, attempts: seen.attempts },
      claimed,
    );
    if (result.affected !== 1) return null;
    // This process may be the one to count how the job ends (a worker process has its own registry).
    this.metrics.initTrainingJobSeries(seen.modelName);
    return { ...seen, ...claimed };
  }

  /** False: the claim is gone (cancelled, or taken over), and the run should stop. */
  async reportProgress(
    job: TrainingJob,
    progress: number,
    lossHistory: number[],
  ): Promise<boolean> {
    const result = await this.jobs.update(this.underClaim(job), { progress, lossHistory });
    return result.affected === 1;
  }

  /**
   * Registers the job's version and marks the job succeeded in the registry's one transaction:
   * the job succeeds exactly when its version exists, and only under the run's claim. Null: the
   * claim was gone, nothing is registered.
   */
  async succeed(
    job: TrainingJob,
    version: NewModelVersion,
    outcome: SucceededRun,
  ): Promise<VersionWithAliases | null> {
    const finishedAt = new Date();
    const registered = await this.models.registerVersion(version, async (manager, created) => {
      const result = await manager.update(TrainingJob, this.underClaim(job), {
        status: 'succeeded',
        progress: 1,
        lossHistory: outcome.lossHistory,
        metrics: outcome.metrics,
        training: outcome.training,
        modelVersion: created.version,
        finishedAt,
      });
      return result.affected === 1;
    });
    if (registered) this.counted(job, 'succeeded', finishedAt);
    return registered;
  }

  /** The run failed; `error` says why, for the user. False: the claim was gone. */
  async fail(job: TrainingJob, error: string): Promise<boolean> {
    const finishedAt = new Date();
    const result = await this.jobs.update(this.underClaim(job), {
      status: 'failed',
      error,
      finishedAt,
    });
    if (result.affected !== 1) return false;
    this.counted(job, 'failed', finishedAt);
    return true;
  }

  /**
   * Fails a queued or running job without running it: its runners kept dying and its attempts
   * are spent. False: it changed meanwhile.
   */
  async failUnclaimed(job: TrainingJob, error: string): Promise<boolean> {
    const result = await this.jobs.update(
      { id: job.id, status: In(ACTIVE_JOB_STATUSES), attempts: job.attempts },
      { status: 'failed', error, finishedAt: new Date() },
    );
    if (result.affected !== 1) return false;
    this.metrics.countTrainingJob(job.modelName, 'failed');
    return true;
  }

  /**
   * Back to the queue as if never started: the next runner (of any process) runs it from scratch.
   * The claim is returned too: a graceful stop does not count against TRAINING_JOB_ATTEMPTS.
   * False: the claim was gone.
   */
  async handBack(job: TrainingJob): Promise<boolean> {
    const result = await this.jobs.update(this.underClaim(job), {
      status: 'queued',
      startedAt: null,
      progress: 0,
      lossHistory: [],
      attempts: job.attempts - 1,
    });
    return result.affected === 1;
  }

  /**
   * Cancels a queued or running job, whoever runs it: its runner's claim is gone, so it can no
   * longer register a version. The progress and loss curve written so far stay. Null: the job is
   * not queued or running (or does not exist).
   */
  async cancel(id: string): Promise<TrainingJob | null> {
    const finishedAt = new Date();
    const result = await this.jobs.update(
      { id, status: In(ACTIVE_JOB_STATUSES) },
      { status: 'cancelled', finishedAt },
    );
    if (result.affected !== 1) return null;
    // Nothing but a delete changes a cancelled row.
    const job = await this.get(id);
    if (job) this.counted(job, 'cancelled', finishedAt);
    return job;
  }

  /**
   * At start-up of the embedded runner, jobs left running are those of a process that died
   * (its graceful stop would have handed them back): they fail, since a job that crashed the
   * process must not crash it again. Returns how many.
   */
  async markInterrupted(error: string): Promise<number> {
    const running = await this.jobs.find({
      where: { status: 'running' },
      select: { id: true, modelName: true, attempts: true },
    });
    let marked = 0;
    for (const job of running) {
      const result = await this.jobs.update(
        { id: job.id, status: 'running', attempts: job.attempts },
        { status: 'failed', error, finishedAt: new Date() },
      );
      if (result.affected !== 1) continue;
      this.metrics.countTrainingJob(job.modelName, 'failed');
      marked++;
    }
    return marked;
  }

  private underClaim(job: TrainingJob): FindOptionsWhere<TrainingJob> {
    return { id: job.id, status: 'running', attempts: job.attempts };
  }

  /** Counts a job that reached `status`, with the time from its claim when it had one. */
  private counted(job: TrainingJob, status: FinalTrainingStatus, finishedAt: Date): void {
    const seconds = job.startedAt
      ? (finishedAt.getTime() - job.startedAt.getTime()) / 1000
      : undefined;
    this.metrics.countTrainingJob(job.modelName, status, seconds);
  }

  private async countActive(): Promise<{ queued: number; running: number }> {
    const rows = await this.jobs
      .createQueryBuilder('job')
      .select('job.status', 'status')
      .addSelect('COUNT(*)', 'count')
      .where('job.status IN (:...statuses)', { statuses: ACTIVE_JOB_STATUSES })
      .groupBy('job.status')
      .getRawMany<{ status: JobStatus; count: string | number }>();
    const count = (status: JobStatus) =>
      Number(rows.find((row) => row.status === status)?.count ?? 0);
    return { queued: count('queued'), running: count('running') };
  }
}
