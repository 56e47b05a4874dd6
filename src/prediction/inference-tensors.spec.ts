import { InvalidInputError } from '../common/errors';
import { featureLayout } from './batch-builder';
import type { FeatureSpec, PredictionOutput } from '../ml';
import { decodeInputs, encodeOutputs } from './inference-tensors';

const numeric: FeatureSpec[] = [
  { name: 'x1', type: 'number' },
  { name: 'x2', type: 'number' },
];
const mixed: FeatureSpec[] = [
  { name: 'area', type: 'number' },
  { name: 'city', type: 'string' },
];

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    const { message, errors } = error as InvalidInputError;
    return [message, ...(errors ?? []).map((e) => `${e.field}: ${e.message}`)].join(' | ');
  }
  throw new Error('expected decodeInputs to throw');
}

describe('decodeInputs', () => {
  it('reads a [N, features] tensor from nested or flat data into the same row-major batch', () => {
    const nested = decodeInputs(
      [
        {
          name: 'input-0',
          shape: [2, 2],
          datatype: 'FP32',
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      featureLayout(numeric, false),
      100,
    );
    const flat = decodeInputs(
      [{ name: 'rows', shape: [2, 2], datatype: 'FP64', data: [1, 2, 3, 4] }],
      featureLayout(numeric, false),
      100,
    );
    expect(Array.from(nested.numbers)).toEqual([1, 2, 3, 4]);
    expect(flat).toEqual(nested);
  });

  it('puts feature tensors in schema order whatever their order in the request', () => {
    const batch = decodeInputs(
      [
        { name: 'city', shape: [2], datatype: 'BYTES', data: ['Lyon', null] },
        { name: 'area', shape: [2, 1], datatype: 'INT64', data: [[50], [70]] },
      ],
      featureLayout(mixed, true),
      100,
    );
    expect(batch.rowCount).toBe(2);
    expect(batch.numbers[0]).toBe(50);
    expect(batch.numbers[2]).toBe(70);
    expect(batch.strings).toEqual([null, 'Lyon', null, null]);
  });

  it('takes numbers as text for string features, and BOOL as 1/0 for number features', () => {
    const batch = decodeInputs(
      [
        { name: 'area', shape: [1], datatype: 'BOOL', data: [true] },
        { name: 'city', shape: [1], datatype: 'INT32', data: [75001] },
      ],
      featureLayout(mixed, true),
      100,
    );
    expect(batch.numbers[0]).toBe(1);
    expect(batch.strings).toEqual([null, '75001']);
  });

  it('refuses a batch above the row limit before reading its data', () => {
    expect(
      messageOf(() =>
        decodeInputs(
          [{ name: 'input-0', shape: [3, 2], datatype: 'FP64', data: [] }],
          featureLayout(numeric, false),
          2,
        ),
      ),
    ).toMatch(/3 rows exceeds the limit of 2/);
  });

  it('names the element, row and feature of every bad value, up to 20', () => {
    const data = Array.from({ length: 30 }, () => ['a', 'b']);
    const message = messageOf(() =>
      decodeInputs(
        [{ name: 'input-0', shape: [30, 2], datatype: 'FP64', data }],
        featureLayout(numeric, false),
        100,
      ),
    );
    expect(message).toMatch(/^20 invalid value\(s\) in input input-0 \(first 20 shown\)/);
    expect(message).toContain(
      'inputs[0].data[3]: row 1, x2: must be a finite number for FP64; got the string "b"',
    );
  });
});

describe('encodeOutputs', () => {
  const classification = (classes: (string | number)[]): PredictionOutput => ({
    kind: 'classification',
    labels: [classes[1]],
    probabilities: Float64Array.from([0.25, 0.75]),
    classes,
  });

  it('types labels BYTES, INT64 or FP64 after the classes, and shapes probabilities [N, classes]', () => {
    expect(encodeOutputs(classification(['no', 'yes']), 1, undefined)).toEqual([
      { name: 'predict', datatype: 'BYTES', shape: [1], data: ['yes'] },
      { name: 'predict_proba', datatype: 'FP64', shape: [1, 2], data: [0.25, 0.75] },
    ]);
    expect(encodeOutputs(classification([0, 1]), 1, undefined)[0].datatype).toBe('INT64');
    expect(encodeOutputs(classification([0.5, 1.5]), 1, undefined)[0].datatype).toBe('FP64');
  });

  it('returns the outputs asked for, in that order, and refuses unknown ones', () => {
    const requested = [{ name: 'predict_proba' }, { name: 'predict' }];
    expect(encodeOutputs(classification(['no', 'yes']), 1, requested).map((t) => t.name)).toEqual([
      'predict_proba',
      'predict',
    ]);
    expect(() =>
      encodeOutputs({ kind: 'regression', values: Float64Array.of(1) }, 1, [{ name: 'score' }]),
    ).toThrow(/no output score; it returns predict/);
  });
});
