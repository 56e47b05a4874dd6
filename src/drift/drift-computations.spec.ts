import { sortNumbers } from '../ml/drift';
import { ENTRY_SEPARATOR, FIELD_SEPARATOR, LiveSample, LogPage } from './drift-computations';
import { LiveColumnsBuilder, LiveLayout } from './live-columns';

const layout: LiveLayout = {
  features: [
    { name: 'a', kind: 'number' },
    { name: 'b', kind: 'number' },
  ],
  predictionKind: 'number',
  predictionOutputs: [],
};

function page(entries: { instances: unknown[]; predictions: unknown[] }[]): LogPage {
  return {
    entries: entries
      .map(({ instances, predictions }) =>
        ['v1', JSON.stringify({ instances }), JSON.stringify({ predictions })].join(
          FIELD_SEPARATOR,
        ),
      )
      .join(ENTRY_SEPARATOR),
  };
}

const bits = (values: Float64Array) =>
  Buffer.from(values.buffer, values.byteOffset, values.byteLength);

describe('LiveSample', () => {
  it('takes whole entries until it holds maxRows, and says when it is full', () => {
    const sample = new LiveSample(layout, 3);
    const two = {
      instances: [
        [1, 2],
        [3, 4],
      ],
      predictions: [5, 6],
    };
    expect(sample.add(page([two]))).toBe(false);
    expect(sample.add(page([two, two]))).toBe(true);
    // The second entry of the page took it past 3 rows; the third was not read.
    const comparison = sample.compare(
      {
        features: [
          {
            kind: 'number',
            name: 'a',
            count: 0,
            missing: 0,
            edges: [],
            counts: [0],
            min: NaN,
            max: NaN,
            mean: NaN,
            std: NaN,
          },
          {
            kind: 'number',
            name: 'b',
            count: 0,
            missing: 0,
            edges: [],
            counts: [0],
            min: NaN,
            max: NaN,
            mean: NaN,
            std: NaN,
          },
        ],
        predictions: null,
      },
      {},
    );
    expect(comparison).toMatchObject({ rows: 4, skipped: 0, predictions: null });
    expect(comparison.features.map((feature) => feature.sampleSize)).toEqual([4, 4]);
  });
});

describe('the v1 fast path of LiveColumnsBuilder', () => {
  const texts = [
    ['{"instances":[[1.5,-0.25],[null,true],[false,7]]}', '{"predictions":[1,2.5,-3]}'],
    ['{"instances":[[0.1,0.2,0.3],[12345.678901234]]}', '{"predictions":[0.30000000000000004]}'],
    [
      '{"instances":[[1e3,2E-2],[-0,5]],"truncatedRows":1000}',
      '{"predictions":[1,2],"truncatedRows":9}',
    ],
    ['{"instances":[[01,2]]}', '{"predictions":[1]}'],
    ['{"instances":[[1,2],{"b":3,"a":4}]}', '{"predictions":["x",2]}'],
    ['{"instances":[[1,2]', '{"predictions":[1'],
  ];

  it('reads what JSON.parse reads, value for value (and skips what it cannot parse)', () => {
    const fast = new LiveColumnsBuilder(layout);
    // With a string feature the builder never takes the fast path.
    const full = new LiveColumnsBuilder({
      ...layout,
      features: [...layout.features, { name: 'c', kind: 'string' }],
    });
    for (const [inputs, outputs] of texts) {
      fast.add('v1', inputs, outputs);
      full.add('v1', inputs, outputs);
    }
    expect(fast.rows).toBe(full.rows);
    expect(fast.skipped).toBe(full.skipped);
    const [a, b] = fast.features();
    const [fullA, fullB] = full.features();
    expect(bits(a.values as Float64Array)).toEqual(bits(fullA.values as Float64Array));
    expect(bits(b.values as Float64Array)).toEqual(bits(fullB.values as Float64Array));
    expect(bits(fast.predictions()!.values as Float64Array)).toEqual(
      bits(full.predictions()!.values as Float64Array),
    );
  });
});

describe('sortNumbers (the live values KS and Wasserstein read)', () => {
  it('orders as Float64Array.prototype.sort does, bit for bit, -0 before +0', () => {
    let state = 1;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    const special = [0, -0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, 1, -1];
    for (const n of [10, 5_000, 50_000]) {
      const values = Float64Array.from({ length: n }, (_, i) =>
        i % 7 === 0
          ? special[i % special.length]
          : (next() - 0.5) * 10 ** Math.floor(next() * 20 - 10),
      );
      expect(bits(sortNumbers(values.slice()))).toEqual(bits(values.slice().sort()));
    }
  });
});
