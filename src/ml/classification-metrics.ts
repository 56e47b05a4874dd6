export interface ClassificationMetrics {
  accuracy: number;
  /** Cross-entropy of the probabilities, clipped to [1e-15, 1 − 1e-15] like scikit-learn. */
  logLoss: number;
  /** Macro averages over the classes that occur (actual or predicted), zero_division = 0. */
  precision: number;
  recall: number;
  f1: number;
  /** [actual][predicted] counts, in `classes` order. */
  confusionMatrix: number[][];
  classes: (string | number)[];
}

const EPSILON = 1e-15;

/**
 * Accumulates the metrics over batches of rows, so a large split is scored without holding all
 * its probabilities at once. The predicted class of a row is its most probable (ties: the first),
 * as the predictor labels it.
 */
export class ClassificationMetricsAccumulator {
  private readonly counts: Float64Array;
  private rows = 0;
  private logLossSum = 0;

  constructor(private readonly classes: (string | number)[]) {
    this.counts = new Float64Array(classes.length * classes.length);
  }

  /** actual: class indices; probabilities: actual.length × classes.length, row-major. */
  add(actual: ArrayLike<number>, probabilities: Float64Array): void {
    const k = this.classes.length;
    const m = actual.length;
    if (probabilities.length !== m * k) {
      throw new RangeError(
        `Got ${m} actual classes but ${probabilities.length} probabilities for ${k} classes.`,
      );
    }
    for (let i = 0, o = 0; i < m; i++, o += k) {
      const truth = actual[i];
      let best = 0;
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const p = probabilities[o + c];
        if (p > probabilities[o + best]) best = c;
        sum += clip(p);
      }
      // scikit-learn 1.2 renormalises the clipped row before taking the log.
      this.logLossSum -= Math.log(clip(probabilities[o + truth]) / sum);
      this.counts[truth * k + best]++;
    }
    this.rows += m;
  }

  result(): ClassificationMetrics {
    const k = this.classes.length;
    const n = this.rows;
    if (n === 0) {
      throw new RangeError('Metrics need at least one row.');
    }
    const confusionMatrix: number[][] = [];
    for (let a = 0; a < k; a++) {
      confusionMatrix.push(Array.from(this.counts.subarray(a * k, (a + 1) * k)));
    }
    let correct = 0;
    let present = 0;
    let precision = 0;
    let recall = 0;
    let f1 = 0;
    for (let c = 0; c < k; c++) {
      const tp = confusionMatrix[c][c];
      let actual = 0;
      let predicted = 0;
      for (let o = 0; o < k; o++) {
        actual += confusionMatrix[c][o];
        predicted += confusionMatrix[o][c];
      }
      correct += tp;
      // Like scikit-learn's default labels: only classes seen in the actual or predicted values.
      if (actual === 0 && predicted === 0) continue;
      present++;
      const p = predicted > 0 ? tp / predicted : 0;
      const r = actual > 0 ? tp / actual : 0;
      precision += p;
      recall += r;
      f1 += p + r > 0 ? (2 * p * r) / (p + r) : 0;
    }
    return {
      accuracy: correct / n,
      logLoss: this.logLossSum / n,
      precision: precision / present,
      recall: recall / present,
      f1: f1 / present,
      confusionMatrix,
      classes: this.classes.slice(),
    };
  }
}

function clip(p: number): number {
  return p < EPSILON ? EPSILON : p > 1 - EPSILON ? 1 - EPSILON : p;
}

/** The metrics of one set of rows; see {@link ClassificationMetricsAccumulator}. */
export function classificationMetrics(
  actual: ArrayLike<number>,
  probabilities: Float64Array,
  classes: (string | number)[],
): ClassificationMetrics {
  const accumulator = new ClassificationMetricsAccumulator(classes);
  accumulator.add(actual, probabilities);
  return accumulator.result();
}
