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

/**
 * A column's summary counted as its cells go by, a batch at a time, so an upload read in batches
 * never holds the column. Holds at most DISTINCT_COUNT_CAP + 1 distinct values.
 */
export class ColumnSummarizer {
  private missing = 0;
  private readonly seen = new Set<number | string>();

  /** The first `count` values of a number column's batch; NaN is missing. */
  addNumbers(values: Float64Array, count = values.length): void {
    const { seen } = this;
    // An index loop: for…of over a million-row Float64Array cost 0.15–0.3 s per upload.
    for (let i = 0; i < count; i++) {
      const value = values[i];
      if (value !== value) this.missing++;
      else if (seen.size <= DISTINCT_COUNT_CAP) seen.add(value);
    }
  }

  /** A string column's cells; null is missing. */
  addTexts(values: readonly (string | null)[]): void {
    const { seen } = this;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null) this.missing++;
      else if (seen.size <= DISTINCT_COUNT_CAP) seen.add(value);
    }
  }

  /** Missing cells so far. */
  get missingCount(): number {
    return this.missing;
  }

  summary(name: string, type: ColumnType): ColumnSummary {
    return { name, type, missing: this.missing, distinct: this.seen.size };
  }
}

/** Computed once at upload, stored with the dataset. */
export function summarizeColumn(column: Column): ColumnSummary {
  const summarizer = new ColumnSummarizer();
  if (column.type === 'number') summarizer.addNumbers(column.values);
  else summarizer.addTexts(column.values);
  return summarizer.summary(column.name, column.type);
}
