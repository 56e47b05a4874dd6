/**
 * Reads a decimal number straight from bytes, giving exactly the double `Number(text)` gives.
 *
 * Exactness, by case (n = significant digits, f = digits after the point minus the exponent):
 * - n ≤ 15 and |f| ≤ 22: the significand w < 2^53 and 10^|f| are both exact doubles, so one
 *   IEEE division or multiplication rounds w·10^-f correctly (Clinger's fast path).
 * - n = 16 or 17 (what shortest round-trip printing of a double writes, in JavaScript or
 *   Python) and 0 ≤ f ≤ 22: w is held exactly as s + e (two doubles), q = s / 10^f is the
 *   candidate, and the remainder w - q·10^f is computed exactly but for two last roundings
 *   (Dekker's product, no FMA needed). q is taken only when that remainder is clearly below half
 *   an ulp of q times 10^f, its neighbour only when the neighbour's remainder clearly is; a
 *   margin of 2^-30 relative dwarfs the rounding error (about 2^-48 relative), so a near-tie,
 *   a power of two (unequal gaps on either side) and anything else are left to the next case.
 * - everything else (more digits, larger exponents, near-ties): `Number()` of the field's text.
 */

const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** 10^0 … 10^22, every one an exact double. */
const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** Veltkamp's splitter for 53-bit doubles: 2^27 + 1. */
const SPLITTER = 134217729;
const MARGIN = 1 - 2 ** -30;

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
const LOW_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH_WORD = 1 - LOW_WORD;

/** Where the last scanDecimal call stopped: the first byte that is not part of the number. */
export let scanEnd = 0;

/**
 * The value of the decimal literal at bytes[start…], as `Number()` reads it, or NaN when the bytes
 * there do not start with one (`scanEnd` then says nothing useful). Accepts what parseDecimal
 * accepts: an optional sign, digits with at most one point and at least one digit, an optional
 * exponent; stops at the first byte after it (`scanEnd`), which the caller checks is a delimiter.
 * A value that overflows comes back as ±Infinity, as from Number().
 */
export function scanDecimal(bytes: Buffer, start: number, end: number): number {
  let position = start;
  let byte = position < end ? bytes[position] : -1;
  let negative = false;
  if (byte === MINUS || byte === PLUS) {
    negative = byte === MINUS;
    byte = ++position < end ? bytes[position] : -1;
  }
  // Significant digits: the first 9 in `high`, the next 8 in `low` (`lowDigits` of them).
  let high = 0;
  let low = 0;
  let lowDigits = 0;
  let significant = 0;
  let digits = 0;
  let fraction = 0;
  let seenDot = false;
  for (;;) {
    if (byte >= DIGIT_ZERO && byte <= DIGIT_NINE) {
      digits++;
      if (seenDot) fraction++;
      if (significant > 0 || byte !== DIGIT_ZERO) {
        if (significant < 9) high = high * 10 + (byte - DIGIT_ZERO);
        else if (significant < 17) {
          low = low * 10 + (byte - DIGIT_ZERO);
          lowDigits++;
        }
        significant++;
      }
    } else if (byte === DOT && !seenDot) {
      seenDot = true;
    } else {
      break;
    }
    byte = ++position < end ? bytes[position] : -1;
  }
  if (digits === 0) return NaN;
  let exponent = 0;
  if (byte === LOWER_E || byte === UPPER_E) {
    byte = ++position < end ? bytes[position] : -1;
    let exponentNegative = false;
    if (byte === MINUS || byte === PLUS) {
      exponentNegative = byte === MINUS;
      byte = ++position < end ? bytes[position] : -1;
    }
    let exponentDigits = 0;
    while (byte >= DIGIT_ZERO && byte <= DIGIT_NINE) {
      // Capped: beyond it the value is 0 or Infinity, which Number() works out below.
      if (exponent < 100_000) exponent = exponent * 10 + (byte - DIGIT_ZERO);
      exponentDigits++;
      byte = ++position < end ? bytes[position] : -1;
    }
    if (exponentDigits === 0) return NaN;
    if (exponentNegative) exponent = -exponent;
  }
  scanEnd = position;

  let value: number;
  const scale = fraction - exponent; // value = significand / 10^scale
  if (significant === 0) {
    value = 0;
  } else if (significant <= 15 && scale >= -22 && scale <= 22) {
    const significand = high * POWERS_OF_TEN[lowDigits] + low; // < 10^15, exact
    value = scale >= 0 ? significand / POWERS_OF_TEN[scale] : significand * POWERS_OF_TEN[-scale];
  } else if (significant <= 17 && scale >= 0 && scale <= 22) {
    value = roundQuotient(high * POWERS_OF_TEN[lowDigits], low, POWERS_OF_TEN[scale]);
    if (value !== value) value = slowValue(bytes, start, position);
    else if (negative) value = -value;
    return value;
  } else {
    return slowValue(bytes, start, position);
  }
  return negative ? -value : value;
}

function slowValue(bytes: Buffer, start: number, end: number): number {
  return Number(bytes.toString('latin1', start, end));
}

/**
 * (upper + lower) / divisor correctly rounded, or NaN when that cannot be decided cheaply.
 * upper is a multiple of 10^8 below 10^17, lower < 10^8, both exact; divisor = 10^f, f ≤ 22.
 */
function roundQuotient(upper: number, lower: number, divisor: number): number {
  // Fast2Sum: significand = sum + sumError exactly (|upper| ≥ |lower|).
  const sum = upper + lower;
  const sumError = lower - (sum - upper);
  const quotient = sum / divisor;
  // Dekker: quotient·divisor = product + productError exactly.
  let split = SPLITTER * quotient;
  const quotientHigh = split - (split - quotient);
  const quotientLow = quotient - quotientHigh;
  split = SPLITTER * divisor;
  const divisorHigh = split - (split - divisor);
  const divisorLow = divisor - divisorHigh;
  const product = quotient * divisor;
  const productError =
    quotientHigh * divisorHigh -
    product +
    quotientHigh * divisorLow +
    quotientLow * divisorHigh +
    quotientLow * divisorLow;
  // sum - product is exact (Sterbenz: they are within a factor 2); the remainder of the division.
  const remainder = sum - product - productError + sumError;

  scratch[0] = quotient;
  const lowWord = scratchWords[LOW_WORD];
  const highWord = scratchWords[HIGH_WORD];
  // A power of two has a smaller gap below it than above: leave it to Number().
  if (lowWord === 0 && (highWord & 0xfffff) === 0) return NaN;
  // The next double up, by incrementing the bit pattern; the gap is one ulp of quotient.
  if (lowWord === 0xffffffff) {
    scratchWords[LOW_WORD] = 0;
    scratchWords[HIGH_WORD] = highWord + 1;
  } else {
    scratchWords[LOW_WORD] = lowWord + 1;
  }
  const nextUp = scratch[0];
  const ulp = nextUp - quotient;
  const half = divisor * ulp * 0.5; // half an ulp of the quotient, scaled: exact
  if (Math.abs(remainder) < half * MARGIN) return quotient;
  if (remainder > 0) {
    // nextUp is a power of two when the increment carried into the exponent: its gaps differ.
    scratch[0] = nextUp;
    if (scratchWords[LOW_WORD] === 0 && (scratchWords[HIGH_WORD] & 0xfffff) === 0) return NaN;
    return Math.abs(remainder - 2 * half) < half * MARGIN ? nextUp : NaN;
  }
  // quotient is not a power of two, so the double below it is one ulp away too.
  return Math.abs(remainder + 2 * half) < half * MARGIN ? quotient - ulp : NaN;
}
