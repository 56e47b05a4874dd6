/** Raw columns through a predictor in batches: training scores its splits, drift profiles outputs. */
import type { PredictionOutput, Predictor } from './predictor';
import type { InputColumn } from './preprocessing';

/** Rows per predict call: bounds the memory of the batches. */
const CHUNK_ROWS = 4096;

/** Feeds `rows` to the predictor in chunks, as the service would send them, raw values in. */
export function predictInChunks(
  predictor: Predictor,
  features: InputColumn[],
  rows: Uint32Array,
  consume: (start: number, output: PredictionOutput) => void,
): void {
  const n = features.length;
  const chunk = Math.min(CHUNK_ROWS, rows.length);
  const numbers = new Float64Array(chunk * n);
  const strings: (string | null)[] | null = features.some((f) => f.type === 'string')
    ? new Array<string | null>(chunk * n).fill(null)
    : null;
  for (let start = 0; start < rows.length; start += chunk) {
    const count = Math.min(chunk, rows.length - start);
    // One loop per column type keeps each loop's element access monomorphic.
    features.forEach((feature, j) => {
      if (feature.type === 'number') {
        const values = feature.values;
        for (let i = 0, k = j; i < count; i++, k += n) numbers[k] = values[rows[start + i]];
      } else {
        const values = feature.values;
        const target = strings as (string | null)[];
        for (let i = 0, k = j; i < count; i++, k += n) target[k] = values[rows[start + i]];
      }
    });
    if (strings && count < chunk) {
      strings.length = count * n;
    }
    consume(
      start,
      predictor.predict({ rowCount: count, numbers: numbers.subarray(0, count * n), strings }),
    );
  }
}
