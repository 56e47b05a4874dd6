import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { appConfig, AppConfig } from '../config/app.config';
import { BoundCounter, BoundHistogram, HistogramSeries } from './bound-metrics';

const OTHER_MODELS = '__other__';
/** The statuses a training job ends in: the series of modeldock_training_jobs_total. */
const FINAL_TRAINING_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
export type FinalTrainingStatus = (typeof FINAL_TRAINING_STATUSES)[number];

/** Jobs waiting and training, counted in the database (the same figure from every process). */
export interface ActiveTrainingJobs {
  queued: number;
  running: number;
}
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Bound metric series of one served model version. */
export interface ServingSeries {
  answered(rows: number, seconds: number): void;
  /** Dynamic batching: a batch of `size` rows from `requests` requests ran. */
  batchRan(size: number, requests: number): void;
  /** Dynamic batching: a request waited this long in the queue before its batch ran. */
  queued(delaySeconds: number): void;
  remove(): void;
}

/**
 * The service's Prometheus registry. One registry per app instance (not prom-client's global one),
 * so several apps in one process (tests) do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly modelLabels = new Set<string>();

  // The metrics every request or prediction touches are bound (bound-metrics.ts); the rest are
  // plain prom-client.
  private readonly httpDuration = new BoundHistogram(
    'http_request_duration_seconds',
    'HTTP request duration by method, route template and status code.',
    ['method', 'route', 'status_code'],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );

  /** `method status route` → its bound series (route templates, methods and statuses are few). */
  private readonly httpSeries = new Map<string, HistogramSeries>();

  private readonly predictions = new BoundCounter(
    'modeldock_predictions_total',
    'Prediction requests answered, by model and version (series of unloaded versions are dropped).',
    ['model', 'version'],
    this.registry,
  );

  private readonly predictedRows = new BoundCounter(
    'modeldock_predicted_rows_total',
    'Rows (instances) predicted, by model and version.',
    ['model', 'version'],
    this.registry,
  );

  private readonly predictionDuration = new BoundHistogram(
    'modeldock_prediction_duration_seconds',
    'Duration of answered prediction requests, from the first byte to the last, by model and version.',
    ['model', 'version'],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    this.registry,
  );

  private readonly batchSize = new BoundHistogram(
    'modeldock_batch_size',
    'Rows in each batch a dynamically batched version ran, by model and version.',
    ['model', 'version'],
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    this.registry,
  );

  private readonly batchRequests = new BoundHistogram(
    'modeldock_batch_requests',
    'Requests combined into each batch a dynamically batched version ran, by model and version.',
    ['model', 'version'],
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
    this.registry,
  );

  private readonly batchQueueDelay = new BoundHistogram(
    'modeldock_batch_queue_delay_seconds',
    'Time a request waited for its batch to start, by model and version.',
    ['model', 'version'],
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    this.registry,
  );

  private inFlight = 0;

  private readonly predictionFailures = new Counter({
    name: 'modeldock_prediction_failures_total',
    help: 'Prediction requests refused or failed, by protocol (v1, v2) and reason.',
    labelNames: ['protocol', 'reason'] as const,
    registers: [this.registry],
  });

  private readonly predictionsInFlight: Gauge = new Gauge({
    name: 'modeldock_predictions_in_flight',
    help: 'Prediction requests received and not yet answered.',
    registers: [this.registry],
    collect: () => {
      this.predictionsInFlight.set(this.inFlight);
    },
  });

  private readonly loadedVersions = new Gauge({
    name: 'modeldock_loaded_model_versions',
    help: 'Model versions compiled and held in memory for serving.',
    registers: [this.registry],
  });

  private readonly loadedBytes = new Gauge({
    name: 'modeldock_loaded_model_bytes',
    help: 'Artifact bytes of the versions held in memory (PREDICTOR_CACHE_BYTES bounds it).',
    registers: [this.registry],
  });

  private readonly modelLoads = new Counter({
    name: 'modeldock_model_loads_total',
    help: 'Loads of a model version into memory (artifact read and compiled), by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly trainingJobs = new Counter({
    name: 'modeldock_training_jobs_total',
    help: 'Training jobs that reached a final status, by model and status.',
    labelNames: ['model', 'status'] as const,
    registers: [this.registry],
  });

  private readonly trainingDuration = new Histogram({
    name: 'modeldock_training_duration_seconds',
    help: 'Training runs from claim to finish (data loading, training, registration), by model and outcome.',
    labelNames: ['model', 'outcome'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    registers: [this.registry],
  });

  private countActiveTrainingJobs: (() => Promise<ActiveTrainingJobs>) | null = null;
  /** One database count serves both gauges of a scrape. */
  private activeTrainingJobs: Promise<ActiveTrainingJobs | null> | null = null;

  private readonly queuedTrainingJobs: Gauge = new Gauge({
    name: 'modeldock_training_jobs_queued',
    help: 'Training jobs waiting for a runner, counted in the database: every process reports the same figure (use max, not sum).',
    registers: [this.registry],
    collect: async () => {
      const active = await this.readActiveTrainingJobs();
      if (active) this.queuedTrainingJobs.set(active.queued);
    },
  });

  private readonly runningTrainingJobs: Gauge = new Gauge({
    name: 'modeldock_training_jobs_running',
    help: 'Training jobs running in any process, counted in the database: every process reports the same figure (use max, not sum).',
    registers: [this.registry],
    collect: async () => {
      const active = await this.readActiveTrainingJobs();
      if (active) this.runningTrainingJobs.set(active.running);
    },
  });

  constructor(@Inject(appConfig.KEY) private readonly config: AppConfig) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges *_total, which `promtool check metrics` rejects (only counters
    // may end in _total); the handle/request/resource counts are also in nodejs_active_*.
    for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name);
  }

  observeHttpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    // Children bound once per label set: hashing the labels on every request costs microseconds.
    // Routes are templates and methods and statuses few, so the map stays small.
    const key = `${method} ${statusCode} ${route}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      series = this.httpDuration.bind({ method, route, status_code: String(statusCode) });
      this.httpSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /**
   * The series of one loaded version, bound once so the hot path increments children instead of
   * hashing label sets on every request. Call `remove` when the version is unloaded.
   */
  servingSeries(model: string, version: number): ServingSeries {
    const labels = { model: this.modelLabel(model), version: String(version) };
    // Models beyond the label cap share one series; it is never removed.
    const shared = labels.model === OTHER_MODELS;
    if (shared) labels.version = OTHER_MODELS;
    const requests = this.predictions.bind(labels);
    const rows = this.predictedRows.bind(labels);
    const duration = this.predictionDuration.bind(labels);
    // Batch series appear only for versions that batch.
    const batchSeries = () => ({
      size: this.batchSize.bind(labels),
      requests: this.batchRequests.bind(labels),
      delay: this.batchQueueDelay.bind(labels),
    });
    let batches: ReturnType<typeof batchSeries> | undefined;
    return {
      answered: (rowCount, seconds) => {
        requests.inc();
        rows.inc(rowCount);
        duration.observe(seconds);
      },
      batchRan: (size, requestCount) => {
        batches ??= batchSeries();
        batches.size.observe(size);
        batches.requests.observe(requestCount);
      },
      queued: (delaySeconds) => {
        batches ??= batchSeries();
        batches.delay.observe(delaySeconds);
      },
      remove: () => {
        if (shared) return;
        for (const metric of [
          this.predictions,
          this.predictedRows,
          this.predictionDuration,
          this.batchSize,
          this.batchRequests,
          this.batchQueueDelay,
        ]) {
          metric.remove(labels);
        }
      },
    };
  }

  countPredictionFailure(protocol: 'v1' | 'v2', reason: string): void {
    this.predictionFailures.inc({ protocol, reason });
  }

  predictionStarted(): void {
    this.inFlight++;
  }

  predictionEnded(): void {
    this.inFlight--;
  }

  countModelLoad(outcome: 'success' | 'failure'): void {
    this.modelLoads.inc({ outcome });
  }

  setLoadedVersions(count: number, bytes: number): void {
    this.loadedVersions.set(count);
    this.loadedBytes.set(bytes);
  }

  /**
   * Starts at 0 the series a job of `model` can end in, so that Prometheus' rate() and increase()
   * count its first job (a series first seen at 1 counts nothing). Called wherever a job may end:
   * where it is created and where it is claimed (worker processes have their own registry).
   */
  initTrainingJobSeries(model: string): void {
    const label = this.modelLabel(model);
    for (const status of FINAL_TRAINING_STATUSES)
      this.trainingJobs.inc({ model: label, status }, 0);
  }

  /** A job reached a final status; `seconds` from its claim, when a runner had claimed it. */
  countTrainingJob(model: string, status: FinalTrainingStatus, seconds?: number): void {
    const label = this.modelLabel(model);
    this.trainingJobs.inc({ model: label, status });
    if (seconds !== undefined)
      this.trainingDuration.observe({ model: label, outcome: status }, seconds);
  }

  /** The gauges of queued and running jobs read the database through `count` at each scrape. */
  countActiveTrainingJobsWith(count: () => Promise<ActiveTrainingJobs>): void {
    this.countActiveTrainingJobs = count;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  private readActiveTrainingJobs(): Promise<ActiveTrainingJobs | null> {
    const count = this.countActiveTrainingJobs;
    if (!count) return Promise.resolve(null);
    // A database that does not answer leaves the last figures rather than failing the scrape.
    this.activeTrainingJobs ??= count()
      .catch(() => null)
      .finally(() => (this.activeTrainingJobs = null));
    return this.activeTrainingJobs;
  }

  /**
   * The model's label value: its name for the first METRICS_MAX_MODEL_LABELS models, then
   * `__other__`, so a registry of thousands cannot explode the series.
   */
  modelLabel(model: string): string {
    if (this.modelLabels.has(model)) return model;
    if (this.modelLabels.size >= this.config.metrics.maxModelLabels) return OTHER_MODELS;
    this.modelLabels.add(model);
    return model;
  }
}
