/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, algorithms 7.4 and 7.5) with a
 * line search for the strong Wolfe conditions (algorithms 3.5 and 3.6), for smooth unconstrained
 * minimisation. One `step` is one iteration; the caller decides when to stop.
 */
import { dot } from './linalg';

/** f(x); writes ∇f(x) into `gradient`. */
export type ValueAndGradient = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  /** Converged once max |∂f/∂xⱼ| ≤ this (scipy's gtol, scikit-learn's tol). */
  gradientTolerance: number;
  /** Curvature pairs remembered. */
  memory?: number;
}

// Sufficient decrease and curvature constants: the usual quasi-Newton choices.
const C1 = 1e-4;
const C2 = 0.9;
const MAX_EVALUATIONS = 25;
// Near the optimum f changes less than its own rounding error and sufficient decrease becomes a
// coin toss; within this relative band Hager & Zhang's approximate Wolfe test (a condition on the
// slope, which stays accurate) accepts the step instead.
const ROUNDING_BAND = 1e-12;
const EXPANSION = 4;

export class Lbfgs {
  value: number;
  readonly gradient: Float64Array;
  private readonly memory: number;
  private readonly s: Float64Array[] = [];
  private readonly y: Float64Array[] = [];
  private readonly rho: number[] = [];
  private readonly alpha: Float64Array;
  private newest = -1;
  private pairs = 0;
  private stalled = false;
  private readonly direction: Float64Array;
  private readonly trialX: Float64Array;
  private readonly trialGradient: Float64Array;
  private readonly bestGradient: Float64Array;
  private readonly start: Float64Array;

  /** Evaluates f at x, which `step` then moves in place. */
  constructor(
    private readonly f: ValueAndGradient,
    readonly x: Float64Array,
    private readonly options: LbfgsOptions,
  ) {
    const size = x.length;
    this.memory = options.memory ?? 10;
    this.alpha = new Float64Array(this.memory);
    this.gradient = new Float64Array(size);
    this.direction = new Float64Array(size);
    this.trialX = new Float64Array(size);
    this.trialGradient = new Float64Array(size);
    this.bestGradient = new Float64Array(size);
    this.start = new Float64Array(size);
    this.value = f(x, this.gradient);
  }

  /** True once the gradient is within tolerance, or no step along any direction lowers f. */
  get converged(): boolean {
    return this.stalled || maxAbs(this.gradient) <= this.options.gradientTolerance;
  }

  /** One iteration; returns f at the new x. */
  step(): number {
    if (this.converged) {
      return this.value;
    }
    const usedPairs = this.pairs > 0;
    this.searchDirection();
    if (dot(this.gradient, this.direction) < 0 && this.lineSearch()) {
      return this.value;
    }
    if (!usedPairs) {
      this.stalled = true;
      return this.value;
    }
    // Rounding can leave the pairs pointing uphill or nowhere; steepest descent always goes down.
    this.pairs = 0;
    this.steepestDescent();
    if (!this.lineSearch()) {
      this.stalled = true;
    }
    return this.value;
  }

  private steepestDescent(): void {
    for (let j = 0; j < this.direction.length; j++) {
      this.direction[j] = -this.gradient[j];
    }
  }

  /** d = −H∇f by the two-loop recursion, H₀ = (sᵀy / yᵀy) I from the newest pair. */
  private searchDirection(): void {
    const d = this.direction;
    this.steepestDescent();
    if (this.pairs === 0) {
      return;
    }
    const { s, y, rho, alpha, memory } = this;
    for (let n = 0, i = this.newest; n < this.pairs; n++, i = (i + memory - 1) % memory) {
      alpha[i] = rho[i] * dot(s[i], d);
      axpy(-alpha[i], y[i], d);
    }
    const newest = this.newest;
    const gamma = 1 / (rho[newest] * dot(y[newest], y[newest]));
    for (let j = 0; j < d.length; j++) {
      d[j] *= gamma;
    }
    const oldest = (this.newest + memory - this.pairs + 1) % memory;
    for (let n = 0, i = oldest; n < this.pairs; n++, i = (i + 1) % memory) {
      axpy(alpha[i] - rho[i] * dot(y[i], d), s[i], d);
    }
  }

