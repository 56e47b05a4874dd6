import { Column, ColumnType } from './tabular-data';

/** Distinct values are counted up to this; more reads as "more than this". */
export const DISTINCT_COUNT_CAP = 1000;

/** What training needs to know of a column without reading the data again. */
export interface ColumnSummary {
  name: string;
  type: ColumnType;
  /** Missing (empty) cells. */
  missing: number;
  /** Distinct non-missing values, counted up to DISTINCT_COUNT_CAP + 1. */
  distinct: number;
}

/** Computed once at upload, stored with the dataset. */
export function summarizeColumn(column: Column): ColumnSummary {
  let missing = 0;
  const seen = new Set<number | string>();
  for (const value of column.values) {
    if (value === null || (typeof value === 'number' && Number.isNaN(value))) missing++;
    else if (seen.size <= DISTINCT_COUNT_CAP) seen.add(value);
  }
  return { name: column.name, type: column.type, missing, distinct: seen.size };
}
