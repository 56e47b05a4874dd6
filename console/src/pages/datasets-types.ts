// What GET /v1/datasets/{id} and …/rows answer, beyond the shared Dataset type.

import type { Dataset } from '../types';

export interface DatasetColumn {
  name: string;
  type: 'number' | 'string';
  /** Empty cells; training imputes them in features. */
  missing: number;
}

export interface DatasetRecord extends Omit<Dataset, 'columns'> {
  columns: DatasetColumn[];
  sizeBytes: number;
}

export interface DatasetRows {
  columns: string[];
  /** Cells in column order; null is a missing value. */
  rows: (number | string | null)[][];
  total: number;
  limit: number;
  offset: number;
}

/** The API's name rule for datasets, models and aliases. */
export const NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}';

/** A default dataset name from a file name: without its extension, other characters as dashes. */
export function nameFromFile(fileName: string): string {
  return fileName
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
}
