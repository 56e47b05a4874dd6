import {
  centredCrossProducts,
  centredLeastSquares,
  choleskySolve,
  dot,
  largestEigenvalue,
  mean,
} from './linalg';
import type { DesignMatrix } from './model-fitting';

const f64 = (values: number[]) => Float64Array.from(values);

/** A row-major matrix from its columns. */
function fromColumns(columns: number[][]): DesignMatrix {
  const rows = columns[0].length;
  const cols = columns.length;
  const data = new Float64Array(rows * cols);
  columns.forEach((column, j) => column.forEach((v, i) => (data[i * cols + j] = v)));
  return { data, rows, cols };
}

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

describe('centredCrossProducts', () => {
  it('gives the means and the centred XᵀX, Xᵀy and yᵀy (hand-computed)', () => {
    // Columns [1, 2, 3] and [0, 1, -1] (means 2 and 0), y = [1, 1, 4] (mean 2).
    const products = centredCrossProducts(
      fromColumns([
        [1, 2, 3],
        [0, 1, -1],
      ]),
      f64([1, 1, 4]),
    );
    expect(Array.from(products.means)).toEqual([2, 0]);
    expect(products.yMean).toBe(2);
    expect(Array.from(products.gram)).toEqual([2, -1, -1, 2]);
    expect(Array.from(products.xty)).toEqual([3, -3]);
    expect(products.yty).toBe(6);
    expect(products.rows).toBe(3);
  });

  it('keeps every digit of small variations around a large offset', () => {
    // Uncentred, x·x − m·μ² would lose everything here: the squares are ~1e24 and ε·1e24 ≫ 2.
    const products = centredCrossProducts(
      fromColumns([[1e12 + 1, 1e12 - 1, 1e12 + 1, 1e12 - 1]]),
      f64([5, 3, 5, 3]),
    );
    expect(products.means[0]).toBe(1e12);
    expect(products.gram[0]).toBe(4);
    expect(products.xty[0]).toBe(4);
    expect(products.yty).toBe(4);
  });
  it('joins blocks exactly as one pass would: many blocks give the two-pass centred sums', () => {
    // 20,000 rows over several blocks, around an offset that plain sums of squares would lose.
    const count = 20_000;
    const a = Array.from({ length: count }, (_, i) => 1e6 + Math.sin(i));
    const b = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const y = Array.from({ length: count }, (_, i) => 3 * a[i] - b[i] + Math.cos(7 * i));
    const products = centredCrossProducts(fromColumns([a, b]), f64(y));
    const meanOf = (v: number[]) => {
      const first = v.reduce((s, x) => s + x, 0) / v.length;
      return first + v.reduce((s, x) => s + (x - first), 0) / v.length;
    };
    const centredSum = (u: number[], v: number[]) => {
      const mu = meanOf(u);
      const mv = meanOf(v);
      return u.reduce((s, x, i) => s + (x - mu) * (v[i] - mv), 0);
    };
    expect(products.means[0] / meanOf(a) - 1).toBeCloseTo(0, 15);
    expect(products.means[1] / meanOf(b) - 1).toBeCloseTo(0, 14);
    expect(products.yMean / meanOf(y) - 1).toBeCloseTo(0, 15);
    // Errors relative to the scale of each entry, √(Σa²Σb²): a near-zero Σab has no digits to keep.
    const columns = [a, b, y];
    const close = (got: number, j: number, k: number) => {
      const scale = Math.sqrt(
        centredSum(columns[j], columns[j]) * centredSum(columns[k], columns[k]),
      );
      expect((got - centredSum(columns[j], columns[k])) / scale).toBeCloseTo(0, 13);
    };
    close(products.gram[0], 0, 0);
    close(products.gram[1], 0, 1);
    close(products.gram[2], 1, 0);
    close(products.gram[3], 1, 1);
    close(products.xty[0], 0, 2);
    close(products.xty[1], 1, 2);
    close(products.yty, 2, 2);
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

describe('centredLeastSquares', () => {
  const solve = (columns: number[][], y: number[], l2 = 0) => {
    const x = fromColumns(columns);
    const products = centredCrossProducts(x, f64(y));
    return centredLeastSquares(x, f64(y), products.means, products.yMean, l2);
  };

  it('splits the weight of a duplicated column equally (the minimum-norm solution)', () => {
    const a = [1, -1, 0, 0];
    const b = [0, 0, 1, -1];
    const w = solve([a, a, b], [2, -2, 3, -3]);
    expect(Array.from(w).map((v) => Number(v.toFixed(12)))).toEqual([1, 1, 3]);
  });

  it('weights a scaled copy by its scale: min |w| subject to w1 + 2 w2 = 2 is (0.4, 0.8)', () => {
    const a = [1, -1, 2, -2];
    const w = solve(
      [a, a.map((v) => 2 * v)],
      a.map((v) => 2 * v),
    );
    expect(w[0]).toBeCloseTo(0.4, 12);
    expect(w[1]).toBeCloseTo(0.8, 12);
  });

  it('gives a zero weight to a constant column', () => {
    const w = solve(
      [
        [5, 5, 5],
        [1, 0, -1],
      ],
      [2, 0, -2],
    );
    expect(w[0]).toBe(0);
    expect(w[1]).toBeCloseTo(2, 14);
  });

  it('agrees with the centred normal equations on a full-rank problem, with and without l2', () => {
    const x = fromColumns([
      [1, 2, 3, 4, 5],
      [2, -1, 0, 3, 1],
    ]);
    const y = f64([1, 3, 2, 5, 4]);
    const products = centredCrossProducts(x, y);
    for (const l2 of [0, 0.5]) {
      const system = Float64Array.from(products.gram);
      system[0] += l2;
      system[3] += l2;
      const normal = choleskySolve(system, products.xty, 2, 1e-8);
      const w = centredLeastSquares(x, y, products.means, products.yMean, l2);
      expect(w[0]).toBeCloseTo(normal?.[0] ?? NaN, 13);
      expect(w[1]).toBeCloseTo(normal?.[1] ?? NaN, 13);
    }
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
