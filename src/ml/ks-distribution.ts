/**
 * The two-sample Kolmogorov–Smirnov test as scipy.stats.ks_2samp computes it (two-sided,
 * method='auto', scipy 1.10–1.17): the exact distribution of the statistic when both samples have
 * at most 10,000 values, else the exact one-sample Kolmogorov distribution at
 * n = round(m·n / (m + n)) (scipy.stats.kstwo.sf, scipy/stats/_ksstats.py), which picks among
 * several methods by n and x as Simard & L'Ecuyer (2011) advise. Each function below names the
 * scipy function it follows, so the two can be read side by side.
 */

/** Above this size on either side ks_2samp goes asymptotic (scipy's MAX_AUTO_N). */
export const KS_EXACT_MAX_N = 10_000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

/**
 * scipy.stats.ks_2samp(a, b) for two non-empty samples, each sorted ascending. The statistic is
 * the largest gap between the empirical CDFs, evaluated at every value as scipy does
 * (searchsorted 'right'), so the rounding of i/n1 − j/n2 is the same as scipy's.
 */
export function ks2Samp(a: Float64Array, b: Float64Array): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) {
    throw new RangeError('ks2Samp needs a non-empty sample on both sides.');
  }
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const lower = Math.min(Math.max(-minS, 0), 1);
  let d = lower > maxS ? lower : maxS;

  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = roundHalfEven((m * n) / (m + n));
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const exact = attemptExact(n1, n2, d, en);
    if (exact.pValue !== null) {
      return { statistic: exact.d, pValue: exact.pValue, method: exact.method };
    }
    d = exact.d;
  }
  return { statistic: d, pValue: kolmogorovSf(en, d), method: 'asymp' };
}

/**
 * Unequal sizes whose asymptotic p-value is below this skip the exact recursion: it costs
 * O(d·m·n) (~0.5 s at 10,000 × 9,999 with d near 1, where ~10 ms at d = 0.02) and would only
 * refine a p-value that is far below any threshold. Over random sizes up to 3,000 the exact
 * p-value was at most 21 times the asymptotic one where the latter is 1e-20 to 1e-12, so the
 * exact one is still below ~1e-18 here.
 */
const EXACT_SKIP_BELOW = 1e-20;

/**
 * scipy's _attempt_exact_2kssamp, two-sided: d is snapped to the lattice h / lcm(n1, n2); the
 * p-value is null where scipy's computation fails (it then goes asymptotic with the snapped d).
 */
function attemptExact(
  n1: number,
  n2: number,
  d: number,
  en: number,
): { d: number; pValue: number | null; method: KsResult['method'] } {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const snapped = h / lcm;
  if (h === 0) {
    return { d: snapped, pValue: 1, method: 'exact' };
  }
  if (n1 === n2) {
    return { d: snapped, pValue: probOutsideSquare(n1, h), method: 'exact' };
  }
  const asymptotic = kolmogorovSf(en, snapped);
  if (asymptotic < EXACT_SKIP_BELOW) {
    return { d: snapped, pValue: asymptotic, method: 'asymp' };
  }
  const p = outerProbInside(n1, n2, g, h);
  return { d: snapped, pValue: p >= 0 && p <= 1 ? p : null, method: 'exact' };
}

/**
 * scipy's _compute_prob_outside_square: P(D_{n,n} ≥ h/n) as
 * 2·Σ_k (−1)^(k−1)·C(2n, n − kh) / C(2n, n), each ratio a product of h factors, summed by
 * Horner's rule from the smallest term so the alternating series loses nothing. O(n).
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) {
      p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    }
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * scipy's _compute_outer_prob_inside_method (scipy/stats/_stats_pythran.py): the share of lattice
 * paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm, by Hodges' inside method
 * rewritten by Viehmann (2021) to carry 1 − p, column by column over a sliding window of the band.
 * O(m · band width) = O(d·m·n).
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const a = new Float64Array(Math.min(2 * maxj + 2, n + 1)).fill(1);
  a.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) {
      return 1;
    }
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    for (let jj = 0, j = minj; j < maxj; jj++, j++) {
      val = (a[jj + shift] * i + val * j) / (i + j);
      a[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      a.fill(1, curlen, lastlen);
    }
  }
  return a[maxj - minj - 1];
}

const MIN_LOG = -708;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI_SQUARED = Math.PI ** 2;
const PI_FOUR = Math.PI ** 4;
const PI_SIX = Math.PI ** 6;
const TWO_128 = 2 ** 128;
const TWO_MINUS_128 = 2 ** -128;

/**
 * scipy.stats.kstwo.sf(x, n): P(D_n ≥ x) for the two-sided one-sample statistic (_kolmogn with
 * cdf=False and the support check of rv_continuous.sf). n a positive integer.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!(x > 0.5 / n)) return 1;
  if (x >= 1) return 0;
  const t = n * x;
  if (t <= 1) {
    // Ruben–Gambino: P(D_n ≤ x) = n!/n^n · (2t − 1)^n for 1/2n ≤ x ≤ 1/n.
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - cdf);
  }
  if (t >= n - 1) {
    return clip(2 * (1 - x) ** n);
  }
  if (x >= 0.5) {
    return clip(2 * smirnovSf(n, x));
  }
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clip(1 - durbinMatrixCdf(n, x));
    if (nxSquared <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

/** B_2j / (2j(2j − 1)) for j = 8 … 1: the coefficients of Stirling's series. */
const STIRLING_COEFFS = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

