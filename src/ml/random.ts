const TWO_POW_32 = 4294967296;
// Below this bound a 32-bit draw times the bound stays an exact double (< 2^53).
const EXACT_PRODUCT_BOUND = 2 ** 21;

/**
 * mulberry32: a tiny seeded PRNG built only from 32-bit integer operations (Math.imul, >>>),
 * so a seed yields the same sequence on every platform and Node version.
 * Not cryptographic; meant for reproducible shuffles.
 */
export class Random {
  private state: number;

  /** The seed is reduced to its low 32 bits (non-integers are truncated, NaN becomes 0). */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, bound) for 1 <= bound <= 2^32, without modulo bias. */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
      throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}.`);
    }
    // Reject the few lowest draws that would make some residues more likely than others.
    const threshold = (TWO_POW_32 - bound) % bound;
    for (;;) {
      const r = this.nextUint32();
      if (r >= threshold) {
        return r % bound;
      }
    }
  }

  /**
   * Fisher–Yates shuffle in place. Uses Lemire's multiply-and-reject instead of nextInt's modulo
   * (the same uniform distribution, a different sequence): it runs once per row and epoch.
   */
  shuffle(values: Uint32Array): void {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }

  /** Uniform integer in [0, bound), bound an integer from 1 to 2^32. */
  private below(bound: number): number {
    if (bound > EXACT_PRODUCT_BOUND) {
      return this.nextInt(bound);
    }
    // The high 32 bits of draw × bound; the low bits decide the rare rejection. Division by 2^32
    // and floor are exact here, and cheaper than the floating-point % they replace.
    let product = this.nextUint32() * bound;
    let high = Math.floor(product / TWO_POW_32);
    if (product - high * TWO_POW_32 < bound) {
      const threshold = (TWO_POW_32 - bound) % bound;
      while (product - high * TWO_POW_32 < threshold) {
        product = this.nextUint32() * bound;
        high = Math.floor(product / TWO_POW_32);
      }
    }
    return high;
  }
}
