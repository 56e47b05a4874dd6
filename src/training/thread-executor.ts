import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { MessageChannel, MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { ownedBuffers } from '../common/owned-buffers';
import { threadFile } from '../common/thread-file';
import { appConfig, AppConfig } from '../config/app.config';
import { DatasetsService } from '../datasets/datasets.service';
import { encodeReferenceSamples } from '../drift/reference-samples';
import { Algorithm, Hyperparameters, TrainingProgress, TrainingResult } from '../ml';
import { TrainingJob } from './training-job.entity';
import { TrainingJobsRepository } from './training-jobs.repository';
import type { ThreadOutcome, TrainingTask } from './training.thread';

const MAX_LIVE_LOSS_POINTS = 1000;

/** How a claimed run ended. `lost`: the job was cancelled, or another runner took it over. */
export type RunEnd = 'succeeded' | 'failed' | 'cancelled' | 'handed-back' | 'lost';

/** Why a run is aborted: a user's cancel, or this process stopping (the job goes back). */
export const CANCELLED = 'cancelled';
export const SHUTDOWN = 'shutdown';

/**
 * Runs one claimed training job in a training thread (a piscina pool of `TRAINING_CONCURRENCY`),
 * for whichever runner claimed it: the embedded runner, or a worker process's queue consumer.
 * Its writes go through TrainingJobsRepository under the run's claim: when a write finds the claim
 * gone (cancelled, or taken over), the run stops and registers nothing.
 */
@Injectable()
export class ThreadExecutor implements OnApplicationShutdown {
  private readonly logger = new Logger('Training');
  private readonly pool: Piscina<TrainingTask, ThreadOutcome>;
  private stopping = false;

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly datasets: DatasetsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    this.pool = new Piscina({
      ...threadFile(__dirname, 'training.thread'),
      minThreads: 0,
      maxThreads: config.training.concurrency,
      idleTimeout: 60_000,
    });
  }

  /** After every runner has stopped its runs (their onModuleDestroy). */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.pool.destroy();
  }

  async execute(job: TrainingJob, signal: AbortSignal): Promise<RunEnd> {
    const { port1, port2 } = new MessageChannel();
    const lost = new AbortController();
    const progress = this.trackProgress(job, port1, () => lost.abort(new Error('lost')));
    const both = AbortSignal.any([signal, lost.signal]);
    const started = performance.now();
    try {
      const { dataset, source } = await this.datasets.contentsFor(job.datasetId);
      const looked = performance.now();
      const task: TrainingTask = {
        input: {
          algorithm: job.algorithm as Algorithm,
          hyperparameters: job.hyperparameters as unknown as Hyperparameters,
          validationSplit: job.validationSplit,
          seed: job.seed,
        },
        features: job.features,
        target: job.target,
        data: source,
        progressPort: port2,
      };
      // Stored bytes move to the thread instead of being copied (hundreds of MB on big datasets)
      // when they own their memory; from a file, the thread reads the columns itself.
      const moved = 'encoded' in source ? ownedBuffers([source.encoded]) : [];
      const outcome = await this.pool.run(task, {
        transferList: [port2, ...moved],
        signal: both,
      });
      await progress.stop();
      // Data: finding the encoding (reading it, from a database or bucket), plus the thread's read.
      const threadLoadMs = outcome.ok ? outcome.loadMs : 0;
      const timings = {
        loadMs: Math.round(looked - started + threadLoadMs),
        trainMs: Math.round(performance.now() - looked - threadLoadMs),
      };
      if (outcome.ok) return await this.succeed(job, dataset, outcome.result, timings);
      return await this.fail(
        job,
        outcome.userError ? outcome.message : `internal error: ${outcome.message}`,
      );
    } catch (error) {
      await progress.stop();
      if (lost.signal.aborted) return 'lost';
      // `stopping` too: a task the pool drops at shutdown goes back to the queue, not broken.
      if (signal.aborted || this.stopping) {
        const reason = signal.reason instanceof Error ? signal.reason.message : '';
        // The cancel itself already wrote the row.
        if (reason === CANCELLED) return 'cancelled';
        if (!(await this.jobs.handBack(job))) return 'lost';
        this.logger.log(`training job ${job.id} handed back to the queue`);
        return 'handed-back';
      }
      this.logger.error(
        `training job ${job.id} crashed: ${error instanceof Error ? error.stack : String(error)}`,
      );
      return this.fail(
        job,
        `internal error: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      port1.close();
    }
  }

  /**
   * Keeps the live loss curve and writes progress at most every TRAINING_PROGRESS_INTERVAL_MS.
   * A write that finds the claim gone (cancelled elsewhere) stops the run: `onLost`.
   */
  private trackProgress(job: TrainingJob, port: MessagePort, onLost: () => void) {
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
        .reportProgress(job, Math.min(epoch / epochs, 0.99), [...lossHistory])
        .then((held) => {
          if (!held) onLost();
        })
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
  ): Promise<RunEnd> {
    const registering = performance.now();
    const metrics = {
      train: { ...result.metrics.train },
      validation: result.metrics.validation && { ...result.metrics.validation },
    };
    const version = await this.jobs.succeed(
      job,
      {
        model: job.modelName,
        algorithm: job.algorithm,
        format: result.artifact.format,
        artifact: JSON.stringify(result.artifact),
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
        reference: result.reference.profile,
        referenceSamples: encodeReferenceSamples(result.reference.samples),
      },
      {
        metrics,
        lossHistory: result.lossHistory,
        training: {
          epochsRun: result.epochsRun,
          stoppedEarly: result.stoppedEarly,
          trainRows: result.trainRows,
          validationRows: result.validationRows,
          validationLossHistory: result.validationLossHistory,
        },
      },
    );
    if (!version) {
      this.logger.log(`training job ${job.id} was cancelled or taken over; nothing registered`);
      return 'lost';
    }
    // Where the time went: reading the dataset, the thread's training, the registry transaction.
    const registerMs = Math.round(performance.now() - registering);
    const stopped = result.stoppedEarly ? `, stopped early at epoch ${result.epochsRun}` : '';
    this.logger.log(
      `training job ${job.id} registered ${job.modelName} v${version.version.version}${stopped} ` +
        `(data ${timings.loadMs} ms, training ${timings.trainMs} ms, registration ${registerMs} ms)`,
    );
    return 'succeeded';
  }

  private async fail(job: TrainingJob, error: string): Promise<RunEnd> {
    return (await this.jobs.fail(job, error)) ? 'failed' : 'lost';
  }
}
