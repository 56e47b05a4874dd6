import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Role } from '../auth/roles';
import type { JsonObject } from '../common/json';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const ACTIVE_JOB_STATUSES: JobStatus[] = ['queued', 'running'];

/** Regression metrics (mse, r2, …) or classification metrics (accuracy, confusionMatrix, …) per split. */
export interface JobMetrics {
  train: JsonObject;
  validation: JsonObject | null;
}

/** How a run went, beyond its metrics: recorded when the job succeeds. */
export interface TrainingSummary {
  /** Epochs the fitter ran (0 for closed-form solutions such as the normal equation). */
  epochsRun: number;
  /** True when the validation loss stopped improving before `epochs` (patience and tolerance). */
  stoppedEarly: boolean;
  trainRows: number;
  validationRows: number;
  /** At the same epochs as lossHistory when a validation split was monitored; else empty. */
  validationLossHistory: number[];
}

@Entity('training_jobs')
@Index('idx_training_jobs_status_created', ['status', 'createdAt'])
export class TrainingJob {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'model_name', type: 'varchar', length: 128 })
  modelName: string;

  @Column({ name: 'dataset_id', type: 'varchar', length: 36 })
  datasetId: string;

  @Column({ type: 'varchar', length: 128 })
  target: string;

  @Column({ type: 'simple-json' })
  features: string[];

  @Column({ type: 'varchar', length: 64 })
  algorithm: string;

  @Column({ type: 'simple-json' })
  hyperparameters: JsonObject;

  @Column({ name: 'validation_split', type: 'double precision' })
  validationSplit: number;

  @Column({ type: 'integer' })
  seed: number;

  @Column({ type: 'varchar', length: 128, nullable: true })
  alias: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ type: 'simple-json' })
  tags: Record<string, string>;

  @Column({ type: 'varchar', length: 16 })
  status: JobStatus;

  @Column({ type: 'double precision', default: 0 })
  progress: number;

  @Column({ name: 'loss_history', type: 'simple-json' })
  lossHistory: number[];

  @Column({ type: 'simple-json', nullable: true })
  metrics: JobMetrics | null;

  @Column({ type: 'simple-json', nullable: true })
  training: TrainingSummary | null;

  @Column({ name: 'model_version', type: 'integer', nullable: true })
  modelVersion: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The name of the API key that submitted the job. */
  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true })
  createdBy: string | null;

  /** That key's role when it submitted: decides whether the job may move a protected alias. */
  @Column({ name: 'created_by_role', type: 'varchar', length: 16, nullable: true })
  createdByRole: Role | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  /** How many times a runner has claimed the job; a runner's writes name the claim they hold. */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'started_at', type: Date, nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: Date, nullable: true })
  finishedAt: Date | null;
}
