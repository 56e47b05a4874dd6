/** How a model's predictions are logged: what fraction, and for how long. */
export interface MonitoringSettings {
  /** 0..1: the fraction of requests logged; 0 turns the log off. */
  sampleRate: number;
  /** Entries kept per model; the oldest go first. */
  maxRows: number;
  /** Entries older than this many days are removed. */
  maxAgeDays: number;
}

/**
 * A tenth of requests: enough rows for drift within minutes at any real traffic, cheap enough on
 * the hot path (tens of nanoseconds a request, docs/monitoring.md), and a month or 100,000
 * entries per model at most.
 */
export const DEFAULT_MONITORING: MonitoringSettings = {
  sampleRate: 0.1,
  maxRows: 100_000,
  maxAgeDays: 30,
};
