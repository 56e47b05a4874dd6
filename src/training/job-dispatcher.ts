/**
 * Where submitted jobs go and how a cancel reaches the job: the embedded runner in this process,
 * or the BullMQ queue that worker processes (`npm run start:worker`) take jobs from.
 */
export interface TrainingDispatcher {
  /** The job is stored as queued: have it run. */
  submitted(job: { id: string }): Promise<void>;
  /** The job is already marked cancelled in the database: stop it wherever it runs. */
  cancelled(id: string): Promise<void>;
}

export const TRAINING_DISPATCHER = Symbol('TrainingDispatcher');
