import { scanDecimal, scanEnd } from './decimal-scanner';

/** A seeded xorshift generator, so that a failure names a reproducible case. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** scanDecimal of the text alone, and where it stopped. */
function scan(text: string): { value: number; end: number } {
  const bytes = Buffer.from(text, 'latin1');
  const value = scanDecimal(bytes, 0, bytes.length);
  return { value, end: scanEnd };
}

/** The texts whose value differs from Number(text) in any bit (or in the sign of a zero). */
function mismatches(texts: Iterable<string>): string[] {
  const wrong: string[] = [];
  for (const text of texts) {
    const { value, end } = scan(text);
    if (!Object.is(value, Number(text)) || end !== text.length) wrong.push(text);
  }
  return wrong;
}

/** A random finite double over the whole range of exponents, from random bits. */
function randomDouble(random: () => number): number {
  const words = new Uint32Array(2);
  const view = new Float64Array(words.buffer);
  do {
    words[0] = random() * 2 ** 32;
    words[1] = random() * 2 ** 32;
  } while (!Number.isFinite(view[0]));
  return view[0];
}

/** How Python's repr(float) writes a double (pandas' to_csv writes float64 with it). */
function pythonRepr(value: number): string {
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const magnitude = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${magnitude}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  return `${sign}${whole}.${digits.slice(exponent + 1) || '0'}`;
}

/**
 * Decimal texts just below and just above the midpoint between a double and the next one up,
 * cut to `digits` significant digits: where a rounding shortcut would go wrong.
 */
function nearTies(value: number, digits: number): string[] {
  const words = new BigUint64Array(new Float64Array([value]).buffer);
  const bits = words[0];
  const biased = Number((bits >> 52n) & 0x7ffn);
  const mantissa = (bits & ((1n << 52n) - 1n)) | (1n << 52n);
  const power = biased - 1075 - 1; // midpoint = (2·mantissa + 1) · 2^power
  let numerator = 2n * mantissa + 1n;
  let scale = 0;
  if (power >= 0) numerator <<= BigInt(power);
  else {
    numerator *= 5n ** BigInt(-power); // · 10^-power / 2^-power … over 10^-power
    scale = -power;
  }
  const text = numerator.toString();
  const cut = BigInt(text.slice(0, digits));
  const exponent = text.length - digits - scale;
  return [cut, cut + 1n].map((significand) => `${significand}e${exponent}`);
}

describe('scanDecimal', () => {
  it('reads what Number() reads for hand-picked literals, including -0 and exponents', () => {
    const texts = [
      '0',
      '-0',
      '+0',
      '-0.0',
      '0e5',
      '007',
      '1',
      '-2.5',
      '1e3',
      '.5',
      '+4',
      '7.',
      '-1.5E-2',
      '1.e5',
      '-.5',
      '0.1',
      '0.30000000000000004',
      '1e22',
      '1e23',
      '1e-22',
      '1e-23',
      '1.5e-7',
      '9007199254740992',
      '9007199254740993', // 2^53 + 1: a tie, rounds to even
      '9007199254740995',
      '12345678901234567',
      '123456789012345678',
      '1234567890123456789012',
      '0.000000000000000000000000001',
      '1.7976931348623157e308',
      '2.2250738585072014e-308',
      '5e-324',
      '1e-400',
      '4.9406564584124654e-324',
      '179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791',
      '0.1000000000000000055511151231257827021181583404541015625',
      '1e+5',
      '1E-05',
      '1e0000000000000000000000000002',
    ];

    expect(mismatches(texts)).toEqual([]);
  });

  it('reads random doubles written by JavaScript (shortest round trip) to the same bits', () => {
    const random = generator(1);
    const texts: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      // Half over every exponent, half in the range of features and targets.
      const value = i % 2 ? randomDouble(random) : (random() - 0.5) * 10 ** (random() * 12 - 6);
      texts.push(String(value));
    }

    expect(mismatches(texts)).toEqual([]);
  });

  it("reads random doubles written as Python's repr (what pandas writes) to the same bits", () => {
    const random = generator(2);
    const texts: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const value = i % 2 ? randomDouble(random) : (random() - 0.5) * 10 ** (random() * 24 - 8);
      texts.push(pythonRepr(value));
    }
    // The helper itself writes what Python does for a few known values.
    expect([1e-5, 1e16, 0.5, 123.0, -0, 1.5e300].map(pythonRepr)).toEqual([
      '1e-05',
      '1e+16',
      '0.5',
      '123.0',
      '-0.0',
      '1.5e+300',
    ]);

    expect(mismatches(texts)).toEqual([]);
  });

  it('reads random 16- and 17-digit decimals with the point anywhere', () => {
    const random = generator(3);
    const texts: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const length = 16 + (i % 2);
      let digits = String(1 + Math.floor(random() * 9));
      while (digits.length < length) digits += String(Math.floor(random() * 10));
      const point = Math.floor(random() * (length + 1));
      const text = `${digits.slice(0, point)}.${digits.slice(point)}`;
      texts.push(random() < 0.5 ? `-${text}` : text);
    }

    expect(mismatches(texts)).toEqual([]);
  });

  it('rounds 16- and 17-digit decimals just either side of a tie between two doubles', () => {
    const random = generator(4);
    const texts: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const value = (0.001 + random()) * 10 ** Math.floor(random() * 14 - 4);
      texts.push(...nearTies(value, 16), ...nearTies(value, 17));
    }
    // Spelled out without an exponent too, as a CSV writer would.
    const positional = texts.slice(0, 20_000).map((text) => {
      const value = Number(text);
      return value.toFixed(Math.min(100, Math.max(0, 17 - Math.ceil(Math.log10(value)))));
    });

    expect(mismatches(texts)).toEqual([]);
    expect(mismatches(positional)).toEqual([]);
  });

  it('stops at the first byte after the number and leaves the check of it to the caller', () => {
    expect(scan('1.5,2')).toEqual({ value: 1.5, end: 3 });
    expect(scan('1.5x')).toEqual({ value: 1.5, end: 3 });
    expect(scan('1.2.3')).toEqual({ value: 1.2, end: 3 });
    expect(scan('0x10')).toEqual({ value: 0, end: 1 });
  });

  it.each(['', '-', '+', '.', '-.', 'e5', '.e5', '1e', '1e+', 'x1', 'Infinity', 'NaN', ' 1'])(
    'finds no number at the start of %j',
    (text) => {
      expect(scan(text).value).toBeNaN();
    },
  );

  it('gives Infinity for a literal beyond the largest double, as Number() does', () => {
    expect(scan('1e999').value).toBe(Infinity);
    expect(scan('-1e400').value).toBe(-Infinity);
  });
});
