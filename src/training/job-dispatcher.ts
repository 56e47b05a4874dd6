/**
 * Where submitted jobs go and how a cancel reaches the job: the embedded runner in this process,
 * or the queue dispatcher, which hands them to worker processes (`npm run start:worker`).
 */
export interface JobDispatcher {
  /** The job is stored as queued: have it run. */
  submitted(job: { id: string }): Promise<void>;
  /** The job is already marked cancelled in the database: stop it wherever it runs. */
  cancelled(id: string): Promise<void>;
}

export const JOB_DISPATCHER = Symbol('JobDispatcher');
