import {
  choleskySolve,
  dot,
  gramMatrix,
  largestEigenvalue,
  mean,
  minimumNormLeastSquares,
} from './linalg';

const f64 = (values: number[]) => Float64Array.from(values);

describe('dot', () => {
  it('sums products for lengths that are and are not multiples of the unroll width', () => {
    expect(dot(f64([1, 2, 3, 4]), f64([5, 6, 7, 8]))).toBe(70);
    expect(dot(f64([1, 2, 3, 4, 5, 6, 7]), f64([1, 1, 1, 1, 1, 1, -2]))).toBe(7);
    expect(dot(f64([]), f64([]))).toBe(0);
  });
});

describe('mean', () => {
  it('corrects the rounding of the plain sum / n (which gives 0.09999999999999999 here)', () => {
    expect(mean(new Float64Array(10).fill(0.1))).toBe(0.1);
    // Plain sum / n: 1000000000.2000002.
    expect(mean(f64([1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3]))).toBe(1e9 + 0.2);
    expect(mean(f64([2, 4, 9]))).toBe(5);
  });
});

describe('gramMatrix', () => {
  it('computes the symmetric XᵀX from columns (hand-computed)', () => {
    const gram = gramMatrix([f64([1, 2, 3]), f64([0, 1, -1])]);
    expect(Array.from(gram)).toEqual([14, -1, -1, 2]);
  });

  it('calls the checkpoint once per column so a long job can be interrupted', () => {
    const checkpoint = jest.fn();
    gramMatrix([f64([1]), f64([2]), f64([3])], checkpoint);
    expect(checkpoint).toHaveBeenCalledTimes(3);
  });
});

describe('choleskySolve', () => {
  it('solves a symmetric positive definite system (hand-computed)', () => {
    // [[4, 2], [2, 3]] x = [2, 1]  =>  x = [0.5, 0]
    const x = choleskySolve(f64([4, 2, 2, 3]), f64([2, 1]), 2, 1e-8);
    expect(x).not.toBeNull();
    expect(x?.[0]).toBeCloseTo(0.5, 14);
    expect(x?.[1]).toBeCloseTo(0, 14);
  });

  it('solves a 3×3 system to full precision (A x reproduces b)', () => {
    const a = f64([6, 2, 1, 2, 5, 2, 1, 2, 4]);
    const b = f64([1, -2, 3]);
    const x = choleskySolve(a, b, 3, 1e-8) ?? new Float64Array(3);
    for (let i = 0; i < 3; i++) {
      expect(dot(a.subarray(i * 3, i * 3 + 3), x)).toBeCloseTo(b[i], 14);
    }
  });

  it('returns null for a singular matrix and for a zero diagonal (constant feature)', () => {
    expect(choleskySolve(f64([1, 1, 1, 1]), f64([1, 1]), 2, 1e-8)).toBeNull();
    expect(choleskySolve(f64([1, 0, 0, 0]), f64([1, 0]), 2, 1e-8)).toBeNull();
  });

  it('returns null when a pivot is positive but below the relative tolerance', () => {
    // Correlation 1 - 1e-12 between two columns: pivot ratio 2e-12.
    const r = 1 - 1e-12;
    expect(choleskySolve(f64([1, r, r, 1]), f64([1, 1]), 2, 1e-8)).toBeNull();
    expect(choleskySolve(f64([1, r, r, 1]), f64([1, 1]), 2, 1e-13)).not.toBeNull();
  });
});

describe('minimumNormLeastSquares', () => {
  it('splits the weight of a duplicated column equally (the minimum-norm solution)', () => {
    const a = f64([1, -1, 0, 0]);
    const b = f64([0, 0, 1, -1]);
    const w = minimumNormLeastSquares([a, a, b], f64([2, -2, 3, -3]));
    expect(Array.from(w).map((v) => Number(v.toFixed(12)))).toEqual([1, 1, 3]);
  });

  it('weights a scaled copy by its scale: min |w| subject to w1 + 2 w2 = 2 is (0.4, 0.8)', () => {
    const a = f64([1, -1, 2, -2]);
    const w = minimumNormLeastSquares(
      [a, a.map((v) => 2 * v)],
      a.map((v) => 2 * v),
    );
    expect(w[0]).toBeCloseTo(0.4, 12);
    expect(w[1]).toBeCloseTo(0.8, 12);
  });

  it('gives a zero weight to an all-zero column', () => {
    const w = minimumNormLeastSquares([f64([0, 0, 0]), f64([1, 0, -1])], f64([2, 0, -2]));
    expect(w[0]).toBe(0);
    expect(w[1]).toBeCloseTo(2, 14);
  });

  it('agrees with the normal equations on a full-rank overdetermined problem', () => {
    const x1 = f64([1, 2, 3, 4, 5]);
    const x2 = f64([2, -1, 0, 3, 1]);
    const y = f64([1, 3, 2, 5, 4]);
    const w = minimumNormLeastSquares([x1, x2], y);
    const normal = choleskySolve(gramMatrix([x1, x2]), f64([dot(x1, y), dot(x2, y)]), 2, 1e-8);
    expect(w[0]).toBeCloseTo(normal?.[0] ?? NaN, 13);
    expect(w[1]).toBeCloseTo(normal?.[1] ?? NaN, 13);
  });
});

describe('largestEigenvalue', () => {
  it('finds the largest eigenvalue of a symmetric matrix', () => {
    expect(largestEigenvalue(f64([1, 0, 0, 0, 5, 0, 0, 0, 2]), 3)).toBeCloseTo(5, 10);
    // [[2, 1], [1, 2]] has eigenvalues 3 and 1.
    expect(largestEigenvalue(f64([2, 1, 1, 2]), 2)).toBeCloseTo(3, 10);
    expect(largestEigenvalue(f64([0, 0, 0, 0]), 2)).toBe(0);
  });
});
