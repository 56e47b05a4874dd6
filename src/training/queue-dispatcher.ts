import { Logger, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { RedisService } from '../cluster/redis.service';
import { withTimeout } from '../common/with-timeout';
import type { TrainingDispatcher } from './training-dispatcher';

export const TRAINING_QUEUE = 'modeldock-training';
/** How long a request waits on Redis before going on without it. */
const REDIS_WAIT_MS = 2000;

/** What a queue entry carries: the job's id; the database row holds everything else. */
export interface QueuedTraining {
  jobId: string;
}

/** Queue options both sides agree on; the BullMQ job id is the training job's id. */
export function queueEntry(jobId: string) {
  return {
    name: 'train',
    data: { jobId } satisfies QueuedTraining,
    opts: { jobId, removeOnComplete: 1000, removeOnFail: 1000 },
  };
}

/**
 * With REDIS_URL, API processes only enqueue: the job row is stored as queued first, then its id
 * goes to BullMQ, where `npm run start:worker` processes take it. A cancel is written to the row
 * (the authority) and announced, so the worker running it stops within moments. Made by
 * TrainingModule's factory.
 */
export class TrainingQueueDispatcher implements TrainingDispatcher, OnModuleDestroy {
  private readonly logger = new Logger('TrainingQueue');
  private readonly queue: Queue<QueuedTraining>;

  constructor(
    redis: RedisService,
    private readonly cluster: ClusterEventsService,
  ) {
    this.queue = new Queue<QueuedTraining>(TRAINING_QUEUE, {
      connection: redis.client(),
      prefix: redis.keyPrefix,
    });
    this.queue.on('error', (error) => this.logger.warn(`queue: ${error.message}`));
  }

  async submitted(job: { id: string }): Promise<void> {
    const { name, data, opts } = queueEntry(job.id);
    try {
      // BullMQ waits for a connection that may not come: do not hold the request for it.
      await withTimeout(this.queue.add(name, data, opts), REDIS_WAIT_MS, 'enqueueing');
    } catch (error) {
      // The row is stored; a worker's reconciliation enqueues it once Redis answers again.
      this.logger.warn(`job ${job.id} not enqueued yet: ${String(error)}`);
    }
  }

  async cancelled(id: string): Promise<void> {
    await this.cluster.publish('training.cancelled', { jobId: id });
    // A waiting entry can go now; an active one ends when its worker hears of the cancel.
    await withTimeout(this.queue.remove(id), REDIS_WAIT_MS, 'dequeueing').catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await withTimeout(this.queue.close(), REDIS_WAIT_MS, 'closing the queue').catch(
      () => undefined,
    );
  }
}
