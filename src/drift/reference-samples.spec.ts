import {
  decodeReferenceSamples,
  encodeReferenceSamples,
  referenceSamplesKey,
} from './reference-samples';

describe('reference samples codec', () => {
  it('round-trips columns exactly, NaN-free extremes and empty columns included', () => {
    const samples = {
      x1: Float64Array.from([-1e308, -0.5, 0, 1e-300, 3.141592653589793, Number.MAX_VALUE]),
      'naïve feature': Float64Array.from([0, 1]),
      empty: new Float64Array(0),
    };
    const decoded = decodeReferenceSamples(encodeReferenceSamples(samples));
    expect(Object.keys(decoded)).toEqual(['x1', 'naïve feature', 'empty']);
    for (const [name, values] of Object.entries(samples)) {
      expect(Array.from(decoded[name])).toEqual(Array.from(values));
    }
  });

  it('reads a copy whose bytes start at an odd offset (a Buffer sliced from a larger one)', () => {
    const encoded = encodeReferenceSamples({ y: Float64Array.from([1.5, 2.5, 3.5]) });
    const padded = Buffer.concat([Buffer.from([0]), encoded]).subarray(1);
    expect(Array.from(decodeReferenceSamples(padded).y)).toEqual([1.5, 2.5, 3.5]);
  });

  it('costs 8 bytes a value plus a small header', () => {
    const values = new Float64Array(10_000).map((_, i) => i);
    expect(encodeReferenceSamples({ x: values }).length).toBeLessThan(80_000 + 64);
  });

  it('refuses bytes that are not reference samples, or are cut short', () => {
    expect(() => decodeReferenceSamples(Buffer.from('{"x":[1,2]}'))).toThrow(/bad magic/);
    const encoded = encodeReferenceSamples({ x: Float64Array.from([1, 2, 3]) });
    expect(() => decodeReferenceSamples(encoded.subarray(0, encoded.length - 8))).toThrow(
      /truncated in column "x"/,
    );
  });

  it('keeps them under references/<version id>', () => {
    expect(referenceSamplesKey('0f313cce-9fb6-4a30-9473-56a9579a469f')).toBe(
      'references/0f313cce-9fb6-4a30-9473-56a9579a469f',
    );
  });
});
