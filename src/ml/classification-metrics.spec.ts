import { ClassificationMetricsCase, readJsonFixture } from '../../test/fixtures/read-fixture';
import { ClassificationMetricsAccumulator, classificationMetrics } from './classification-metrics';

const reference = readJsonFixture<Record<string, ClassificationMetricsCase>>(
  'classification-metrics.sklearn.json',
);

function score(example: ClassificationMetricsCase) {
  const actual = Int32Array.from(example.actual, (label) => example.classes.indexOf(label));
  return classificationMetrics(
    actual,
    Float64Array.from(example.probabilities.flat()),
    example.classes,
  );
}

describe('classificationMetrics against scikit-learn', () => {
  it.each(['multi', 'binary', 'never'])('matches accuracy, log_loss, macro scores (%s)', (name) => {
    const example = reference[name];
    const metrics = score(example);
    expect(metrics.accuracy).toBeCloseTo(example.accuracy, 14);
    expect(metrics.logLoss).toBeCloseTo(example.logLoss, 13);
    expect(metrics.precision).toBeCloseTo(example.precision, 14);
    expect(metrics.recall).toBeCloseTo(example.recall, 14);
    expect(metrics.f1).toBeCloseTo(example.f1, 14);
    expect(metrics.confusionMatrix).toEqual(example.confusionMatrix);
    expect(metrics.classes).toEqual(example.classes);
  });

  it('leaves a class that is neither actual nor predicted out of the macro averages', () => {
    // bird: no row and no prediction; averaging over 4 classes would give 3/4 of the values.
    const metrics = score(reference.multi);
    expect(metrics.confusionMatrix[0]).toEqual([0, 0, 0, 0]);
    expect(metrics.precision).toBeCloseTo(2 / 3, 14);
  });

  it('predicts the first of tied classes, as the predictor labels', () => {
    const metrics = classificationMetrics(Int32Array.from([1]), Float64Array.from([0.5, 0.5]), [
      'a',
      'b',
    ]);
    expect(metrics.confusionMatrix).toEqual([
      [0, 0],
      [1, 0],
    ]);
  });

  it('clips probabilities to 1e-15, so a confident mistake costs -log(1e-15), not Infinity', () => {
    const metrics = classificationMetrics(Int32Array.from([0]), Float64Array.from([0, 1]), [0, 1]);
    expect(metrics.logLoss).toBeCloseTo(-Math.log(1e-15), 10);
  });

  it('gives the same result over batches as over all rows at once', () => {
    const example = reference.multi;
    const actual = Int32Array.from(example.actual, (label) => example.classes.indexOf(label));
    const probabilities = Float64Array.from(example.probabilities.flat());
    const accumulator = new ClassificationMetricsAccumulator(example.classes);
    accumulator.add(actual.subarray(0, 5), probabilities.subarray(0, 20));
    accumulator.add(actual.subarray(5), probabilities.subarray(20));
    const whole = score(example);
    const batched = accumulator.result();
    expect(batched.confusionMatrix).toEqual(whole.confusionMatrix);
    expect(batched.logLoss).toBeCloseTo(whole.logLoss, 14);
    expect(batched.f1).toBe(whole.f1);
  });

  it('rejects mismatched sizes and empty input', () => {
    expect(() => classificationMetrics(Int32Array.from([0]), new Float64Array(3), [0, 1])).toThrow(
      RangeError,
    );
    expect(() => classificationMetrics(new Int32Array(0), new Float64Array(0), [0, 1])).toThrow(
      RangeError,
    );
  });
});