/** log(n!/n^n) by Stirling's series with n·log(n) taken out first (_log_nfactorial_div_n_pow_n). */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/**
 * P(D_n ≤ d) by Durbin's matrix method as Marsaglia, Tsang & Wang (2003) compute it
 * (_kolmogn_DMTW): the k-th diagonal entry of H^n · n!/n^n for an m×m matrix H, m = 2k − 1,
 * k = ceil(n·d), with powers of two taken out as the numbers grow or shrink.
 */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;

  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;

  let hm: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) hm[r * m + i] = w[r - (i - 1)];
  }
  for (let r = 0; r < m; r++) hm[r * m] = v[r];
  for (let c = 0; c < m; c++) hm[(m - 1) * m + c] = v[m - 1 - c];

  let power: Float64Array = new Float64Array(m * m);
  for (let r = 0; r < m; r++) power[r * m + r] = 1;
  let exponent = 0;
  let hExponent = 0;
  for (let nn = n; nn > 0; nn = Math.floor(nn / 2)) {
    if (nn % 2) {
      power = matmul(power, hm, m);
      exponent += hExponent;
    }
    hm = matmul(hm, hm, m);
    hExponent *= 2;
    if (Math.abs(hm[(k - 1) * m + (k - 1)]) > TWO_128) {
      for (let i = 0; i < hm.length; i++) hm[i] /= TWO_128;
      hExponent += 128;
    }
  }
  let p = power[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < TWO_MINUS_128) {
      p *= TWO_128;
      exponent -= 128;
    }
  }
  return clip(ldexp(p, exponent));
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l];
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += ail * b[l * m + j];
    }
  }
  return out;
}

/**
 * P(D_n ≤ x) by Pomeranz's recursion (1974, _kolmogn_Pomeranz): 2n + 1 rows, each the previous
 * one convolved with one of three truncated Poisson weight sequences; only the few non-zero entries
 * of two rows are kept. Used for n ≤ 140 only.
 */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = (gpower[m - 1] * (g / n)) / m;
    twogpower[m] = (twogpower[m - 1] * ((2 * g) / n)) / m;
    onem2gpower[m] = (onem2gpower[m - 1] * ((1 - 2 * g) / n)) / m;
  }
  const bounds = (i: number): [number, number] => {
    let j1: number;
    let j2: number;
    if (i === 0) {
      j1 = -ll - ceilf - 1;
      j2 = ll + ceilf - 1;
    } else {
      const half = Math.floor((i + 1) / 2);
      if ((i + 1) % 2 === 0) {
        if (half === n + 1) {
          j1 = n - ll - ceilf - 1;
          j2 = n + ll + ceilf - 1;
        } else {
          j1 = half - 1 - ll - roundf - 1;
          j2 = half + ll - 1 + ceilf - 1;
        }
      } else {
        j1 = half - 1 - ll - 1;
        j2 = half + ll + roundf - 1;
      }
    }
    return [Math.max(j1 + 2, 0), Math.min(j2, n)];
  };

  let v0 = new Float64Array(npwrs);
  let v1 = new Float64Array(npwrs);
  v1[0] = 1;
  let v0s = 0;
  let v1s = 0;
  let exponent = 0;
  let j1 = bounds(0)[0];
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0s, v1s] = [v1s, v0s];
    v1.fill(0);
    const [start1, j2] = bounds(i);
    j1 = start1;
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(v0[k1 - v0s :][: ln2], pwrs[: ln2]), entries j1 − k1 … j2 − k1 of it.
      const start = k1 - v0s;
      const la = Math.min(ln2, v0.length - start);
      const lb = Math.min(ln2, pwrs.length);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let largest = 0;
      for (let c = 0; c < convLen; c++) {
        const idx = convStart + c;
        let sum = 0;
        for (let p = Math.max(0, idx - lb + 1); p <= Math.min(idx, la - 1); p++) {
          sum += v0[start + p] * pwrs[idx - p];
        }
        v1[c] = sum;
        if (sum > largest) largest = sum;
      }
      if (largest > 0 && largest < TWO_MINUS_128) {
        for (let c = 0; c < v1.length; c++) v1[c] *= TWO_128;
        exponent -= 128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  let ans = v1[n - v1s];
  for (let m = 1; m <= n; m++) {
    if (Math.abs(ans) > TWO_128) {
      ans *= TWO_MINUS_128;
      exponent += 128;
    }
    ans *= m;
  }
  return clip(ldexp(ans, exponent));
}

