// Small dense linear algebra over Float64Array. Matrices are n×n, row-major; data sets are stored
// as one Float64Array per column, the layout training already has.

const EPS = Number.EPSILON;
const MAX_JACOBI_SWEEPS = 60;
const POWER_ITERATIONS = 100;

/** a·b; four accumulators shorten the dependency chain and partially pair up the rounding. */
export function dot(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) {
    s0 += a[i] * b[i];
  }
  return s0 + s1 + (s2 + s3);
}

/** Mean with one correction pass, so a large common offset does not cost digits. */
export function mean(values: Float64Array): number {
  const m = values.length;
  let sum = 0;
  for (let i = 0; i < m; i++) {
    sum += values[i];
  }
  const first = sum / m;
  let correction = 0;
  for (let i = 0; i < m; i++) {
    correction += values[i] - first;
  }
  return first + correction / m;
}

/** XᵀX for X given by its columns; checkpoint runs between columns to allow cancelling. */
export function gramMatrix(columns: Float64Array[], checkpoint?: () => void): Float64Array {
  const n = columns.length;
  const gram = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let k = j; k < n; k++) {
      const v = dot(columns[j], columns[k]);
      gram[j * n + k] = v;
      gram[k * n + j] = v;
    }
    checkpoint?.();
  }
  return gram;
}

/**
 * Solves A x = b for a symmetric positive definite A by Cholesky factorisation (no inverse).
 * Returns null when some pivot is not above relativePivotTolerance times its diagonal entry:
 * A is singular, or so close to it that the solution would carry little accuracy.
 */
export function choleskySolve(
  a: Float64Array,
  b: Float64Array,
  n: number,
  relativePivotTolerance: number,
): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let pivot = a[rowJ + j];
    for (let k = 0; k < j; k++) {
      pivot -= l[rowJ + k] * l[rowJ + k];
    }
    // Written so that NaN also fails.
    if (!(pivot > relativePivotTolerance * a[rowJ + j])) {
      return null;
    }
    const ljj = Math.sqrt(pivot);
    l[rowJ + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let s = a[rowI + j];
      for (let k = 0; k < j; k++) {
        s -= l[rowI + k] * l[rowJ + k];
      }
      l[rowI + j] = s / ljj;
    }
  }
  // L z = b, then Lᵀ x = z.
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let s = x[i];
    for (let k = 0; k < i; k++) {
      s -= l[i * n + k] * x[k];
    }
    x[i] = s / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let k = i + 1; k < n; k++) {
      s -= l[k * n + i] * x[k];
    }
    x[i] = s / l[i * n + i];
  }
  return x;
}

/**
 * Minimum-norm least-squares solution of X w ≈ y (what numpy.linalg.lstsq returns), for X given by
 * its columns, via a one-sided Jacobi SVD of X itself: working on X rather than XᵀX keeps the
 * condition number unsquared, so rank decisions and the solution are as accurate as lstsq's.
 * Singular values below max(rows, n) · ε · σ_max count as zero (numpy's default rcond).
 */
export function minimumNormLeastSquares(
  columns: Float64Array[],
  y: Float64Array,
  checkpoint?: () => void,
): Float64Array {
  const n = columns.length;
  const m = y.length;
  // Rotated in place until the columns are mutually orthogonal: U Σ = X V.
  const u = columns.map((c) => Float64Array.from(c));
  const v = Array.from({ length: n }, (_, j) => {
    const col = new Float64Array(n);
    col[j] = 1;
    return col;
  });
  const orthogonalityTolerance = Math.sqrt(m) * EPS;
  for (let sweep = 0; sweep < MAX_JACOBI_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const alpha = dot(u[p], u[p]);
        const beta = dot(u[q], u[q]);
        const gamma = dot(u[p], u[q]);
        if (Math.abs(gamma) <= orthogonalityTolerance * Math.sqrt(alpha * beta)) {
          continue;
        }
        rotated = true;
        // The rotation that zeroes the (p, q) entry of UᵀU, taking the smaller angle.
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        rotate(u[p], u[q], c, s);
        rotate(v[p], v[q], c, s);
      }
    }
    checkpoint?.();
    if (!rotated) {
      break;
    }
  }
  const sigma = u.map((col) => Math.sqrt(dot(col, col)));
  const cutoff = Math.max(m, n) * EPS * Math.max(0, ...sigma);
  // w = V Σ⁺ Uᵀ y, with U's columns still scaled by σ.
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (sigma[k] > cutoff) {
      const factor = dot(u[k], y) / (sigma[k] * sigma[k]);
      for (let j = 0; j < n; j++) {
        w[j] += factor * v[k][j];
      }
    }
  }
  return w;
}

function rotate(a: Float64Array, b: Float64Array, c: number, s: number): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    a[i] = c * x - s * y;
    b[i] = s * x + c * y;
  }
}

/** Largest eigenvalue of a symmetric positive semi-definite matrix, by power iteration. */
export function largestEigenvalue(a: Float64Array, n: number): number {
  // A non-uniform start is unlikely to be orthogonal to the leading eigenvector.
  let x = Float64Array.from({ length: n }, (_, j) => 1 + j / n);
  let estimate = 0;
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) {
        s += a[i * n + k] * x[k];
      }
      y[i] = s;
    }
    const norm = Math.sqrt(dot(y, y));
    if (norm === 0) {
      return 0;
    }
    estimate = dot(x, y) / dot(x, x);
    x = y.map((value) => value / norm);
  }
  return estimate;
}
