/**
 * Preprocessing fitted on the training rows, as scikit-learn's
 * ColumnTransformer([SimpleImputer(mean) + StandardScaler on numbers,
 * SimpleImputer(most_frequent) + OneHotEncoder(handle_unknown='ignore') on strings]) would, and
 * the encoding of raw columns into the design matrix the fitters see.
 */
import {
  InputPreprocessing,
  NumberPreprocessing,
  StringPreprocessing,
  encodedWidth,
} from './artifact';
import { DesignRows, blockRowsFor } from './design-rows';
import type { DesignMatrix } from './model-fitting';
import { TrainingError } from './training-error';

/** A raw column as the dataset stores it. */
export type InputColumn =
  | { name: string; type: 'number'; values: Float64Array } // NaN = missing
  | { name: string; type: 'string'; values: (string | null)[] }; // null = missing

/** Fits every feature's preprocessing on `rows` (the training split). */
export function fitPreprocessing(features: InputColumn[], rows: Uint32Array): InputPreprocessing[] {
  return features.map((feature) =>
    feature.type === 'number'
      ? fitNumber(feature.name, feature.values, rows)
      : fitString(feature.name, feature.values, rows),
  );
}

/**
 * Impute with the mean of the present values; standardise with that mean and the population
 * standard deviation of the imputed column (imputed values add nothing to the squares but count
 * in n). A constant column gets scale 1, like StandardScaler.
 */
function fitNumber(name: string, values: Float64Array, rows: Uint32Array): NumberPreprocessing {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]];
    if (v === v) {
      count++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (count === 0) {
    throw new TrainingError(
      `Feature "${name}" has no values in the ${rows.length} training rows; ` +
        'remove it from the features or fill in its values.',
    );
  }
  // Decide constancy exactly: the rounded mean of equal values can differ from the value.
  if (min === max) {
    return { impute: min, mean: min, scale: 1 };
  }
  const mu = sum / count;
  let deviation = 0;
  let squares = 0;
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]];
    if (v === v) {
      const d = v - mu;
      deviation += d;
      squares += d * d;
    }
  }
  const n = rows.length;
  // Corrected two-pass variance: subtracting the leftover deviation removes the mean's rounding.
  const variance = (squares - (deviation * deviation) / n) / n;
  return { impute: mu, mean: mu, scale: variance > 0 ? Math.sqrt(variance) : 1 };
}

