// Metrics of a model's versions, flattened to names such as `validation.rmse`, and the orders the
// versions table sorts by.

import type { ModelVersion } from '../types';

/** `{ train: { rmse: 1 } }` → `{ 'train.rmse': 1 }`; only finite numbers are kept. */
export function flatMetrics(metrics: Record<string, unknown>, prefix = ''): Record<string, number> {
  const flat: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics ?? {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'number' && Number.isFinite(value)) flat[name] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value))
      Object.assign(flat, flatMetrics(value as Record<string, unknown>, name));
  }
  return flat;
}

/** Errors and losses: smaller is better. Scores (r2, accuracy, f1): larger is better. */
export function lowerIsBetter(metric: string): boolean {
  return /(^|\.)(mse|rmse|mae|mape|log_?loss|logloss|loss|error)$/i.test(metric);
}

/** Every metric any version has, validation ones first (what a version is chosen by). */
export function metricNames(versions: { flat: Record<string, number> }[]): string[] {
  const names = new Set<string>();
  for (const version of versions) Object.keys(version.flat).forEach((name) => names.add(name));
  const rank = (name: string) =>
    name.startsWith('validation.') ? 0 : name.startsWith('train.') ? 1 : 2;
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The metric a first look at the versions is sorted by. */
export function defaultMetric(names: string[]): string | null {
  for (const preferred of ['validation.r2', 'validation.accuracy', 'validation.f1']) {
    if (names.includes(preferred)) return preferred;
  }
  return names[0] ?? null;
}

/** `validation.rmse` ↔ `train.rmse`: the same metric on the other split, drawn for comparison. */
export function otherSplit(metric: string): string | null {
  if (metric.startsWith('validation.')) return `train.${metric.slice('validation.'.length)}`;
  if (metric.startsWith('train.')) return `validation.${metric.slice('train.'.length)}`;
  return null;
}

export interface Row {
  version: ModelVersion;
  flat: Record<string, number>;
}

export type SortKey = 'version' | 'createdAt' | `metric:${string}`;
export interface Sort {
  key: SortKey;
  descending: boolean;
}

/** Sorts rows by `sort`; versions without the metric go last whatever the direction. */
export function sortRows(rows: Row[], sort: Sort): Row[] {
  const value = (row: Row): number | string | undefined => {
    if (sort.key === 'version') return row.version.version;
    if (sort.key === 'createdAt') return row.version.createdAt;
    return row.flat[sort.key.slice('metric:'.length)];
  };
  return [...rows].sort((a, b) => {
    const left = value(a);
    const right = value(b);
    if (left === undefined || right === undefined) {
      if (left === right) return b.version.version - a.version.version;
      return left === undefined ? 1 : -1;
    }
    const order = left < right ? -1 : left > right ? 1 : 0;
    return (sort.descending ? -order : order) || b.version.version - a.version.version;
  });
}

/** The best version by `metric` (smallest error or largest score), if any version has it. */
export function bestBy(rows: Row[], metric: string): Row | null {
  const scored = rows.filter((row) => row.flat[metric] !== undefined);
  if (scored.length === 0) return null;
  const lower = lowerIsBetter(metric);
  return scored.reduce((best, row) =>
    lower
      ? row.flat[metric] < best.flat[metric]
        ? row
        : best
      : row.flat[metric] > best.flat[metric]
        ? row
        : best,
  );
}
