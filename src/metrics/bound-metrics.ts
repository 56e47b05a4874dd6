import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** One label set's running totals; the hot path only adds to them. */
export interface HistogramSeries {
  observe(value: number): void;
}

export interface CounterSeries {
  inc(by?: number): void;
}

/**
 * Metrics for the request hot path. prom-client validates and hashes the label set on every
 * observation, even through `labels()` children; here a label set is bound once and an observation
 * is a few array additions. prom-client's registry still writes them out at scrape time (it asks
 * each registered metric for `get()`), beside every other metric, in the same format.
 */
abstract class BoundMetric<Series> {
  protected readonly series = new Map<string, { labels: Labels; series: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series of a label set, created on first use; bind once and keep it. */
  bind(labels: Labels): Series {
    const key = this.keyOf(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, series: this.create() };
      this.series.set(key, entry);
    }
    return entry.series;
  }

  /** Drops a label set's series from the exposition (a model version that no longer serves). */
  remove(labels: Labels): void {
    this.series.delete(this.keyOf(labels));
  }

  reset(): void {
    this.series.clear();
  }

  protected abstract create(): Series;

  private keyOf(labels: Labels): string {
    return this.labelNames.map((name) => labels[name]).join('\u0000');
  }
}

class HistogramTotals implements HistogramSeries {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.buckets = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.buckets[i]++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class BoundHistogram extends BoundMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  protected create(): HistogramSeries {
    return new HistogramTotals(this.bounds);
  }

  /** What prom-client's registry formats: cumulative buckets, +Inf, sum and count per series. */
  get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] =
      [];
    for (const { labels, series } of this.series.values()) {
      const totals = series as HistogramTotals;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += totals.buckets[i];
        values.push({
          labels: { le, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        labels: { le: '+Inf', ...labels },
        value: totals.count,
        metricName: `${this.name}_bucket`,
      });
      values.push({ labels, value: totals.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: totals.count, metricName: `${this.name}_count` });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}

class CounterTotal implements CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class BoundCounter extends BoundMetric<CounterSeries> {
  readonly type = 'counter';
  readonly aggregator = 'sum';

  protected create(): CounterSeries {
    return new CounterTotal();
  }

  get() {
    const values = [...this.series.values()].map(({ labels, series }) => ({
      labels,
      value: (series as CounterTotal).value,
    }));
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }
}
