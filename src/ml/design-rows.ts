/**
 * The design matrix as the full passes of a fit read it: block by block, front to back. Encoded
 * from the raw columns as it is read (preprocessing.ts), it never exists whole: at 1M × 20 the
 * matrix is 160 MB, and on a virtual machine the first touch of that much fresh memory costs more
 * than a dozen passes of encoding into one block that stays in cache.
 */
import type { DesignMatrix } from './model-fitting';

/** About 256 KB of doubles per block: stays in L2 while a kernel sweeps it. */
const BLOCK_VALUES = 32_768;
/** Kernels take rows in groups of up to 8; whole groups keep padding to the last block. */
const ROW_GROUP = 8;

export interface DesignRows {
  readonly rows: number;
  readonly cols: number;
  /** Rows per block; every block but the last has exactly this many. */
  readonly blockRows: number;
  /**
   * Rows [start, start + count), row-major, count ≤ blockRows: a view valid until the next call.
   * A pass reads the blocks in order from start 0.
   */
  block(start: number, count: number): Float64Array;
  /** Every row in memory, for passes in random order (mini-batches); made once. */
  matrix(): DesignMatrix;
}

/** Rows per block for `cols` columns: a multiple of 8, at least 8. */
export function blockRowsFor(cols: number): number {
  const rows = Math.floor(BLOCK_VALUES / Math.max(cols, 1));
  return Math.max(ROW_GROUP, rows - (rows % ROW_GROUP));
}

/** A matrix already in memory: its blocks are views. */
export function storedRows(x: DesignMatrix): DesignRows {
  if (x.data.length !== x.rows * x.cols) {
    throw new RangeError(`Design matrix ${x.rows}×${x.cols} holds ${x.data.length} values.`);
  }
  return {
    rows: x.rows,
    cols: x.cols,
    blockRows: blockRowsFor(x.cols),
    block: (start, count) => x.data.subarray(start * x.cols, (start + count) * x.cols),
    matrix: () => x,
  };
}

/** The fitters take either; a stored matrix is read through views. */
export function asDesignRows(x: DesignMatrix | DesignRows): DesignRows {
  return 'data' in x ? storedRows(x) : x;
}
