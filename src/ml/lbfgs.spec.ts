import { Lbfgs, ValueAndGradient } from './lbfgs';
import { choleskySolve } from './linalg';

/** f(x) = ½ xᵀAx − bᵀx for a symmetric positive definite A, counting evaluations. */
function quadratic(a: number[][], b: number[]) {
  let evaluations = 0;
  const f: ValueAndGradient = (x, gradient) => {
    evaluations++;
    let value = 0;
    a.forEach((row, i) => {
      const ax = row.reduce((s, aij, j) => s + aij * x[j], 0);
      gradient[i] = ax - b[i];
      value += 0.5 * x[i] * ax - b[i] * x[i];
    });
    return value;
  };
  return { f, evaluations: () => evaluations };
}

const rosenbrock: ValueAndGradient = (x, gradient) => {
  const [u, v] = x;
  gradient[0] = -2 * (1 - u) - 400 * u * (v - u * u);
  gradient[1] = 200 * (v - u * u);
  return (1 - u) ** 2 + 100 * (v - u * u) ** 2;
};

function run(optimizer: Lbfgs, maxIterations: number): number[] {
  const values = [optimizer.value];
  for (let i = 0; i < maxIterations && !optimizer.converged; i++) {
    values.push(optimizer.step());
  }
  return values;
}

describe('Lbfgs', () => {
  // An ill-conditioned SPD matrix (condition number ~1e4).
  const a = [
    [1e4, 2, 0, 1, 0],
    [2, 50, 3, 0, 0],
    [0, 3, 10, 1, 0],
    [1, 0, 1, 4, 0.5],
    [0, 0, 0, 0.5, 1],
  ];
  const b = [1, -2, 3, 0.5, -1];

  it('minimises an ill-conditioned quadratic to the gradient tolerance, never raising f', () => {
    const { f, evaluations } = quadratic(a, b);
    const optimizer = new Lbfgs(f, new Float64Array(5), { gradientTolerance: 1e-12 });
    const values = [optimizer.value];
    const evaluationsPerStep: number[] = [];
    while (!optimizer.converged && values.length < 100) {
      const before = evaluations();
      values.push(optimizer.step());
      evaluationsPerStep.push(evaluations() - before);
    }
    expect(optimizer.converged).toBe(true);
    // scipy's L-BFGS-B takes 27 iterations here and stops at a gradient of 1.7e-7.
    expect(values.length - 1).toBeLessThan(40);
    // Near the end f moves less than its rounding; steps are then judged by the slope alone.
    values
      .slice(1)
      .forEach((v, k) => expect(v).toBeLessThanOrEqual(values[k] + 1e-12 * Math.abs(v)));
    const exact = choleskySolve(Float64Array.from(a.flat()), Float64Array.from(b), 5, 1e-12)!;
    optimizer.x.forEach((v, j) => expect(v).toBeCloseTo(exact[j], 12));
    expect(Math.max(...Array.from(optimizer.gradient, Math.abs))).toBeLessThanOrEqual(1e-12);
    // The quasi-Newton step is accepted as it is in most iterations: one evaluation each.
    const single = evaluationsPerStep.filter((count) => count === 1).length;
    expect(single / evaluationsPerStep.length).toBeGreaterThan(0.8);
  });

  it('follows the Rosenbrock valley to its minimum', () => {
    const optimizer = new Lbfgs(rosenbrock, Float64Array.from([-1.2, 1]), {
      gradientTolerance: 1e-9,
    });
    const values = run(optimizer, 200);
    expect(values.length - 1).toBeLessThan(100);
    expect(optimizer.x[0]).toBeCloseTo(1, 8);
    expect(optimizer.x[1]).toBeCloseTo(1, 8);
  });

  it('converges with a memory of one pair too', () => {
    const { f } = quadratic(a, b);
    const optimizer = new Lbfgs(f, new Float64Array(5), { gradientTolerance: 1e-10, memory: 1 });
    run(optimizer, 1000);
    expect(optimizer.converged).toBe(true);
  });

  it('does not move, or evaluate, once converged', () => {
    const { f, evaluations } = quadratic(a, b);
    const x = Float64Array.from(
      choleskySolve(Float64Array.from(a.flat()), Float64Array.from(b), 5, 1e-12)!,
    );
    const optimizer = new Lbfgs(f, x, { gradientTolerance: 1e-8 });
    expect(optimizer.converged).toBe(true);
    const before = Float64Array.from(x);
    expect(optimizer.step()).toBe(optimizer.value);
    expect(x).toEqual(before);
    expect(evaluations()).toBe(1);
  });

  it('stops, converged, where rounding leaves no lower value to find (tolerance 0)', () => {
    const { f } = quadratic(a, b);
    const optimizer = new Lbfgs(f, new Float64Array(5), { gradientTolerance: 0 });
    run(optimizer, 500);
    expect(optimizer.converged).toBe(true);
    const exact = choleskySolve(Float64Array.from(a.flat()), Float64Array.from(b), 5, 1e-12)!;
    optimizer.x.forEach((v, j) => expect(v).toBeCloseTo(exact[j], 12));
  });

  it('never returns to a worse point when the function is not finite far away', () => {
    // log barrier: f = x − log(x), minimum at 1, NaN for x < 0.
    const f: ValueAndGradient = (x, gradient) => {
      gradient[0] = 1 - 1 / x[0];
      return x[0] - Math.log(x[0]);
    };
    const optimizer = new Lbfgs(f, Float64Array.from([0.01]), { gradientTolerance: 1e-10 });
    const values = run(optimizer, 100);
    values.slice(1).forEach((v, k) => expect(v).toBeLessThanOrEqual(values[k]));
    expect(optimizer.x[0]).toBeCloseTo(1, 8);
  });
});
