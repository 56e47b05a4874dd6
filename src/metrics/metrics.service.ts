import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { appConfig, AppConfig } from '../config/app.config';
import { BoundCounter, BoundHistogram, HistogramSeries } from './bound-metrics';

const OTHER_MODELS = '__other__';
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** Bound metric series of one served model version. */
export interface ServingSeries {
  answered(rows: number, seconds: number): void;
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
    return {
      answered: (rowCount, seconds) => {
        requests.inc();
        rows.inc(rowCount);
        duration.observe(seconds);
      },
      remove: () => {
        if (shared) return;
        this.predictions.remove(labels);
        this.predictedRows.remove(labels);
        this.predictionDuration.remove(labels);
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

  setLoadedVersions(count: number): void {
    this.loadedVersions.set(count);
  }

  countTrainingJob(model: string, status: string): void {
    this.trainingJobs.inc({ model: this.modelLabel(model), status });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Caps the number of model label values so a registry of thousands cannot explode the series. */
  private modelLabel(model: string): string {
    if (this.modelLabels.has(model)) return model;
    if (this.modelLabels.size >= this.config.metrics.maxModelLabels) return OTHER_MODELS;
    this.modelLabels.add(model);
    return model;
  }
}
