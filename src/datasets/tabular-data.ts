import type { FieldError } from '../common/errors';

export type ColumnType = 'number' | 'string';

/** A parsed column. String columns never hold '' because an empty cell always means "missing". */
export type Column =
  | { name: string; type: 'number'; values: Float64Array } // NaN marks a missing cell
  | { name: string; type: 'string'; values: (string | null)[] }; // null marks a missing cell

export interface TabularData {
  rowCount: number;
  columns: Column[];
}

/**
 * The upload is malformed; `message` summarises and `errors` lists each problem (400-worthy).
 * `field` locates a problem: a JSON path into the request body for JSON uploads (`rows[3][1]`,
 * `records[2].x1`, `columns[0]`, or `records[*].x1` for a whole column), and for CSV uploads
 * `body`, `line 7`, `line 1, column 3` (1-based, as an editor shows them) or `column "name"`.
 */
export class DatasetParseError extends Error {
  constructor(
    message: string,
    readonly errors: FieldError[],
  ) {
    super(message);
    this.name = 'DatasetParseError';
  }
}

export const DATASET_LIMITS = Object.freeze({
  maxColumns: 1000,
  maxColumnNameLength: 128,
  /**
   * Characters in one CSV row, as csv-parse counts them (a row is read whole, so this bounds what
   * a streamed upload holds at once).
   */
  maxRowLength: 4 * 1024 * 1024,
});
