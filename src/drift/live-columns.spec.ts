import { LiveColumnsBuilder, LiveLayout } from './live-columns';

const layout: LiveLayout = {
  features: [
    { name: 'x1', kind: 'number' },
    { name: 'color', kind: 'string' },
  ],
  predictionKind: 'number',
  predictionOutputs: ['y', 'predict'],
};

const values = (column: { values: ArrayLike<unknown> }) => Array.from(column.values);

describe('LiveColumnsBuilder', () => {
  it('reads v1 rows as arrays by position and as objects by name; null is missing', () => {
    const live = new LiveColumnsBuilder(layout);
    live.add(
      'v1',
      JSON.stringify({ instances: [[1.5, 'red'], { color: 'blue', x1: 2 }, [null, null]] }),
      JSON.stringify({ predictions: [10, 20, 30] }),
    );
    expect(live.rows).toBe(3);
    const [x1, color] = live.features();
    expect(values(x1)).toEqual([1.5, 2, NaN]);
    expect(values(color)).toEqual(['red', 'blue', null]);
    expect(values(live.predictions()!)).toEqual([10, 20, 30]);
  });

  it('reads v2 tensors named after the features, [N] or [N, 1], flat or nested', () => {
    const live = new LiveColumnsBuilder(layout);
    live.add(
      'v2',
      JSON.stringify({
        inputs: [
          { name: 'color', shape: [2, 1], datatype: 'BYTES', data: [['red'], ['green']] },
          { name: 'x1', shape: [2], datatype: 'FP64', data: [3, 4] },
        ],
      }),
      JSON.stringify({
        outputs: [{ name: 'predict', shape: [2], datatype: 'FP64', data: [7, 8] }],
      }),
    );
    const [x1, color] = live.features();
    expect(values(x1)).toEqual([3, 4]);
    expect(values(color)).toEqual(['red', 'green']);
    expect(values(live.predictions()!)).toEqual([7, 8]);
  });

  it('reads a single 2-D v2 tensor [N, features] in feature order (a tabular ONNX input)', () => {
    const numeric: LiveLayout = {
      features: [
        { name: 'a', kind: 'number' },
        { name: 'b', kind: 'number' },
      ],
      predictionKind: null,
      predictionOutputs: [],
    };
    const live = new LiveColumnsBuilder(numeric);
    live.add(
      'v2',
      JSON.stringify({ inputs: [{ name: 'float_input', shape: [2, 2], data: [1, 2, 3, 4] }] }),
      '{"outputs":[]}',
    );
    expect(live.features().map(values)).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(live.predictions()).toBeNull();
  });

  it('skips requests whose tensors were kept as digests, and malformed entries', () => {
    const live = new LiveColumnsBuilder(layout);
    live.add('v2', JSON.stringify({ inputs: [{ name: 'x1', shape: [5000], digest: 'ab' }] }), '{}');
    live.add('v1', 'not json', '{}');
    expect(live.rows).toBe(0);
    expect(live.skipped).toBe(2);
  });

  it('keeps predictions aligned with the rows read: missing ones are missing values', () => {
    const live = new LiveColumnsBuilder({ ...layout, predictionKind: 'string' });
    live.add(
      'v1',
      JSON.stringify({
        instances: [
          [1, 'a'],
          [2, 'b'],
        ],
      }),
      '{"predictions":["yes"]}',
    );
    live.add('v1', JSON.stringify({ instances: [[3, 'c']] }), 'broken');
    expect(values(live.predictions()!)).toEqual(['yes', null, null]);
  });
});
