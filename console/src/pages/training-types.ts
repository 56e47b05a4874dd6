// The shapes of GET /v1/algorithms and of a training job as the API answers them.

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const JOB_STATUSES: JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

export const isActive = (status: JobStatus) => status === 'queued' || status === 'running';

export interface HyperparameterInfo {
  name: string;
  type: 'number' | 'integer' | 'enum' | 'class-weight';
  description: string;
  minimum?: number;
  /** The minimum itself is not allowed. */
  exclusiveMinimum?: boolean;
  maximum?: number;
  values?: string[];
  /** What to try, e.g. "try 0.001-0.1". */
  hint?: string;
  /** The optimizers that use it; the others ignore it. */
  optimizers: string[];
}

export interface AlgorithmInfo {
  name: string;
  task: 'regression' | 'classification';
  description: string;
  optimizers: string[];
  /** The optimizer a job gets when it names none (else the first listed). */
  defaultOptimizer?: string;
  /** Per optimizer, every hyperparameter's default. */
  defaults: Record<string, Record<string, unknown>>;
  hyperparameters: HyperparameterInfo[];
}

export interface JobRecord {
  id: string;
  model: string;
  dataset: string;
  target: string;
  features: string[];
  status: JobStatus;
  progress: number;
  algorithm: string;
  hyperparameters: Record<string, unknown>;
  validationSplit: number;
  seed: number;
  alias: string | null;
  lossHistory: number[];
  metrics: { train: Record<string, unknown>; validation: Record<string, unknown> | null } | null;
  training: {
    epochsRun: number;
    stoppedEarly: boolean;
    trainRows: number;
    validationRows: number;
    validationLossHistory: number[];
  } | null;
  modelVersion: number | null;
  error: string | null;
  createdBy: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The data of an SSE `progress` event. */
export interface ProgressEvent {
  status: JobStatus;
  progress: number;
  /** Points in the job's loss history so far (not epochs: the live history is time-sampled). */
  epochs: number;
  loss: number | null;
  /** The curve recorded so far (the stream is opened with `?include=lossHistory`). */
  lossHistory: number[];
}
