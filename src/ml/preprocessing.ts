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
 * The design matrix of `rows`, row-major: numbers imputed and standardised, strings one-hot (a
 * category not seen in training: all zeros). Only the requested rows are read, so train and
 * validation matrices come straight from the columns; each cell is written once, with no per-row
 * allocation. Filling a block of rows input by input keeps the block in cache.
 */
export function encodeRows(
  features: InputColumn[],
  preprocessing: InputPreprocessing[],
  rows: Uint32Array,
): DesignMatrix {
  const cols = encodedWidth(preprocessing);
  const m = rows.length;
  const data = new Float64Array(m * cols);
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
  for (let start = 0; start < m; start += BLOCK_ROWS) {
    const end = Math.min(m, start + BLOCK_ROWS);
    features.forEach((feature, f) => {
      const p = preprocessing[f];
      const code = codes[f];
      if (feature.type === 'number' && !('categories' in p)) {
        encodeNumbers(
          feature.values,
          p.impute,
          p.mean,
          p.scale,
          rows,
          start,
          end,
          data,
          cols,
          offsets[f],
        );
      } else if (feature.type === 'string' && code && 'categories' in p) {
        const imputeCode = code.get(p.impute) as number;
        encodeStrings(feature.values, code, imputeCode, rows, start, end, data, cols, offsets[f]);
      }
    });
  }
  return { data, rows: m, cols };
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
  offset: number,
): void {
  for (let i = start, k = start * cols + offset; i < end; i++, k += cols) {
    let x = values[rows[i]];
    if (x !== x) x = impute;
    // (x − mean) / scale exactly as StandardScaler computes it, not x·(1/scale).
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
  offset: number,
): void {
  for (let i = start, k = start * cols + offset; i < end; i++, k += cols) {
    const v = values[rows[i]];
    const c = v === null ? imputeCode : codes.get(v);
    if (c !== undefined) data[k + c] = 1;
  }
}
