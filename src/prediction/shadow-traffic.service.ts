import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import {
  BoundCounter,
  BoundHistogram,
  CounterSeries,
  HistogramSeries,
} from '../metrics/bound-metrics';
import { MetricsService } from '../metrics/metrics.service';
import { ModelsService } from '../models/models.service';
import { ServingVersionsService } from '../models/serving-versions.service';
import type { LoadedVersion, ServedRoute } from './loaded-models.service';
import { InferenceRequest, PredictionResult, PredictionService } from './prediction.service';
import {
  ComparableAnswer,
  compareAnswers,
  comparableTensors,
  PairComparison,
} from './shadow-comparison';
import type { Tensor } from '../tensors/datatypes';

/** Mirrored requests waiting for their shadow; beyond this they are dropped and counted. */
export const SHADOW_QUEUE_CAPACITY = 1000;
/** Latencies kept per alias for the summary's percentiles. */
const LATENCY_WINDOW = 1000;
/** The longest the queue is worked on before requests get the event loop back. */
const DRAIN_SLICE_MS = 1;

type Outcome = 'compared' | 'failed' | 'dropped';

/** A tally's bound metric series: counted without hashing labels on every request. */
interface TallySeries {
  outcomes: Record<Outcome, CounterSeries>;
  primarySeconds: HistogramSeries;
  shadowSeconds: HistogramSeries;
}

/** What a mirrored request carries: enough to run it again, and the answer to compare with. */
export type MirroredRequest =
  | { protocol: 'v1'; instances: unknown[]; answer: PredictionResult }
  | {
      protocol: 'v2';
      request: InferenceRequest;
      /** The binary tensor data, copied: the primary's run may have moved the original away. */
      binary: Buffer | null;
      answer: Tensor[];
    };

interface ShadowJob {
  route: ServedRoute;
  shadow: LoadedVersion;
  mirrored: MirroredRequest;
  primaryMs: number;
}

/** The comparison of an alias's answers with its shadow's so far, as `GET …/shadow` reports it. */
export interface ShadowSummary {
  model: string;
  alias: string;
  /** The alias's version while these were compared (a canary's answers count as the alias's). */
  primaryVersion: number;
  /** The version run in the shadow. */
  shadowVersion: number;
  since: string;
  /** Requests compared. */
  count: number;
  /** Shadow runs that failed (the client never saw them). */
  errors: number;
  /** Mirrored requests dropped because the queue was full. */
  dropped: number;
  /** Answers of different shapes (or outputs) that could not be compared. */
  mismatched: number;
  /** Labels: the fraction of rows where both answered the same; null when there are none. */
  agreement: number | null;
  /** Numeric outputs: absolute and relative differences; null when there are none. */
  difference: { meanAbsolute: number; maxAbsolute: number; meanRelative: number } | null;
  /** Classifiers' probabilities: absolute differences; null when there are none. */
  probabilityDifference: { meanAbsolute: number; maxAbsolute: number } | null;
  /** Time to compute each answer (the primary's without HTTP), in milliseconds. */
  latencyMs: { primary: LatencyFigures; shadow: LatencyFigures };
}

interface LatencyFigures {
  mean: number | null;
  p99: number | null;
}

/**
 * One alias's running comparison of one pair of versions: reset when the alias moves to another
 * version or gets another shadow, so its figures never mix two primaries.
 */
class ShadowTally {
  readonly since = new Date();
  /** False once the alias no longer has this shadow: kept for GET, gone from the gauges. */
  active = true;
  count = 0;
  errors = 0;
  dropped = 0;
  mismatched = 0;
  labelsCompared = 0;
  labelsAgreeing = 0;
  valuesCompared = 0;
  absDiffSum = 0;
  absDiffMax = 0;
  relDiffSum = 0;
  probabilitiesCompared = 0;
  probabilityDiffSum = 0;
  probabilityDiffMax = 0;
  readonly primaryMs: number[] = [];
  readonly shadowMs: number[] = [];
  private next = 0;

  constructor(
    readonly primaryVersion: number,
    readonly shadowVersion: number,
    readonly labels: { model: string; alias: string },
    readonly series: TallySeries,
  ) {}

  add(pair: PairComparison, primaryMs: number, shadowMs: number): void {
    this.count++;
    if (pair.mismatched) this.mismatched++;
    this.labelsCompared += pair.labelsCompared;
    this.labelsAgreeing += pair.labelsAgreeing;
    this.valuesCompared += pair.valuesCompared;
    this.absDiffSum += pair.absDiffSum;
    this.absDiffMax = Math.max(this.absDiffMax, pair.absDiffMax);
    this.relDiffSum += pair.relDiffSum;
    this.probabilitiesCompared += pair.probabilitiesCompared;
    this.probabilityDiffSum += pair.probabilityDiffSum;
    this.probabilityDiffMax = Math.max(this.probabilityDiffMax, pair.probabilityDiffMax);
    this.primaryMs[this.next] = primaryMs;
    this.shadowMs[this.next] = shadowMs;
    this.next = (this.next + 1) % LATENCY_WINDOW;
  }

