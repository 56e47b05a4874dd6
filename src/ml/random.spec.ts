import { Random } from './random';

describe('Random', () => {
  it('reproduces mulberry32 sequences computed by an independent implementation', () => {
    const draw = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 5 }, () => random.nextUint32());
    };
    expect(draw(0)).toEqual([1144304738, 1416247, 958946056, 627933444, 2007157716]);
    expect(draw(42)).toEqual([2581720956, 1925393290, 3661312704, 2876485805, 750819978]);
    expect(draw(2 ** 32 - 1)).toEqual([3850105811, 813802916, 3073704848, 4054706436, 3630262831]);
  });

  it('reduces the seed to 32 bits, so seeds that differ by 2^32 give the same sequence', () => {
    expect(new Random(-1).nextUint32()).toBe(new Random(2 ** 32 - 1).nextUint32());
    expect(new Random(2 ** 32 + 42).nextUint32()).toBe(new Random(42).nextUint32());
  });

  it('nextInt stays in [0, bound) and hits every value about equally often', () => {
    const random = new Random(7);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) {
      const value = random.nextInt(6);
      expect(Number.isInteger(value) && value >= 0 && value < 6).toBe(true);
      counts[value]++;
    }
    for (const count of counts) {
      expect(Math.abs(count - 10000)).toBeLessThan(400);
    }
  });

  it('nextInt(1) is always 0 and nextInt rejects bounds outside [1, 2^32]', () => {
    const random = new Random(3);
    expect(random.nextInt(1)).toBe(0);
    expect(() => random.nextInt(0)).toThrow(RangeError);
    expect(() => random.nextInt(2.5)).toThrow(RangeError);
    expect(() => random.nextInt(2 ** 32 + 1)).toThrow(RangeError);
  });

  it('shuffle gives a permutation, the same for the same seed, each order equally often', () => {
    const shuffled = (seed: number) => {
      const values = Uint32Array.from({ length: 50 }, (_, i) => i);
      new Random(seed).shuffle(values);
      return Array.from(values);
    };
    expect([...shuffled(1)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffled(1)).toEqual(shuffled(1));
    expect(shuffled(2)).not.toEqual(shuffled(1));

    const random = new Random(9);
    const counts = new Map<string, number>();
    for (let i = 0; i < 60000; i++) {
      const values = Uint32Array.from([0, 1, 2]);
      random.shuffle(values);
      const key = values.join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const count of counts.values()) {
      expect(Math.abs(count - 10000)).toBeLessThan(400);
    }
  });

  it('shuffle also permutes arrays longer than 2^21 (the modulo path)', () => {
    const length = 2 ** 21 + 3;
    const values = Uint32Array.from({ length }, (_, i) => i);
    new Random(4).shuffle(values);
    const seen = new Uint8Array(length);
    values.forEach((v) => (seen[v] = 1));
    expect(seen.every((v) => v === 1)).toBe(true);
    expect(values.slice(0, 5)).not.toEqual(Uint32Array.from([0, 1, 2, 3, 4]));
  });
});
