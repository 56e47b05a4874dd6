import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import * as path from 'node:path';
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { In, Repository } from 'typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { DatasetsService } from '../datasets/datasets.service';
import { MetricsService } from '../metrics/metrics.service';
import { Algorithm, Hyperparameters, TrainingProgress, TrainingResult } from '../ml';
import { ModelsService } from '../models/models.service';
import { TrainingJob } from './training-job.entity';
import type { TrainingOutcome, TrainingTask } from './training.worker';

const MAX_LIVE_LOSS_POINTS = 1000;
const INTERRUPTED =
  'interrupted: the service stopped while this job was running. Start a new job with the same request.';

/** Compiled code runs training.worker.js; under ts-jest/ts-node the .ts file needs a loader. */
function workerOptions(): { filename: string; execArgv?: string[] } {
  const compiled = path.extname(__filename) === '.js';
  const filename = path.join(__dirname, `training.worker${compiled ? '.js' : '.ts'}`);
  return compiled
    ? { filename }
    : { filename, execArgv: ['--require', 'ts-node/register/transpile-only'] };
}

/**
 * Runs queued jobs in worker threads, oldest first, `TRAINING_CONCURRENCY` at a time.
 * The jobs table is the queue: a job is claimed by moving it from queued to running, so nothing
 * is lost. A graceful shutdown hands running jobs back to the queue; after a crash, jobs left
 * running are marked interrupted (a job that crashed the process must not crash it again).
 */