/** Categories seen in training, sorted; the most frequent imputes (ties: the smallest). */
function fitString(
  name: string,
  values: (string | null)[],
  rows: Uint32Array,
): StringPreprocessing {
  const counts = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const v = values[rows[i]];
    if (v !== null) {
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  if (counts.size === 0) {
    throw new TrainingError(
      `Feature "${name}" has no values in the ${rows.length} training rows; ` +
        'remove it from the features or fill in its values.',
    );
  }
  const categories = [...counts.keys()].sort(compareStrings);
  let impute = categories[0];
  for (const category of categories) {
    if ((counts.get(category) as number) > (counts.get(impute) as number)) {
      impute = category;
    }
  }
  return { impute, categories };
}

/** Code-unit order, the same in every locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rows per block when encoding: a block of the matrix stays in cache while each input fills it. */
const BLOCK_ROWS = 1024;
/**
 * Full passes encoded block by block before encodedRows keeps the whole matrix instead. A pass over
 * a stored matrix reads as many bytes from memory as one over the raw columns; what streaming adds
 * is the encoding, about 50 ms at 1M × 20 numbers, against about 450 ms for the first touch of the
 * matrix's 160 MB on the virtual machines we measured. Keeping the matrix after that many passes
 * costs at most about twice the better choice. A string input costs a hash lookup per row each
 * pass, so with strings the matrix is kept from the third pass on.
 */
const STREAMED_PASSES = 10;
const STREAMED_PASSES_WITH_STRINGS = 2;

/** Where each input's encoded columns start, and its category codes. */
interface EncodingPlan {
  features: InputColumn[];
  preprocessing: InputPreprocessing[];
  cols: number;
  offsets: number[];
  codes: (Map<string, number> | null)[];
  hasStrings: boolean;
  /** The rows are every row in order (validationSplit 0): columns are read without the index. */
  inOrder: boolean;
}

function encodingPlan(
  features: InputColumn[],
  preprocessing: InputPreprocessing[],
  rows: Uint32Array,
): EncodingPlan {
  const offsets: number[] = [];
  const codes: (Map<string, number> | null)[] = [];
  let offset = 0;
  features.forEach((feature, f) => {
    const p = preprocessing[f];
    if (feature.type !== ('categories' in p ? 'string' : 'number')) {
      throw new RangeError(`Feature "${feature.name}" does not match its preprocessing entry.`);
    }
    offsets.push(offset);
    codes.push('categories' in p ? new Map(p.categories.map((c, i) => [c, i])) : null);
    offset += 'categories' in p ? p.categories.length : 1;
  });
  return {
    features,
    preprocessing,
    cols: encodedWidth(preprocessing),
    offsets,
    codes,
    hasStrings: codes.some((code) => code !== null),
    inOrder: features.length > 0 && isEveryRow(rows, features[0].values.length),
  };
}

/**
 * Encodes rows[start..end) into `data`, row rows[i] at row i − first, input by input in blocks
 * that stay in cache. One-hot cells are only set, so `data` must start zeroed.
 */
function encodeBlock(
  plan: EncodingPlan,
  rows: Uint32Array,
  start: number,
  end: number,
  data: Float64Array,
  first: number,
): void {
  const { features, preprocessing, cols, offsets, codes } = plan;
  for (let from = start; from < end; from += BLOCK_ROWS) {
    const to = Math.min(end, from + BLOCK_ROWS);
    features.forEach((feature, f) => {
      const p = preprocessing[f];
      const code = codes[f];
      const at = (from - first) * cols + offsets[f];
      if (feature.type === 'number' && !('categories' in p) && plan.inOrder) {
        encodeNumbersInOrder(feature.values, p.impute, p.mean, p.scale, from, to, data, cols, at);
      } else if (feature.type === 'number' && !('categories' in p)) {
        encodeNumbers(feature.values, p.impute, p.mean, p.scale, rows, from, to, data, cols, at);
      } else if (feature.type === 'string' && code && 'categories' in p) {
        const imputeCode = code.get(p.impute) as number;
        encodeStrings(feature.values, code, imputeCode, rows, from, to, data, cols, at);
      }
    });
  }
}

/**
 * The design matrix of `rows`, row-major: numbers imputed and standardised, strings one-hot (a
 * category not seen in training: all zeros). Only the requested rows are read, so train and
 * validation matrices come straight from the columns; each cell is written once, with no per-row
 * allocation.
 */
export function encodeRows(
  features: InputColumn[],
  preprocessing: InputPreprocessing[],
  rows: Uint32Array,
): DesignMatrix {
  return encodedRows(features, preprocessing, rows).matrix();
}

/**
 * The design matrix of `rows` as encodeRows makes it, value for value, read block by block: the
 * first STREAMED_PASSES passes encode each block as it is asked for into one reused buffer; a
 * later pass, or matrix(), encodes the whole matrix once and is served from it.
 */
export function encodedRows(
  features: InputColumn[],
  preprocessing: InputPreprocessing[],
  rows: Uint32Array,
): DesignRows {
  const plan = encodingPlan(features, preprocessing, rows);
  const { cols } = plan;
  const m = rows.length;
  const blockRows = blockRowsFor(cols);
  let stored: DesignMatrix | null = null;
  let scratch: Float64Array | null = null;
  let passes = 0;
  const streamedPasses = plan.hasStrings ? STREAMED_PASSES_WITH_STRINGS : STREAMED_PASSES;
  const matrix = (): DesignMatrix => {
    if (stored === null) {
      const data = new Float64Array(m * cols);
      encodeBlock(plan, rows, 0, m, data, 0);
      stored = { data, rows: m, cols };
    }
    return stored;
  };
  return {
    rows: m,
    cols,
    blockRows,
    matrix,
    block(start, count) {
      if (stored === null && start === 0) {
        passes++;
      }
      if (stored !== null || passes > streamedPasses) {
        return matrix().data.subarray(start * cols, (start + count) * cols);
      }
      scratch ??= new Float64Array(blockRows * cols);
      const out = scratch.subarray(0, count * cols);
      if (plan.hasStrings) {
        out.fill(0);
      }
      encodeBlock(plan, rows, start, start + count, out, start);
      return out;
    },
  };
}

// Plain functions of their arguments: V8 keeps those in registers, unlike a closure's variables.
function encodeNumbers(
  values: Float64Array,
  impute: number,
  mean: number,
  scale: number,
  rows: Uint32Array,
  start: number,
  end: number,
  data: Float64Array,
  cols: number,
  at: number,
): void {
  for (let i = start, k = at; i < end; i++, k += cols) {
    let x = values[rows[i]];
    if (x !== x) x = impute;
    // (x − mean) / scale exactly as StandardScaler computes it, not x·(1/scale).
    data[k] = (x - mean) / scale;
  }
}

/** encodeNumbers for rows that are every row in order: row i is values[i]. */
function encodeNumbersInOrder(
  values: Float64Array,
  impute: number,
  mean: number,
  scale: number,
  start: number,
  end: number,
  data: Float64Array,
  cols: number,
  at: number,
): void {
  for (let i = start, k = at; i < end; i++, k += cols) {
    let x = values[i];
    if (x !== x) x = impute;
    data[k] = (x - mean) / scale;
  }
}

function encodeStrings(
  values: (string | null)[],
  codes: Map<string, number>,
  imputeCode: number,
  rows: Uint32Array,
  start: number,
  end: number,
  data: Float64Array,
  cols: number,
  at: number,
): void {
  for (let i = start, k = at; i < end; i++, k += cols) {
    const v = values[rows[i]];
    const c = v === null ? imputeCode : codes.get(v);
    if (c !== undefined) data[k + c] = 1;
  }
}

/** True when rows is 0, 1, …, rowCount − 1 (validationSplit 0): reading through it changes nothing. */
export function isEveryRow(rows: Uint32Array, rowCount: number): boolean {
  if (rows.length !== rowCount) {
    return false;
  }
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] !== i) {
      return false;
    }
  }
  return true;
}
