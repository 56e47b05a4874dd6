// Small dense linear algebra over Float64Array. Matrices are n×n, row-major; data sets are
// row-major design matrices (see model-fitting.ts).
import { DesignRows, asDesignRows } from './design-rows';
import type { DesignMatrix } from './model-fitting';

const EPS = Number.EPSILON;
const MAX_JACOBI_SWEEPS = 60;
const POWER_ITERATIONS = 100;
const GROUP_ROWS = 8;

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
 * Solves min ‖X w − y‖² + l2‖w‖² for X given by its columns, which are overwritten, by a one-sided
 * Jacobi SVD of X itself: working on X rather than XᵀX keeps the condition number unsquared.
 * With l2 = 0 this is the minimum-norm solution numpy.linalg.lstsq returns for a matrix of `rows`
 * rows: singular values below max(rows, n) · ε · σ_max count as zero (numpy's default rcond).
 */
function svdSolve(u: Float64Array[], y: Float64Array, l2: number, rows: number): Float64Array {
  const n = u.length;
  // Rotated in place until the columns are mutually orthogonal: U Σ = X V.
  const v = Array.from({ length: n }, (_, j) => {
    const col = new Float64Array(n);
    col[j] = 1;
    return col;
  });
  const orthogonalityTolerance = Math.sqrt(rows) * EPS;
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
    if (!rotated) {
      break;
    }
  }
  const sigma = u.map((col) => Math.sqrt(dot(col, col)));
  const cutoff = Math.max(rows, n) * EPS * Math.max(0, ...sigma);
  // w = V diag(σ / (σ² + l2)) Uᵀ y, with U's columns still scaled by σ.
  const w = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    if (sigma[k] > cutoff) {
      const factor = dot(u[k], y) / (sigma[k] * sigma[k] + l2);
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

/** Centred second moments of a design matrix and its target, the input of the normal equations. */
export interface CentredCrossProducts {
  rows: number;
  /** Column means of X. */
  means: Float64Array;
  yMean: number;
  /** XcᵀXc, n×n, for the centred columns Xc = X − 1μᵀ. */
  gram: Float64Array;
  /** Xcᵀ(y − ȳ). */
  xty: Float64Array;
  /** |y − ȳ|². */
  yty: number;
}

/**
 * One pass over the blocks of the data. Each block is centred on its own means (with one
 * correction sweep, so a large common offset does not cost digits) before its outer products are
 * summed, and joins the total by Chan, Golub & LeVeque's update: with δ the difference of the block's
 * and the total's means, the centred sums grow by the block's own plus δδᵀ·m_total·m_block/m.
 * Centring before multiplying keeps the digits that XᵀX − m μμᵀ would cancel (uncentred one-hot
 * columns), without a pass for the means first.
 */
export function centredCrossProducts(
  x: DesignMatrix | DesignRows,
  y: Float64Array,
): CentredCrossProducts {
  const rows = asDesignRows(x);
  const { rows: m, cols: n, blockRows } = rows;
  const size = n + 1;
  const means = new Float64Array(size);
  const total = new Float64Array(size * size);
  const block = new Float64Array(size * size);
  const blockMeans = new Float64Array(size);
  const delta = new Float64Array(size);
  const correction = new Float64Array(size);
  // Eight rows' centred vectors [x − μ, y − ȳ] side by side: each sweep over the triangle adds
  // eight outer products, an eighth of the loads and stores of the accumulator that one row at a
  // time would need.
  const v = new Float64Array(GROUP_ROWS * size);
  let seen = 0;
  for (let start = 0; start < m; start += blockRows) {
    const count = Math.min(blockRows, m - start);
    const data = rows.block(start, count);
    blockMeansOf(data, y, start, count, n, blockMeans, correction);
    block.fill(0);
    for (let i = 0; i < count; i += GROUP_ROWS) {
      const group = Math.min(GROUP_ROWS, count - i);
      for (let r = 0; r < group; r++) {
        centredRow(data, i + r, n, blockMeans, y[start + i + r], v, r * size);
      }
      if (group < GROUP_ROWS) {
        // Zero vectors pad the last group.
        v.fill(0, group * size);
      }
      addOuterProducts(v, size, block);
    }
    const after = seen + count;
    const weight = (seen * count) / after;
    for (let j = 0; j < size; j++) {
      delta[j] = blockMeans[j] - means[j];
      means[j] += delta[j] * (count / after);
    }
    for (let j = 0; j < size; j++) {
      const row = j * size;
      const dj = delta[j] * weight;
      for (let k = j; k < size; k++) {
        total[row + k] += block[row + k] + dj * delta[k];
      }
    }
    seen = after;
  }
  const gram = new Float64Array(n * n);
  const xty = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    xty[j] = total[j * size + n];
    for (let k = j; k < n; k++) {
      gram[j * n + k] = gram[k * n + j] = total[j * size + k];
    }
  }
  return {
    rows: m,
    means: m > 0 ? means.slice(0, n) : new Float64Array(n).fill(NaN),
    yMean: m > 0 ? means[n] : NaN,
    gram,
    xty,
    yty: total[n * size + n],
  };
}

/** The block's column means and target mean, each corrected by one sweep of its deviations. */
function blockMeansOf(
  data: Float64Array,
  y: Float64Array,
  start: number,
  count: number,
  n: number,
  out: Float64Array,
  correction: Float64Array,
): void {
  out.fill(0);
  correction.fill(0);
  for (let i = 0, base = 0; i < count; i++, base += n) {
    for (let j = 0; j < n; j++) {
      out[j] += data[base + j];
    }
    out[n] += y[start + i];
  }
  for (let j = 0; j <= n; j++) {
    out[j] /= count;
  }
  for (let i = 0, base = 0; i < count; i++, base += n) {
    for (let j = 0; j < n; j++) {
      correction[j] += data[base + j] - out[j];
    }
    correction[n] += y[start + i] - out[n];
  }
  for (let j = 0; j <= n; j++) {
    out[j] += correction[j] / count;
  }
}

/** Adds the outer products of the eight `size`-vectors in v to the upper triangle of `sums`. */
function addOuterProducts(v: Float64Array, size: number, sums: Float64Array): void {
  const o2 = size;
  const o3 = 2 * size;
  const o4 = 3 * size;
  const o5 = 4 * size;
  const o6 = 5 * size;
  const o7 = 6 * size;
  const o8 = 7 * size;
  for (let j = 0; j < size; j++) {
    const a1 = v[j];
    const a2 = v[o2 + j];
    const a3 = v[o3 + j];
    const a4 = v[o4 + j];
    const a5 = v[o5 + j];
    const a6 = v[o6 + j];
    const a7 = v[o7 + j];
    const a8 = v[o8 + j];
    const row = j * size;
    for (let k = j; k < size; k++) {
      sums[row + k] +=
        a1 * v[k] +
        a2 * v[o2 + k] +
        a3 * v[o3 + k] +
        a4 * v[o4 + k] +
        a5 * v[o5 + k] +
        a6 * v[o6 + k] +
        a7 * v[o7 + k] +
        a8 * v[o8 + k];
    }
  }
}

/** v[o..o + n + 1) = [x_i − μ, y − ȳ] for row i of a block; `means` ends with ȳ. */
function centredRow(
  data: Float64Array,
  i: number,
  n: number,
  means: Float64Array,
  y: number,
  v: Float64Array,
  o: number,
): void {
  const base = i * n;
  for (let j = 0; j < n; j++) {
    v[o + j] = data[base + j] - means[j];
  }
  v[o + n] = y - means[n];
}

/**
 * Solves min ‖Xc w − yc‖² + l2‖w‖² on the centred data, accurately even when XcᵀXc is singular or
 * nearly so: the rows stream through Givens rotations into R of Xc = QR (no copy of X), then the
 * SVD of the small R, which has Xc's singular values. With l2 = 0 this is lstsq's minimum-norm
 * solution. O(m n²), a few times the cost of the normal equations: the fallback for collinear data.
 */
export function centredLeastSquares(
  x: DesignMatrix | DesignRows,
  y: Float64Array,
  means: Float64Array,
  yMean: number,
  l2: number,
): Float64Array {
  const design = asDesignRows(x);
  const { rows, cols: n, blockRows } = design;
  const width = n + 1;
  // R (upper triangle) with Qᵀy as its last column, row-major n × (n + 1).
  const r = new Float64Array(n * width);
  const v = new Float64Array(width);
  for (let start = 0; start < rows; start += blockRows) {
    const count = Math.min(blockRows, rows - start);
    const data = design.block(start, count);
    for (let i = 0; i < count; i++) {
      givensRow(data, i * n, n, means, y[start + i] - yMean, v, r);
    }
  }
  const columns = Array.from({ length: n }, (_, k) =>
    Float64Array.from({ length: n }, (_, j) => r[j * width + k]),
  );
  const qty = Float64Array.from({ length: n }, (_, j) => r[j * width + n]);
  return svdSolve(columns, qty, l2, rows);
}

/** Rotates the centred row at data[base..] (and its centred target) into R. */
function givensRow(
  data: Float64Array,
  base: number,
  n: number,
  means: Float64Array,
  yCentred: number,
  v: Float64Array,
  r: Float64Array,
): void {
  const width = n + 1;
  for (let j = 0; j < n; j++) {
    v[j] = data[base + j] - means[j];
  }
  v[n] = yCentred;
  for (let j = 0; j < n; j++) {
    const b = v[j];
    if (b === 0) {
      continue;
    }
    const row = j * width;
    const a = r[row + j];
    const h = Math.sqrt(a * a + b * b);
    const c = a / h;
    const s = b / h;
    r[row + j] = h;
    for (let k = j + 1; k < width; k++) {
      const rk = r[row + k];
      const vk = v[k];
      r[row + k] = c * rk + s * vk;
      v[k] = c * vk - s * rk;
    }
  }
}
