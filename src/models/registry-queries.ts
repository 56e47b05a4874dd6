import { InvalidInputError } from '../common/errors';
import { ModelVersion } from './model-version.entity';

export const MODEL_SORTS = [
  'name',
  '-name',
  'updatedAt',
  '-updatedAt',
  'createdAt',
  '-createdAt',
] as const;
export type ModelSort = (typeof MODEL_SORTS)[number];

export interface ModelFilter {
  /** Names starting with this (case-sensitive). */
  prefix?: string;
  /** `key` (has the tag) or `key:value`. */
  tag?: { key: string; value?: string };
  sort: ModelSort;
}

/** `version`, `createdAt` or `metric:<split>.<name>`; a leading `-` sorts descending. */
export const VERSION_SORT_PATTERN =
  /^-?(version|createdAt|metric:(train|validation)\.[A-Za-z0-9_]+)$/;

export type VersionSort =
  | { by: 'version' | 'createdAt'; descending: boolean }
  | { by: 'metric'; split: 'train' | 'validation'; metric: string; descending: boolean };

export function parseVersionSort(sort: string | undefined): VersionSort {
  if (!sort) return { by: 'version', descending: true };
  if (!VERSION_SORT_PATTERN.test(sort)) {
    throw new InvalidInputError(
      `sort "${sort}" is not supported: use version, createdAt or metric:<train|validation>.<metric>, ` +
        'with a leading "-" for descending (e.g. -metric:validation.r2).',
      [{ field: 'sort', message: 'is not a supported sort' }],
    );
  }
  const descending = sort.startsWith('-');
  const key = descending ? sort.slice(1) : sort;
  if (!key.startsWith('metric:')) return { by: key as 'version' | 'createdAt', descending };
  const [split, metric] = key.slice('metric:'.length).split('.') as [
    'train' | 'validation',
    string,
  ];
  return { by: 'metric', split, metric, descending };
}

export function parseTagFilter(tag: string | undefined): ModelFilter['tag'] {
  if (tag === undefined) return undefined;
  const colon = tag.indexOf(':');
  return colon < 0 ? { key: tag } : { key: tag.slice(0, colon), value: tag.slice(colon + 1) };
}

/** Orders by a metric; versions without it come last, ties newest first. */
export function compareVersions(sort: Extract<VersionSort, { by: 'metric' }>) {
  const valueOf = (version: ModelVersion): number | undefined => {
    const value = version.metrics[sort.split]?.[sort.metric];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  };
  return (a: ModelVersion, b: ModelVersion): number => {
    const [x, y] = [valueOf(a), valueOf(b)];
    if (x === undefined || y === undefined || x === y) {
      if (x !== y) return x === undefined ? 1 : -1;
      return b.version - a.version;
    }
    return sort.descending ? y - x : x - y;
  };
}
