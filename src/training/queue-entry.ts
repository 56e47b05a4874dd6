/** What the queue dispatcher and the queue consumers agree on: the BullMQ queue and its entries. */
export const TRAINING_QUEUE = 'modeldock-training';

/** What a queue entry carries: the job's id; the database row holds everything else. */
export interface QueuedTraining {
  jobId: string;
}

/** The BullMQ job id is the training job's id, so adding an entry twice adds it once. */
export function queueEntry(jobId: string) {
  return {
    name: 'train',
    data: { jobId } satisfies QueuedTraining,
    opts: { jobId, removeOnComplete: 1000, removeOnFail: 1000 },
  };
}
