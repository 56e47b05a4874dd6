import { stratifiedSplit, trainValidationSplit } from './split';

function sorted(indices: Uint32Array): number[] {
  return Array.from(indices).sort((a, b) => a - b);
}

describe('trainValidationSplit', () => {
  it('puts Math.round(rowCount * fraction) rows in validation and the rest in train', () => {
    expect(trainValidationSplit(442, 0.2, 1).validation).toHaveLength(88);
    expect(trainValidationSplit(442, 0.2, 1).train).toHaveLength(354);
    expect(trainValidationSplit(5, 0.5, 1).validation).toHaveLength(3);
    expect(trainValidationSplit(10, 0.04, 1).validation).toHaveLength(0);
  });

  it('covers every row exactly once, with no row in both splits', () => {
    const { train, validation } = trainValidationSplit(1000, 0.3, 99);
    const all = [...Array.from(train), ...Array.from(validation)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const inTrain = new Set(train);
    expect(Array.from(validation).some((i) => inTrain.has(i))).toBe(false);
  });

  it('returns each split in ascending row order', () => {
    const { train, validation } = trainValidationSplit(200, 0.25, 5);
    expect(Array.from(train)).toEqual(sorted(train));
    expect(Array.from(validation)).toEqual(sorted(validation));
  });

  it('gives the identical split for the same seed and a different one for another seed', () => {
    const a = trainValidationSplit(442, 0.2, 42);
    const b = trainValidationSplit(442, 0.2, 42);
    const c = trainValidationSplit(442, 0.2, 43);
    expect(b.train).toEqual(a.train);
    expect(b.validation).toEqual(a.validation);
    expect(c.validation).not.toEqual(a.validation);
  });

  it('matches an independent re-implementation, so a PRNG or shuffle change shows', () => {
    expect(Array.from(trainValidationSplit(10, 0.3, 2024).validation)).toEqual([0, 7, 9]);
  });

  it('keeps every row for training when the fraction is 0, and handles zero rows', () => {
    const { train, validation } = trainValidationSplit(7, 0, 1);
    expect(Array.from(train)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(validation).toHaveLength(0);
    expect(trainValidationSplit(0, 0.5, 1).train).toHaveLength(0);
  });

  it('rejects a negative or fractional row count and a fraction outside [0, 1]', () => {
    expect(() => trainValidationSplit(-1, 0.2, 1)).toThrow(RangeError);
    expect(() => trainValidationSplit(2.5, 0.2, 1)).toThrow(RangeError);
    expect(() => trainValidationSplit(10, 1.5, 1)).toThrow(RangeError);
    expect(() => trainValidationSplit(10, NaN, 1)).toThrow(RangeError);
  });
});

describe('stratifiedSplit', () => {
  // 60 rows of class 0, 30 of class 1, 10 of class 2, interleaved.
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i % 10 < 6 ? 0 : i % 10 < 9 ? 1 : 2));
  const perClass = (rows: Uint32Array) =>
    Array.from(rows).reduce((counts, row) => (counts[labels[row]]++, counts), [0, 0, 0]);

  it("keeps each class's share in validation and the total at Math.round(rowCount * fraction)", () => {
    const { train, validation } = stratifiedSplit(labels, 3, 0.2, 7);
    expect(perClass(validation)).toEqual([12, 6, 2]);
    expect(perClass(train)).toEqual([48, 24, 8]);
  });

  it('apportions the rounding by largest remainder, ties to the lower class', () => {
    // Shares 0.25 × [3, 3, 2] = [0.75, 0.75, 0.5]; round(8 × 0.25) = 2 go to classes 0 and 1.
    const small = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2]);
    const { validation } = stratifiedSplit(small, 3, 0.25, 1);
    expect(Array.from(validation, (row) => small[row]).sort()).toEqual([0, 1]);
  });

  it("never takes a class's last row, so every class is trained on", () => {
    const rare = Int32Array.from([0, 0, 0, 0, 1]);
    const { train, validation } = stratifiedSplit(rare, 2, 0.5, 3);
    expect(Array.from(train, (row) => rare[row])).toContain(1);
    expect(validation).toHaveLength(2);
  });

  it('is deterministic, covers every row once and returns ascending rows', () => {
    const a = stratifiedSplit(labels, 3, 0.3, 11);
    expect(stratifiedSplit(labels, 3, 0.3, 11)).toEqual(a);
    expect(stratifiedSplit(labels, 3, 0.3, 12).validation).not.toEqual(a.validation);
    const all = [...Array.from(a.train), ...Array.from(a.validation)].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(a.validation)).toEqual(sorted(a.validation));
  });

  it('keeps every row for training when the fraction is 0', () => {
    expect(stratifiedSplit(labels, 3, 0, 1).train).toHaveLength(100);
  });
});