  summary(model: string, alias: string): ShadowSummary {
    return {
      model,
      alias,
      primaryVersion: this.primaryVersion,
      shadowVersion: this.shadowVersion,
      since: this.since.toISOString(),
      count: this.count,
      errors: this.errors,
      dropped: this.dropped,
      mismatched: this.mismatched,
      agreement: this.labelsCompared > 0 ? this.labelsAgreeing / this.labelsCompared : null,
      difference:
        this.valuesCompared > 0
          ? {
              meanAbsolute: this.absDiffSum / this.valuesCompared,
              maxAbsolute: this.absDiffMax,
              meanRelative: this.relDiffSum / this.valuesCompared,
            }
          : null,
      probabilityDifference:
        this.probabilitiesCompared > 0
          ? {
              meanAbsolute: this.probabilityDiffSum / this.probabilitiesCompared,
              maxAbsolute: this.probabilityDiffMax,
            }
          : null,
      latencyMs: { primary: figures(this.primaryMs), shadow: figures(this.shadowMs) },
    };
  }
}

function figures(samples: number[]): LatencyFigures {
  if (samples.length === 0) return { mean: null, p99: null };
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  const rank = Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1);
  return { mean: sum / sorted.length, p99: sorted[rank] };
}

/**
 * Shadow traffic: mirrored requests run again on the alias's shadow version after their answer is
 * on its way, one at a time, from a bounded queue (full: dropped and counted), so the shadow never
 * delays, fails or changes a client's answer. Each pair of answers is compared and tallied per
 * alias, for `GET …/aliases/{alias}/shadow` and /metrics. Tallies are this replica's own.
 */
@Injectable()
export class ShadowTrafficService implements OnApplicationShutdown {
  private readonly logger = new Logger('Shadow');
  private readonly queue: ShadowJob[] = [];
  private draining = false;
  private stopped = false;
  /** `model\nalias` → its tally. */
  private readonly tallies = new Map<string, ShadowTally>();

  private readonly requests: BoundCounter;
  private readonly computeSeconds: BoundHistogram;

  constructor(
    private readonly prediction: PredictionService,
    private readonly metrics: MetricsService,
    private readonly models: ModelsService,
    registry: ServingVersionsService,
  ) {
    registry.onChange((model) => this.retireTallies(model));
    const { registry: metricsRegistry } = metrics;
    this.requests = new BoundCounter(
      'modeldock_shadow_requests_total',
      'Requests mirrored to an alias shadow, by outcome: compared, failed (the shadow errored) or dropped (queue full).',
      ['model', 'alias', 'outcome'],
      metricsRegistry,
    );
    this.computeSeconds = new BoundHistogram(
      'modeldock_shadow_compute_seconds',
      'Time to compute the answers compared, by role (primary: the version that answered; shadow).',
      ['model', 'alias', 'role'],
      [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5],
      metricsRegistry,
    );
    // The running figures are read from the tallies at scrape time, not set per request.
    const active = () => [...this.tallies.values()].filter((tally) => tally.active);
    const agreement: Gauge = new Gauge({
      name: 'modeldock_shadow_agreement_ratio',
      help: 'Fraction of rows whose label the shadow answered the same as the served version, since the shadow was set.',
      labelNames: ['model', 'alias'],
      registers: [metricsRegistry],
      collect: () => {
        agreement.reset();
        for (const tally of active()) {
          if (tally.labelsCompared > 0) {
            agreement.set(tally.labels, tally.labelsAgreeing / tally.labelsCompared);
          }
        }
      },
    });
    const difference: Gauge = new Gauge({
      name: 'modeldock_shadow_difference',
      help: 'Absolute difference between the shadow and the served numeric outputs since the shadow was set (statistic: mean or max).',
      labelNames: ['model', 'alias', 'statistic'],
      registers: [metricsRegistry],
      collect: () => {
        difference.reset();
        for (const tally of active()) {
          if (tally.valuesCompared === 0) continue;
          const mean = tally.absDiffSum / tally.valuesCompared;
          difference.set({ ...tally.labels, statistic: 'mean' }, mean);
          difference.set({ ...tally.labels, statistic: 'max' }, tally.absDiffMax);
        }
      },
    });
  }