@Injectable()
export class TrainingRunner implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TrainingRunner.name);
  private readonly pool: Piscina<TrainingTask, TrainingOutcome>;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private pumping: Promise<void> | null = null;
  private wokenWhilePumping = false;
  private stopping = false;

  constructor(
    @InjectRepository(TrainingJob) private readonly jobs: Repository<TrainingJob>,
    private readonly datasets: DatasetsService,
    private readonly models: ModelsService,
    private readonly metrics: MetricsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    this.pool = new Piscina({
      ...workerOptions(),
      minThreads: 0,
      maxThreads: config.training.concurrency,
      idleTimeout: 60_000,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const interrupted = await this.jobs.update(
      { status: 'running' },
      { status: 'failed', error: INTERRUPTED, finishedAt: new Date() },
    );
    if (interrupted.affected)
      this.logger.warn(`${interrupted.affected} interrupted training job(s) marked failed`);
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.pumping;
    for (const { abort } of this.running.values()) abort.abort(new Error('shutdown'));
    await Promise.allSettled([...this.running.values()].map((run) => run.done));
    await this.pool.destroy();
  }

  /** Starts queued jobs while there are free workers. Safe to call at any time. */
  wake(): void {
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

  async cancel(id: string): Promise<void> {
    const run = this.running.get(id);
    if (run) {
      run.abort.abort(new Error('cancelled'));
      await run.done;
      return;
    }
    await this.jobs.update(
      { id, status: In(['queued']) },
      { status: 'cancelled', finishedAt: new Date() },
    );
  }

  private async pump(): Promise<void> {
    while (!this.stopping && this.running.size < this.config.training.concurrency) {
      const next = await this.jobs.findOne({
        where: { status: 'queued' },
        order: { createdAt: 'ASC', id: 'ASC' },
      });
      if (!next) return;
      const claimed = await this.jobs.update(
        { id: next.id, status: 'queued' },
        { status: 'running', startedAt: new Date() },
      );
      if (claimed.affected !== 1) continue;
      // Claimed means running, even if shutdown began meanwhile: it is registered here, so that
      // shutdown hands it back like any running job.
      const abort = new AbortController();
      const done = this.run(next, abort.signal).finally(() => {
        this.running.delete(next.id);
        this.wake();
      });
      this.running.set(next.id, { abort, done });
    }
  }

  private async run(job: TrainingJob, signal: AbortSignal): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    const progress = this.trackProgress(job, port1);
    const started = performance.now();
    try {
      const { dataset, data } = await this.datasets.loadData(job.datasetId);
      const loaded = performance.now();
      const columns = new Map(data.columns.map((column) => [column.name, column]));
      const column = (name: string) => {
        const found = columns.get(name);
        if (!found) throw new Error(`column ${name} is missing from dataset ${dataset.id}`);
        return found;
      };
      const task: TrainingTask = {
        input: {
          algorithm: job.algorithm as Algorithm,
          features: job.features.map(column),
          target: column(job.target),
          hyperparameters: job.hyperparameters as unknown as Hyperparameters,
          validationSplit: job.validationSplit,
          seed: job.seed,
        },
        progressPort: port2,
      };
      // Move the numeric columns to the worker instead of copying them (hundreds of MB on big
      // datasets); the decoded arrays each own their buffer and are not used here again.
      const buffers = new Set<ArrayBuffer>();
      for (const input of [task.input.target, ...task.input.features]) {
        if (input.type === 'number') buffers.add(input.values.buffer as ArrayBuffer);
      }
      const outcome = await this.pool.run(task, { transferList: [port2, ...buffers], signal });
      await progress.stop();
      const timings = {
        loadMs: Math.round(loaded - started),
        trainMs: Math.round(performance.now() - loaded),
      };
      if (outcome.ok) await this.succeed(job, dataset, outcome.result, timings);
      else
        await this.fail(
          job,
          outcome.userError ? outcome.message : `internal error: ${outcome.message}`,
        );
    } catch (error) {
      await progress.stop();
      // `stopping` too: a task the pool drops at shutdown goes back to the queue, not broken.
      if (signal.aborted || this.stopping) {
        const reason = signal.reason instanceof Error ? signal.reason.message : '';
        if (reason === 'cancelled') await this.finish(job, 'cancelled', {});
        else await this.handBack(job);
      } else {
        this.logger.error(
          `training job ${job.id} crashed: ${error instanceof Error ? error.stack : String(error)}`,
        );
        await this.fail(
          job,
          `internal error: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    } finally {
      port1.close();
    }
  }

  /** Keeps the live loss curve and writes progress at most every TRAINING_PROGRESS_INTERVAL_MS. */
  private trackProgress(job: TrainingJob, port: MessagePort) {
    const lossHistory: number[] = [];
    let latest: TrainingProgress | null = null;
    let writing: Promise<unknown> = Promise.resolve();
    port.on('message', (message: TrainingProgress) => {
      latest = message;
      lossHistory.push(message.loss);
      // Halve the resolution rather than grow without bound on long runs.
      if (lossHistory.length > MAX_LIVE_LOSS_POINTS) {
        const kept = lossHistory.filter((_, i) => i % 2 === 0);
        lossHistory.splice(0, lossHistory.length, ...kept);
      }
    });
    const timer = setInterval(() => {
      if (!latest) return;
      const { epoch, epochs } = latest;
      latest = null;
      writing = this.jobs
        .update(
          { id: job.id, status: 'running' },
          { progress: Math.min(epoch / epochs, 0.99), lossHistory: [...lossHistory] },
        )
        .catch((error: unknown) =>
          this.logger.warn(`progress of job ${job.id} not saved: ${String(error)}`),
        );
    }, this.config.training.progressWriteIntervalMs);
    return {
      stop: async () => {
        clearInterval(timer);
        await writing;
      },
    };
  }

  private async succeed(
    job: TrainingJob,
    dataset: { id: string; name: string; checksum: string },
    result: TrainingResult,
    timings: { loadMs: number; trainMs: number },
  ): Promise<void> {
    const registering = performance.now();
    const metrics = {
      train: { ...result.metrics.train },
      validation: result.metrics.validation && { ...result.metrics.validation },
    };
    const artifact = JSON.stringify(result.artifact);
    const version = await this.models.registerVersion(
      {
        model: job.modelName,
        algorithm: job.algorithm,
        format: result.artifact.format,
        artifact,
        inputSchema: result.artifact.inputs,
        outputSchema: [result.artifact.output],
        hyperparameters: job.hyperparameters,
        metrics,
        lossHistory: result.lossHistory,
        dataset: { id: dataset.id, name: dataset.name, checksum: dataset.checksum },
        trainingJobId: job.id,
        createdBy: `training-job:${job.id}`,
        // Jobs from before keys existed act as a trainer would.
        actor: { name: job.createdBy ?? 'unknown', role: job.createdByRole ?? 'trainer' },
        description: job.description,
        tags: job.tags,
        alias: job.alias,
      },
      // The job succeeds exactly when its version exists.
      async (manager, created) => {
        await manager.update(
          TrainingJob,
          { id: job.id },
          {
            status: 'succeeded',
            progress: 1,
            lossHistory: result.lossHistory,
            metrics,
            modelVersion: created.version,
            finishedAt: new Date(),
          },
        );
      },
    );
    this.metrics.countTrainingJob(job.modelName, 'succeeded');
    // Where the time went: reading the dataset, the worker's training, the registry transaction.
    const registerMs = Math.round(performance.now() - registering);
    this.logger.log(
      `training job ${job.id} registered ${job.modelName} v${version.version.version} ` +
        `(data ${timings.loadMs} ms, training ${timings.trainMs} ms, registration ${registerMs} ms)`,
    );
  }

  /** Back to the queue as if never started: the next start (of any process) runs it from scratch. */
  private async handBack(job: TrainingJob): Promise<void> {
    await this.jobs.update(
      { id: job.id, status: 'running' },
      { status: 'queued', startedAt: null, progress: 0, lossHistory: [] },
    );
    this.logger.log(`training job ${job.id} handed back to the queue at shutdown`);
  }

  private fail(job: TrainingJob, error: string): Promise<void> {
    return this.finish(job, 'failed', { error });
  }

  private async finish(
    job: TrainingJob,
    status: 'failed' | 'cancelled',
    fields: Partial<TrainingJob>,
  ): Promise<void> {
    await this.jobs.update({ id: job.id }, { ...fields, status, finishedAt: new Date() });
    this.metrics.countTrainingJob(job.modelName, status);
  }
}
