import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { AppConfig } from '../config/app.config';
import type { JobDispatcher } from './job-dispatcher';
import { CANCELLED, SHUTDOWN, ThreadExecutor } from './thread-executor';
import { TrainingJobsRepository } from './training-jobs.repository';

const INTERRUPTED =
  'interrupted: the service stopped while this job was running. Start a new job with the same request.';

/**
 * The embedded runner (no REDIS_URL): runs queued jobs in this process's training threads, oldest
 * first, `TRAINING_CONCURRENCY` at a time. The jobs table is the queue: a job is claimed by moving
 * it from queued to running, so nothing is lost. A graceful shutdown hands running jobs back to
 * the queue; after a crash, jobs left running are marked interrupted (a job that crashed the
 * process must not crash it again). Made by TrainingModule's factory, not injected by class.
 */
export class EmbeddedRunner implements JobDispatcher, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(EmbeddedRunner.name);
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private pumping: Promise<void> | null = null;
  private wokenWhilePumping = false;
  private stopping = false;

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly executor: ThreadExecutor,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const interrupted = await this.jobs.markInterrupted(INTERRUPTED);
    if (interrupted) this.logger.warn(`${interrupted} interrupted training job(s) marked failed`);
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.pumping;
    for (const { abort } of this.running.values()) abort.abort(new Error(SHUTDOWN));
    await Promise.allSettled([...this.running.values()].map((run) => run.done));
  }

  submitted(): Promise<void> {
    this.wake();
    return Promise.resolve();
  }

  /** The job is already cancelled in the database; stop its thread if it runs here. */
  async cancelled(id: string): Promise<void> {
    const run = this.running.get(id);
    if (!run) return;
    run.abort.abort(new Error(CANCELLED));
    await run.done;
  }

  /** Starts queued jobs while there are free threads. Safe to call at any time. */
  private wake(): void {
    if (this.pumping) {
      this.wokenWhilePumping = true;
      return;
    }
    this.pumping = this.pump()
      .catch((error: unknown) => this.logger.error(`training queue: ${String(error)}`))
      .finally(() => {
        this.pumping = null;
        if (this.wokenWhilePumping && !this.stopping) {
          this.wokenWhilePumping = false;
          this.wake();
        }
      });
  }

  private async pump(): Promise<void> {
    while (!this.stopping && this.running.size < this.config.training.concurrency) {
      const next = await this.jobs.nextQueued();
      if (!next) return;
      const claimed = await this.jobs.claim(next);
      if (!claimed) continue;
      // Claimed means running, even if shutdown began meanwhile: it is registered here, so that
      // shutdown hands it back like any running job.
      const abort = new AbortController();
      const done = this.executor
        .execute(claimed, abort.signal)
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.error(`training job ${claimed.id}: ${String(error)}`),
        )
        .finally(() => {
          this.running.delete(claimed.id);
          if (!this.stopping) this.wake();
        });
      this.running.set(claimed.id, { abort, done });
    }
  }
}