  /** Queues a request answered for `route` to run on its shadow; never waits, never throws. */
  offer(route: ServedRoute, mirrored: MirroredRequest, primaryMs: number): void {
    const { shadow } = route;
    if (!shadow || !route.alias || this.stopped) return;
    const tally = this.tally(route, shadow.version.version);
    if (this.queue.length >= SHADOW_QUEUE_CAPACITY) {
      tally.dropped++;
      tally.series.outcomes.dropped.inc();
      return;
    }
    this.queue.push({ route, shadow: shadow.version, mirrored, primaryMs });
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  /**
   * After a change to `model`: a tally whose alias no longer has that shadow keeps answering
   * `GET …/shadow` (inactive), but its gauges leave /metrics so no dashboard shows them as current.
   */
  private async retireTallies(model: string): Promise<void> {
    for (const [key, tally] of this.tallies) {
      const [owner, alias] = key.split('\n');
      if (owner !== model) continue;
      const row = await this.models.getAlias(model, alias).catch(() => null);
      tally.active =
        row?.version === tally.primaryVersion && row?.shadowVersion === tally.shadowVersion;
    }
  }

  /** The alias's tally, or null when it has had no shadow traffic here. */
  summary(model: string, alias: string): ShadowSummary | null {
    return this.tallies.get(`${model}\n${alias}`)?.summary(model, alias) ?? null;
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  /**
   * Runs queued shadows one at a time, in slices of DRAIN_SLICE_MS between which requests have
   * the event loop.
   */
  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const sliceEnd = performance.now() + DRAIN_SLICE_MS;
      do {
        const job = this.queue.shift() as ShadowJob;
        const pending = this.run(job);
        if (pending) await pending;
      } while (this.queue.length > 0 && !this.stopped && performance.now() < sliceEnd);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.draining = false;
  }

  /** Runs one shadow: synchronously when its version answers synchronously (versions trained here). */
  private run(job: ShadowJob): Promise<void> | undefined {
    const { route, shadow, mirrored } = job;
    const tally = this.tally(route, shadow.version);
    const started = performance.now();
    const failed = (error: unknown) => {
      tally.errors++;
      tally.series.outcomes.failed.inc();
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.debug(`shadow v${shadow.version} of ${shadow.model} failed: ${reason}`);
    };
    const compared = (pair: PairComparison) => {
      const shadowMs = performance.now() - started;
      tally.add(pair, job.primaryMs, shadowMs);
      tally.series.outcomes.compared.inc();
      tally.series.primarySeconds.observe(job.primaryMs / 1000);
      tally.series.shadowSeconds.observe(shadowMs / 1000);
    };
    try {
      const pair = this.compare(shadow, mirrored);
      if (pair instanceof Promise) return pair.then(compared, failed);
      compared(pair);
    } catch (error) {
      failed(error);
    }
  }

  /** Runs the request on the shadow and compares its answer with the one the client got. */
  private compare(
    shadow: LoadedVersion,
    mirrored: MirroredRequest,
  ): PairComparison | Promise<PairComparison> {
    if (mirrored.protocol === 'v1') {
      const compareWith = (answer: PredictionResult) => {
        // Probabilities line up only when both versions know the same classes in the same order.
        const sameClasses =
          JSON.stringify(answer.classes) === JSON.stringify(mirrored.answer.classes);
        return compareAnswers(
          comparableResult(mirrored.answer, sameClasses),
          comparableResult(answer, sameClasses),
        );
      };
      const answer = this.prediction.predict(shadow, mirrored.instances);
      return answer instanceof Promise ? answer.then(compareWith) : compareWith(answer);
    }
    const order = mirrored.answer.map((tensor) => tensor.name);
    const primary = comparableTensors(mirrored.answer);
    return this.prediction
      .outputTensors(shadow, mirrored.request, mirrored.binary)
      .then((outputs) => compareAnswers(primary, comparableTensors(outputs, order)));
  }

  /** The tally of the route's alias, new when the alias's version or its shadow changed. */
  private tally(route: ServedRoute, shadowVersion: number): ShadowTally {
    const model = route.primary.model;
    const alias = route.alias as string;
    const primaryVersion = route.primary.version;
    const key = `${model}\n${alias}`;
    let tally = this.tallies.get(key);
    if (
      !tally ||
      tally.primaryVersion !== primaryVersion ||
      tally.shadowVersion !== shadowVersion
    ) {
      const labels = { model: this.metrics.modelLabel(model), alias };
      const outcome = (name: Outcome) => this.requests.bind({ ...labels, outcome: name });
      const series: TallySeries = {
        outcomes: {
          compared: outcome('compared'),
          failed: outcome('failed'),
          dropped: outcome('dropped'),
        },
        primarySeconds: this.computeSeconds.bind({ ...labels, role: 'primary' }),
        shadowSeconds: this.computeSeconds.bind({ ...labels, role: 'shadow' }),
      };
      tally = new ShadowTally(primaryVersion, shadowVersion, labels, series);
      this.tallies.set(key, tally);
    }
    return tally;
  }
}

/** A v1 answer: labels and probabilities for a classifier, values for a regressor. */
function comparableResult(result: PredictionResult, withProbabilities: boolean): ComparableAnswer {
  if (result.probabilities) {
    return {
      labels: result.predictions,
      values: null,
      probabilities: withProbabilities ? result.probabilities.flat() : null,
    };
  }
  return { labels: null, values: result.predictions as number[], probabilities: null };
}
