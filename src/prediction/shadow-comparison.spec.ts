import { comparableTensors, compareAnswers } from './shadow-comparison';

describe('shadow comparison', () => {
  it('measures absolute and relative differences of numeric answers', () => {
    const pair = compareAnswers(
      { labels: null, values: [10, -2, 0.5], probabilities: null },
      { labels: null, values: [11, -2, 0], probabilities: null },
    );
    expect(pair).toMatchObject({ valuesCompared: 3, absDiffMax: 1, mismatched: false });
    expect(pair.absDiffSum).toBeCloseTo(1.5, 12);
    expect(pair.relDiffSum).toBeCloseTo(0.1 + 0 + 1, 12);
  });

  it('counts the rows whose labels agree, and probability differences', () => {
    const pair = compareAnswers(
      { labels: ['a', 'b', 'c'], values: null, probabilities: [0.9, 0.1, 0.4, 0.6, 0.2, 0.8] },
      { labels: ['a', 'c', 'c'], values: null, probabilities: [0.8, 0.2, 0.4, 0.6, 0.2, 0.8] },
    );
    expect(pair).toMatchObject({ labelsCompared: 3, labelsAgreeing: 2, probabilitiesCompared: 6 });
    expect(pair.probabilityDiffSum).toBeCloseTo(0.2, 12);
    expect(pair.probabilityDiffMax).toBeCloseTo(0.1, 12);
  });

  it('calls answers of different lengths mismatched instead of comparing them', () => {
    const pair = compareAnswers(
      { labels: null, values: [1, 2], probabilities: null },
      { labels: null, values: [1], probabilities: null },
    );
    expect(pair).toMatchObject({ mismatched: true, valuesCompared: 0 });
    expect(
      compareAnswers(
        { labels: ['a'], values: null, probabilities: [1] },
        { labels: ['a'], values: null, probabilities: null },
      ).mismatched,
    ).toBe(true);
  });

  it('reads tensors by name: floats as values (FP16 decoded), integers and strings as labels', () => {
    const primary = comparableTensors([
      { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.of(1n, 2n) },
      { name: 'score', datatype: 'FP16', shape: [2], data: Uint16Array.of(0x3c00, 0x4000) },
    ]);
    expect(primary).toEqual({ labels: [1n, 2n], values: [1, 2], probabilities: null });
    // The shadow's outputs in another order are read in the primary's.
    const shadow = comparableTensors(
      [
        { name: 'score', datatype: 'FP32', shape: [2], data: Float32Array.of(1, 2.5) },
        { name: 'label', datatype: 'INT64', shape: [2], data: BigInt64Array.of(1n, 3n) },
      ],
      ['label', 'score'],
    );
    const pair = compareAnswers(primary, shadow);
    expect(pair).toMatchObject({ labelsCompared: 2, labelsAgreeing: 1, absDiffMax: 0.5 });
    // An output the shadow lacks: nothing to compare.
    expect(comparableTensors([], ['label'])).toEqual({
      labels: null,
      values: null,
      probabilities: null,
    });
  });
});
