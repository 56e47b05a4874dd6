import { InvalidInputError } from '../common/errors';
import { featureLayout } from './batch-builder';
import type { FeatureSpec } from '../ml';
import { parseInstances } from './instances';

const numeric: FeatureSpec[] = [
  { name: 'x1', type: 'number' },
  { name: 'x2', type: 'number' },
];
const mixed: FeatureSpec[] = [
  { name: 'area', type: 'number' },
  { name: 'city', type: 'string' },
];

function errorsOf(instances: unknown[], inputs = numeric, acceptsMissing = false) {
  try {
    parseInstances(instances, featureLayout(inputs, acceptsMissing));
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).errors ?? [];
  }
  throw new Error('expected parseInstances to throw');
}

describe('parseInstances', () => {
  it('packs arrays and objects into one row-major batch in schema order', () => {
    const batch = parseInstances([[1, 2], { x2: 4, x1: 3 }], featureLayout(numeric, false));
    expect(batch.rowCount).toBe(2);
    expect(Array.from(batch.numbers)).toEqual([1, 2, 3, 4]);
    expect(batch.strings).toBeNull();
  });

  it('puts string features beside the numbers, taking numbers as their text', () => {
    const batch = parseInstances(
      [[50, 'Lyon'], { area: 70, city: 75001 }],
      featureLayout(mixed, true),
    );
    expect(batch.numbers[0]).toBe(50);
    expect(batch.numbers[2]).toBe(70);
    expect(batch.strings).toEqual([null, 'Lyon', null, '75001']);
  });

  it('marks null values as missing when the model imputes them', () => {
    const batch = parseInstances(
      [[null, null], { area: 3, city: null }],
      featureLayout(mixed, true),
    );
    expect(Number.isNaN(batch.numbers[0])).toBe(true);
    expect(batch.strings).toEqual([null, null, null, null]);
    expect(batch.numbers[2]).toBe(3);
  });

  it('refuses missing values when the model cannot impute them', () => {
    expect(errorsOf([[1, null], { x1: 1, x2: null }]).map((e) => e.field)).toEqual([
      'instances[0][1]',
      'instances[1].x2',
    ]);
  });

  it('refuses a feature absent from an object, naming instance and feature, imputation or not', () => {
    expect(errorsOf([{ x1: 1, x2: 2 }, { x2: 2 }, {}], numeric, true)).toEqual([
      {
        field: 'instances[1].x1',
        message: expect.stringMatching(/is absent.*null marks a missing/),
      },
      { field: 'instances[2].x1', message: expect.stringMatching(/is absent/) },
      { field: 'instances[2].x2', message: expect.stringMatching(/is absent/) },
    ]);
    expect(errorsOf([{ x1: 1 }], numeric, false)).toEqual([
      { field: 'instances[0].x2', message: expect.stringMatching(/is absent.*no imputation/) },
    ]);
  });

  it('names the row whose array has the wrong length', () => {
    expect(errorsOf([[1, 2], [1]])).toEqual([
      { field: 'instances[1]', message: expect.stringMatching(/has 1 values/) },
    ]);
  });

  it('names row and feature of a value of the wrong type', () => {
    expect(errorsOf([[1, '2']])[0]).toEqual({
      field: 'instances[0][1]',
      message: 'x2 must be a finite number; got the string "2"',
    });
    expect(errorsOf([{ x1: 1, x2: true }])[0]).toEqual({
      field: 'instances[0].x2',
      message: 'must be a finite number; got boolean',
    });
    expect(errorsOf([[1, { a: 1 }]], mixed, true)[0].message).toBe(
      'city must be a string; got object',
    );
  });

  it('reports unknown features of an object', () => {
    expect(errorsOf([{ x1: 1, x2: 2, x3: 2 }]).map((e) => e.field)).toEqual(['instances[0].x3']);
  });

  it('rejects rows that are neither arrays nor objects', () => {
    expect(errorsOf([5])[0].field).toBe('instances[0]');
  });

  it('stops after 20 errors so a huge bad batch stays cheap to report', () => {
    const bad = Array.from({ length: 1000 }, () => ['a', 'b']);
    expect(errorsOf(bad)).toHaveLength(20);
  });
});
