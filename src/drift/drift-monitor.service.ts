import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { Gauge } from 'prom-client';
import { appConfig, AppConfig } from '../config/app.config';
import type { DriftStatus } from '../ml/drift';
import { MetricsService } from '../metrics/metrics.service';
import { DriftService } from './drift.service';
import { PredictionLogReader } from './prediction-log.reader';

/** Versions with drift series at most: bounds the label sets whatever the registry holds. */
export const MAX_WATCHED_VERSIONS = 50;
/** Features with series per version at most (the first ones, in the version's feature order). */
export const MAX_FEATURE_SERIES = 50;

const STATUS_VALUE: Record<DriftStatus, number> = { ok: 0, warning: 1, drift: 2 };

type Labels = Record<string, string>;

/**
 * Drift as Prometheus gauges: every DRIFT_INTERVAL_MS, for the versions an alias serves (its
 * version or canary) that have a reference and logged rows in the last DRIFT_WINDOW_MS, the same
 * computation as GET …/drift over that window. Series of versions no longer watched are removed.
 * Each replica computes from the shared prediction log, so replicas report the same figures
 * (alert on max, not sum).
 */
@Injectable()
export class DriftMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Drift');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  /** Label sets published by the last refresh, per gauge. */
  private published = new Map<Gauge, Map<string, Labels>>();

  private readonly featurePsi: Gauge;
  private readonly featureStatus: Gauge;
  private readonly modelStatus: Gauge;
  private readonly sampleRows: Gauge;

  constructor(
    private readonly drift: DriftService,
    private readonly log: PredictionLogReader,
    metrics: MetricsService,
    @Inject(appConfig.KEY) private readonly config: AppConfig,
  ) {
    const registers = [metrics.registry];
    this.featurePsi = new Gauge({
      name: 'modeldock_feature_drift_psi',
      help: "PSI of a feature's logged values in the drift window against the version's reference (rated features only).",
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.featureStatus = new Gauge({
      name: 'modeldock_feature_drift_status',
      help: 'Drift status of a feature in the drift window: 0 ok (or too few values to rate), 1 warning (PSI >= 0.1), 2 drift (PSI >= 0.25).',
      labelNames: ['model', 'version', 'feature'],
      registers,
    });
    this.modelStatus = new Gauge({
      name: 'modeldock_model_drift_status',
      help: "The worst drift status of a version's rated features in the drift window: 0 ok, 1 warning, 2 drift.",
      labelNames: ['model', 'version'],
      registers,
    });
    this.sampleRows = new Gauge({
      name: 'modeldock_drift_sample_rows',
      help: 'Logged rows the drift gauges of a version were computed from (the drift window, newest 100,000 at most).',
      labelNames: ['model', 'version'],
      registers,
    });
  }

  onApplicationBootstrap(): void {
    const { intervalMs } = this.config.drift;
    if (intervalMs === 0) return;
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Recomputes every watched version's gauges; a refresh already running is joined, not doubled. */
  refresh(): Promise<void> {
    this.running ??= this.recompute()
      .catch((error: unknown) => this.logger.warn(`drift gauges not refreshed: ${String(error)}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async recompute(): Promise<void> {
    const to = new Date();
    const from = new Date(to.getTime() - this.config.drift.windowMs);
    const watched = await this.log.watchedVersions(from, MAX_WATCHED_VERSIONS);
    const next = new Map<Gauge, Map<string, Labels>>();
    const set = (gauge: Gauge, labels: Labels, value: number) => {
      gauge.set(labels, value);
      let series = next.get(gauge);
      if (!series) next.set(gauge, (series = new Map()));
      series.set(JSON.stringify(labels), labels);
    };
    for (const { model, version } of watched) {
      try {
        const report = await this.drift.drift(model, version, { from, to });
        const labels = { model, version: String(version) };
        set(this.modelStatus, labels, STATUS_VALUE[report.status]);
        set(this.sampleRows, labels, report.sampleSize);
        for (const feature of report.features.slice(0, MAX_FEATURE_SERIES)) {
          const featureLabels = { ...labels, feature: feature.name };
          set(this.featureStatus, featureLabels, feature.rated ? STATUS_VALUE[feature.status] : 0);
          if (feature.rated && feature.psi !== null)
            set(this.featurePsi, featureLabels, feature.psi);
        }
      } catch (error) {
        // Deleted meanwhile, or its reference removed: its series go with the others not set.
        this.logger.warn(`drift of ${model} v${version} not computed: ${String(error)}`);
      }
    }
    for (const [gauge, series] of this.published) {
      for (const [key, labels] of series) {
        if (!next.get(gauge)?.has(key)) gauge.remove(labels);
      }
    }
    this.published = next;
  }
}
