import { allocFloat64, toNumberArray } from './float64-pool';

describe('allocFloat64', () => {
  it('hands out zeroed arrays that never share memory', () => {
    const arrays = Array.from({ length: 2000 }, (_, i) => allocFloat64((i % 20) + 1));
    arrays.forEach((array, i) => {
      expect(array).toHaveLength((i % 20) + 1);
      expect(Array.from(array).every((v) => v === 0)).toBe(true);
      array.fill(i + 1);
    });
    arrays.forEach((array, i) => expect(Array.from(array).every((v) => v === i + 1)).toBe(true));
  });

  it('allocates large arrays on their own', () => {
    const large = allocFloat64(10_000);
    expect(large).toHaveLength(10_000);
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(80_000);
  });
});

describe('toNumberArray', () => {
  it('copies the values into a plain array', () => {
    expect(toNumberArray(Float64Array.of(1.5, -2, 3))).toEqual([1.5, -2, 3]);
  });
});
