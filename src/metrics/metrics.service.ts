import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { appConfig, AppConfig } from '../config/app.config';

const OTHER_MODELS = '__other__';
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The service's Prometheus registry. One registry per app instance (not prom-client's global one),
 * so several apps in one process (tests) do not collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly modelLabels = new Set<string>();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly predictions = new Counter({
    name: 'modeldock_predictions_total',
    help: 'Prediction requests answered, by model.',
    labelNames: ['model'] as const,
    registers: [this.registry],
  });

  private readonly predictedRows = new Counter({
    name: 'modeldock_predicted_rows_total',
    help: 'Rows (instances) predicted, by model.',
    labelNames: ['model'] as const,
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
    this.httpDuration.observe({ method, route, status_code: statusCode }, seconds);
  }

  countPrediction(model: string, rows: number): void {
    const label = this.modelLabel(model);
    this.predictions.inc({ model: label });
    this.predictedRows.inc({ model: label }, rows);
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
