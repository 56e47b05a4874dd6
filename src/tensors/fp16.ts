/**
 * IEEE 754 binary16 ("half", the FP16 datatype) ⇄ JavaScript numbers. FP16 elements are held as
 * their raw 16-bit patterns in a Uint16Array (see datatypes.ts); these convert one element.
 */

// A number's binary64 bits, read through a shared scratch buffer (no allocation per call).
const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);
/** Index of the word holding the sign, exponent and top 20 mantissa bits. */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

const TWO_POW_24 = 16777216;

/**
 * The binary16 bits nearest to `value`, rounding to nearest, ties to even (straight from the
 * binary64 value, so without the double rounding of going through float32). Magnitudes from 65520
 * up become ±Infinity (0x7c00/0xfc00), below 2^-14 subnormals, below 2^-25 (and 2^-25 itself, a tie
 * rounded to the even 0) ±0. NaN becomes the quiet NaN 0x7e00; the sign of -0 is kept.
 */
export function toHalf(value: number): number {
  scratch[0] = value;
  const high = words[HIGH];
  const sign = (high >>> 16) & 0x8000;
  const exponent = ((high >>> 20) & 0x7ff) - 1023;
  if (exponent === 1024) return value !== value ? 0x7e00 : sign | 0x7c00; // NaN, ±Infinity
  if (exponent > 15) return sign | 0x7c00;
  if (exponent >= -14) {
    // Normal: keep the top 10 of the 52 mantissa bits, then round on the 42 dropped.
    let bits = ((exponent + 15) << 10) | ((high >>> 10) & 0x3ff);
    const halfway = high & 0x200;
    const sticky = (high & 0x1ff) | words[1 - HIGH];
    // A carry out of the mantissa bumps the exponent, up to Infinity past 65504: as it should.
    if (halfway !== 0 && (sticky !== 0 || (bits & 1) === 1)) bits++;
    return sign | bits;
  }
  // Subnormal or zero: a count of 2^-24 steps. Scaling by a power of two is exact, and a result of
  // 1024 is the bit pattern of the smallest normal, 2^-14.
  const steps = Math.abs(value) * TWO_POW_24;
  const floor = Math.floor(steps);
  const rest = steps - floor;
  const rounded = rest > 0.5 || (rest === 0.5 && (floor & 1) === 1) ? floor + 1 : floor;
  return sign | rounded;
}

/** The number a binary16 bit pattern stands for (exact: every half is a double). */
export function fromHalf(bits: number): number {
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  let magnitude: number;
  if (exponent === 0) magnitude = mantissa / TWO_POW_24;
  else if (exponent === 31) magnitude = mantissa === 0 ? Infinity : NaN;
  else magnitude = (1024 + mantissa) * 2 ** (exponent - 25);
  return bits & 0x8000 ? -magnitude : magnitude;
}
