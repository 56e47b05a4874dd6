import { Logger, OnModuleDestroy } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { RedisService } from '../cluster/redis.service';
import { withTimeout } from '../common/with-timeout';
import type { JobDispatcher } from './job-dispatcher';
import { QueuedTraining, queueEntry, TRAINING_QUEUE } from './queue-entry';

/** How long a request waits on Redis before going on without it. */
const REDIS_WAIT_MS = 2000;

/**
 * The queue dispatcher (with REDIS_URL): API processes only enqueue. The job row is stored as
 * queued first, then its id goes to BullMQ, where the queue consumers of worker processes
 * (`npm run start:worker`) take it. A cancel is written to the row (the authority) and announced,
 * so the worker process running it stops within moments. Made by TrainingModule's factory.
 */
export class QueueDispatcher implements JobDispatcher, OnModuleDestroy {
  private readonly logger = new Logger('QueueDispatcher');
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
      // The row is stored; a queue consumer's reconciliation enqueues it once Redis answers again.
      this.logger.warn(`job ${job.id} not enqueued yet: ${String(error)}`);
    }
  }

  async cancelled(id: string): Promise<void> {
    await this.cluster.publish('training.cancelled', { jobId: id });
    // A waiting entry can go now; an active one ends when its worker process hears of the cancel.
    await withTimeout(this.queue.remove(id), REDIS_WAIT_MS, 'dequeueing').catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    await withTimeout(this.queue.close(), REDIS_WAIT_MS, 'closing the queue').catch(
      () => undefined,
    );
  }
}
