import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { DelayedError, Job, Queue, Worker } from 'bullmq';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { RedisService } from '../cluster/redis.service';
import { appConfig, AppConfig } from '../config/app.config';
import { QueuedTraining, queueEntry, TRAINING_QUEUE } from './queue-entry';
import { CANCELLED, SHUTDOWN, ThreadExecutor } from './thread-executor';
import { ACTIVE_JOB_STATUSES } from './training-job.entity';
import { TrainingJobsRepository } from './training-jobs.repository';

/** Queued rows older than this without a queue entry are enqueued again (an API died in between). */
const RECONCILE_AFTER_MS = 30_000;

/**
 * The queue consumer of a worker process (`npm run start:worker`): takes job ids from the BullMQ
 * queue, `TRAINING_CONCURRENCY` at a time, and runs them in training threads with the same
 * ThreadExecutor as the embedded runner.
 *
 * A worker process killed mid-job stops renewing its BullMQ lock; after TRAINING_WORKER_LOCK_MS
 * another one receives the job again (BullMQ's stalled-job check) and finds the row still running
 * under the dead process's claim. Below TRAINING_JOB_ATTEMPTS claims it runs the job again from
 * scratch; at the limit it marks the job failed, saying why. The claim check at registration means
 * a job is never registered twice. A graceful stop hands running jobs back to the queue.
 */
@Injectable()
export class QueueConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('QueueConsumer');
  private readonly running = new Map<string, AbortController>();
  private consumer: Worker<QueuedTraining> | undefined;
  private queue: Queue<QueuedTraining> | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly executor: ThreadExecutor,
    private readonly redis: RedisService,
    private readonly cluster: ClusterEventsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const { concurrency, attempts, workerLockMs } = this.config.training;
    this.cluster.subscribe('training.cancelled', ({ jobId }) => {
      this.running.get(jobId)?.abort(new Error(CANCELLED));
    });
    this.consumer = new Worker<QueuedTraining>(
      TRAINING_QUEUE,
      (job, token) => this.process(job, token),
      {
        connection: this.redis.open('queue consumer'),
        prefix: this.redis.keyPrefix,
        concurrency,
        lockDuration: workerLockMs,
        stalledInterval: workerLockMs,
        // One delivery more than the attempts, so the last one can mark the row failed.
        maxStalledCount: attempts,
      },
    );
    this.consumer.on('error', (error) => this.logger.warn(`consumer: ${error.message}`));
    this.queue = new Queue<QueuedTraining>(TRAINING_QUEUE, {
      connection: this.redis.client(),
      prefix: this.redis.keyPrefix,
    });
    this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_AFTER_MS);
    this.reconcileTimer.unref();
    void this.reconcile();
    this.logger.log(`taking training jobs from Redis, ${concurrency} at a time`);
  }

  /** Graceful stop: running jobs go back to the queue (for another process), then BullMQ closes. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.reconcileTimer);
    for (const abort of this.running.values()) abort.abort(new Error(SHUTDOWN));
    await this.consumer?.close();
    await this.queue?.close();
  }

  private async process(entry: Job<QueuedTraining>, token: string | undefined): Promise<void> {
    const row = await this.jobs.get(entry.data.jobId);
    // Cancelled, finished or deleted meanwhile: nothing to do.
    if (!row || !ACTIVE_JOB_STATUSES.includes(row.status)) return;
    if (row.status === 'running' && row.attempts >= this.config.training.attempts) {
      await this.jobs.failUnclaimed(
        row,
        `interrupted: the worker running this job stopped (killed or crashed) on attempt ` +
          `${row.attempts} of ${this.config.training.attempts} (TRAINING_JOB_ATTEMPTS). ` +
          'Start a new job with the same request.',
      );
      return;
    }
    const claimed = await this.jobs.claim(row);
    if (!claimed) return;
    if (row.status === 'running') {
      this.logger.warn(`training job ${row.id}: its worker process stopped; running it again`);
    }
    const abort = new AbortController();
    this.running.set(claimed.id, abort);
    try {
      const end = await this.executor.execute(claimed, abort.signal);
      if (end === 'handed-back') {
        // Back in the queue for the next worker process, without counting as a failed attempt.
        await entry.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
    } finally {
      this.running.delete(claimed.id);
    }
  }

  /**
   * Queued rows whose queue entry was never added (or was lost): add it. BullMQ ignores an add
   * whose job id is already in the queue, so entries that exist are left as they are.
   */
  private async reconcile(): Promise<void> {
    try {
      const stale = await this.jobs.staleQueuedIds(new Date(Date.now() - RECONCILE_AFTER_MS), 1000);
      for (const id of stale) {
        const { name, data, opts } = queueEntry(id);
        await this.queue?.add(name, data, opts);
      }
    } catch (error) {
      this.logger.warn(`reconciling the queue: ${String(error)}`);
    }
  }
}
