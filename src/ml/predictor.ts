import { FeatureSpec, ModelArtifact, rawCoefficients } from './artifact';

export interface Predictor {
  readonly inputs: FeatureSpec[];
  /** rows: row-major, rowCount * inputs.length finite values (the caller validates them). */
  predict(rows: Float64Array, rowCount: number): Float64Array;
}

/** Compiles a validated artifact once, so that every prediction is then a single dot product. */
export function compilePredictor(artifact: ModelArtifact): Predictor {
  const { coefficients, intercept } = rawCoefficients(artifact);
  return new LinearPredictor(
    artifact.inputs.map(({ name, type }) => ({ name, type })),
    Float64Array.from(coefficients),
    intercept,
  );
}

class LinearPredictor implements Predictor {
  constructor(
    readonly inputs: FeatureSpec[],
    private readonly weights: Float64Array,
    private readonly bias: number,
  ) {}

  predict(rows: Float64Array, rowCount: number): Float64Array {
    const weights = this.weights;
    const n = weights.length;
    if (!Number.isInteger(rowCount) || rowCount < 0 || rows.length !== rowCount * n) {
      throw new RangeError(
        `Expected ${rowCount} rows of ${n} features (${rowCount * n} values), ` +
          `got ${rows.length} values.`,
      );
    }
    const bias = this.bias;
    const out = new Float64Array(rowCount);
    for (let r = 0, offset = 0; r < rowCount; r++, offset += n) {
      let sum = bias;
      for (let j = 0; j < n; j++) {
        sum += weights[j] * rows[offset + j];
      }
      out[r] = sum;
    }
    return out;
  }
}
