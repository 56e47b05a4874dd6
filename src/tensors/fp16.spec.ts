import { fromHalf, toHalf } from './fp16';

describe('toHalf', () => {
  it.each([
    [0, 0x0000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [6.103515625e-5, 0x0400], // 2^-14, the smallest normal
    [5.960464477539063e-8, 0x0001], // 2^-24, the smallest subnormal
    [6.097555160522461e-5, 0x03ff], // the largest subnormal
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])('%p → %p', (value, bits) => {
    expect(toHalf(value)).toBe(bits);
  });

  it('keeps the sign of -0', () => {
    expect(toHalf(-0)).toBe(0x8000);
    expect(Object.is(fromHalf(0x8000), -0)).toBe(true);
  });

  it('turns NaN into a quiet NaN', () => {
    expect(toHalf(NaN)).toBe(0x7e00);
    expect(fromHalf(0x7e00)).toBeNaN();
    expect(fromHalf(0xfc01)).toBeNaN();
  });

  it('overflows to Infinity from 65520 (halfway past 65504, rounded to even) up', () => {
    expect(toHalf(65519.99)).toBe(0x7bff);
    expect(toHalf(65520)).toBe(0x7c00);
    expect(toHalf(-65520)).toBe(0xfc00);
    expect(toHalf(1e10)).toBe(0x7c00);
    expect(toHalf(Number.MAX_VALUE)).toBe(0x7c00);
  });

  it('rounds ties to even, among normals and subnormals', () => {
    // 1 + 2^-11 is halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01).
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 is halfway between 0x3c01 and 0x3c02 (even).
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // Just above a tie rounds up: the sticky bits come from the low word of the double.
    expect(toHalf(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
    // 2^-25 is halfway between 0 and the smallest subnormal: to even, 0.
    expect(toHalf(2 ** -25)).toBe(0x0000);
    expect(toHalf(3 * 2 ** -25)).toBe(0x0002);
    expect(toHalf(2 ** -25 + 2 ** -40)).toBe(0x0001);
    // The largest subnormal plus half a step rounds up into the normals.
    expect(toHalf(1023.5 * 2 ** -24)).toBe(0x0400);
    expect(toHalf(Number.MIN_VALUE)).toBe(0x0000);
  });

  it('does not round twice (through float32) on the way', () => {
    // Just above the tie 1 + 2^-11, but by less than float32 can hold: float32 would round it to
    // the tie, and then to even (0x3c00).
    expect(toHalf(1 + 2 ** -11 + 2 ** -30)).toBe(0x3c01);
  });
});

describe('fromHalf', () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 5.960464477539063e-8],
    [0x0400, 6.103515625e-5],
    [0x2e66, 0.0999755859375],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ])('%p → %p', (bits, value) => {
    expect(fromHalf(bits)).toBe(value);
  });

  it('round-trips every bit pattern but NaNs', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = fromHalf(bits);
      if (Number.isNaN(value)) continue;
      if (toHalf(value) !== bits)
        throw new Error(`0x${bits.toString(16)} → ${value} → back differs`);
    }
  });
});