/**
 * The Pelz–Good (1976) asymptotic series for P(D_n ≤ x) (_kolmogn_PelzGood): the Li-Chien and
 * Korolyuk expansion K0 + K1/√n + K2/n + K3/n^1.5 in z = x√n, in the theta-function form that
 * converges for small z.
 */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI_SQUARED / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);

  const k1a = -z2;
  const k1b = PI_SQUARED / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI_SQUARED) / 4;
  const k2c = (PI_FOUR * (1 - 2 * z2)) / 16;
  const k3d = (PI_SIX * (5 - 30 * z2)) / 64;
  const k3c = (PI_FOUR * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI_SQUARED * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;

  const terms = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpower = q ** (8 * k);
    terms[0] = terms[0] * qpower + 1;
    terms[1] = terms[1] * qpower + (k1a + k1b * m2);
    terms[2] = terms[2] * qpower + (k2a + k2b * m2 + k2c * m4);
    terms[3] = terms[3] * qpower + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i] * q * SQRT_2PI) / divisors[i];

  q = Math.exp(-PI_SQUARED / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    const kpi = Math.PI * k;
    k2extra += k2 * qk;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  terms[2] += k2extra * ((PI_SQUARED * SQRT_2PI) / (-36 * z3));
  terms[3] += k3extra * ((PI_SQUARED * SQRT_2PI) / (216 * z6));
  return terms[0] + terms[1] / Math.sqrt(n) + terms[2] / n + terms[3] / n ** 1.5;
}

/**
 * scipy.special.smirnov(n, x): P(D+_n ≥ x) for the one-sided statistic, by the Birnbaum–Tingey sum
 * x · Σ_{v=0}^{⌊n(1−x)⌋} C(n, v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v) (xsf's cephes/kolmogorov.h).
 * xsf sums in double-double; here each term is formed in logarithms (its magnitude is far beyond a
 * double's range for large n) and summed positively, which keeps ~1e-11 relative accuracy for the
 * n ≤ 10^5 drift meets. Only reached with n·x² > 2.2 (kolmogorovSf), where every term is positive.
 */
function smirnovSf(n: number, x: number): number {
  if (n === 1) return 1 - x;
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  // floor(n·x) and its remainder exactly: n·x = hi + lo with lo the product's rounding error.
  const hi = n * x;
  const lo = twoProductError(n, x);
  let nxFloor = Math.floor(hi);
  let alpha = hi - nxFloor + lo;
  if (alpha < 0) {
    nxFloor -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxFloor += 1;
    alpha = 0;
  }
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) {
    return 1 - x * (1 + x) ** (n - 1);
  }
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) {
    // xsf's approximation for n too large to sum: p ≈ exp(−(6nx + 1)² / 18n).
    return Math.exp(-((6 * n * x + 1) ** 2) / 18 / n);
  }
  // The terms v = 0 … last, those with 1 − x − v/n > 0.
  const last = n - nxFloor - 1;
  // log of the running sum's scale, and the sum of exp(log term − scale).
  let scale = n * Math.log1p(-x) - Math.log(x);
  let sum = 1;
  let logBinomial = 0;
  const vmid = Math.floor(n / 2);
  for (let v = 1; v <= last; v++) {
    logBinomial += Math.log((n - v + 1) / v);
    // 1 − x − v/n and x + v/n from the exact split of n·x, free of cancellation.
    const below = (n - nxFloor - v - alpha) / n;
    const above = (nxFloor + v + alpha) / n;
    const logTerm = logBinomial + (n - v) * Math.log(below) + (v - 1) * Math.log(above);
    let term: number;
    if (logTerm > scale) {
      sum = sum * Math.exp(scale - logTerm) + 1;
      scale = logTerm;
      term = 1;
    } else {
      term = Math.exp(logTerm - scale);
      sum += term;
    }
    // xsf's stopping rule: the remaining terms cannot change the sum.
    if (term !== 0) {
      if (4 * (last + 1 - v) * term < Number.EPSILON * sum && v !== last) break;
    } else if (v > vmid) {
      break;
    }
  }
  return Math.exp(Math.log(x) + Math.log(sum) + scale);
}

/** The rounding error of a·b (Dekker's two-product with Veltkamp's split), so a·b = fl(a·b) + e. */
function twoProductError(a: number, b: number): number {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

function split(a: number): [number, number] {
  const c = 134217729 * a; // 2^27 + 1
  const high = c - (c - a);
  return [high, a - high];
}

/** a · 2^e without the overflow or underflow of computing 2^e on its own. */
function ldexp(a: number, e: number): number {
  let value = a;
  let rest = e;
  while (rest > 1000) {
    value *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    value *= 2 ** -1000;
    rest += 1000;
  }
  return value * 2 ** rest;
}

function clip(p: number): number {
  return Math.min(Math.max(p, 0), 1);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