  /**
   * Moves x along the direction to a point satisfying the strong Wolfe conditions (or, short of
   * that, sufficient decrease), stores the curvature pair and returns true. Trial points are
   * evaluated beside x, so false leaves x as it was.
   */
  private lineSearch(): boolean {
    const { direction: d } = this;
    this.start.set(this.x);
    const f0 = this.value;
    const slope0 = dot(this.gradient, d);
    // The first step has no curvature to scale it: move a unit distance, as scipy does.
    let step = this.pairs === 0 ? 1 / Math.sqrt(dot(d, d)) : 1;

    const band = ROUNDING_BAND * Math.abs(f0);
    const acceptable = (t: number, f: number, slope: number): boolean =>
      f <= f0 + C1 * t * slope0 || (f <= f0 + band && slope <= (2 * C1 - 1) * slope0);
    const curvatureHolds = (slope: number): boolean => Math.abs(slope) <= -C2 * slope0;

    // The bracket: `lo` is the best acceptable point so far (its gradient kept), `hi` the far end.
    let lo = 0;
    let loF = f0;
    let loSlope = slope0;
    let hi = NaN;
    let hiF = NaN;
    let hiSlope = NaN;
    let evaluations = 0;
    let bracketed = false;
    while (evaluations < MAX_EVALUATIONS) {
      if (bracketed) {
        step = interpolate(lo, loF, loSlope, hi, hiF, hiSlope);
        if (!(Math.abs(hi - lo) > Number.EPSILON * Math.max(lo, hi))) {
          break;
        }
      }
      evaluations++;
      const f = this.evaluate(step);
      const slope = dot(this.trialGradient, d);
      if (!acceptable(step, f, slope) || (lo > 0 && f >= loF)) {
        // Too far: a minimum lies between lo and here.
        hi = step;
        hiF = f;
        hiSlope = slope;
        bracketed = true;
        continue;
      }
      if (curvatureHolds(slope)) {
        this.accept(step, f, this.trialGradient);
        return true;
      }
      if (bracketed ? slope * (hi - lo) >= 0 : slope >= 0) {
        // Past a minimum: it lies between here and lo.
        hi = lo;
        hiF = loF;
        hiSlope = loSlope;
        bracketed = true;
      }
      lo = step;
      loF = f;
      loSlope = slope;
      this.bestGradient.set(this.trialGradient);
      if (!bracketed) {
        step *= EXPANSION;
      }
    }
    if (lo > 0) {
      this.accept(lo, loF, this.bestGradient);
      return true;
    }
    return false;
  }

  /** f at start + t·d, its gradient into trialGradient. */
  private evaluate(t: number): number {
    const { start, direction: d, trialX } = this;
    for (let j = 0; j < trialX.length; j++) {
      trialX[j] = start[j] + t * d[j];
    }
    return this.f(trialX, this.trialGradient);
  }

  /** Moves to start + t·d and remembers the pair (s, y) when its curvature sᵀy is positive. */
  private accept(t: number, f: number, gradient: Float64Array): void {
    const { x, start, direction: d, memory } = this;
    const slot = (this.newest + 1) % memory;
    if (this.s.length < memory) {
      this.s.push(new Float64Array(x.length));
      this.y.push(new Float64Array(x.length));
      this.rho.push(0);
    }
    const s = this.s[slot];
    const y = this.y[slot];
    for (let j = 0; j < x.length; j++) {
      x[j] = start[j] + t * d[j];
      s[j] = x[j] - start[j];
      y[j] = gradient[j] - this.gradient[j];
    }
    this.gradient.set(gradient);
    this.value = f;
    const sy = dot(s, y);
    if (sy > Number.EPSILON * dot(y, y)) {
      this.rho[slot] = 1 / sy;
      this.newest = slot;
      this.pairs = Math.min(this.pairs + 1, memory);
    }
  }
}

/**
 * The minimiser of the cubic through both ends' values and slopes (Nocedal & Wright eq. 3.59),
 * kept a tenth of the interval away from its ends; bisection where the cubic has no minimum there.
 */
function interpolate(
  a: number,
  fa: number,
  slopeA: number,
  b: number,
  fb: number,
  slopeB: number,
): number {
  const d1 = slopeA + slopeB - (3 * (fa - fb)) / (a - b);
  const d2 = Math.sign(b - a) * Math.sqrt(d1 * d1 - slopeA * slopeB);
  const t = b - ((b - a) * (slopeB + d2 - d1)) / (slopeB - slopeA + 2 * d2);
  const low = Math.min(a, b);
  const width = Math.abs(b - a);
  return t >= low + 0.1 * width && t <= low + 0.9 * width ? t : (a + b) / 2;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let j = 0; j < y.length; j++) {
    y[j] += a * x[j];
  }
}

function maxAbs(values: Float64Array): number {
  let max = 0;
  for (let j = 0; j < values.length; j++) {
    max = Math.max(max, Math.abs(values[j]));
  }
  return max;
}
