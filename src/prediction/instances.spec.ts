import { InvalidInputError } from '../common/errors';
import { parseInstances } from './instances';

const features = ['x1', 'x2'];

function errorsOf(instances: unknown[]): { field: string; message: string }[] {
  try {
    parseInstances(instances, features);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).errors ?? [];
  }
  throw new Error('expected parseInstances to throw');
}

describe('parseInstances', () => {
  it('packs arrays and objects into one row-major Float64Array in schema order', () => {
    const rows = parseInstances([[1, 2], { x2: 4, x1: 3 }], features);
    expect(Array.from(rows)).toEqual([1, 2, 3, 4]);
  });

  it('names the row whose array has the wrong length', () => {
    expect(errorsOf([[1, 2], [1]])).toEqual([
      { field: 'instances[1]', message: expect.stringMatching(/has 1 values/) },
    ]);
  });

  it('names row and feature of a value that is not a finite number', () => {
    expect(
      errorsOf([
        [1, '2'],
        [null, 2],
      ]).map((e) => e.field),
    ).toEqual(['instances[0][1]', 'instances[1][0]']);
    expect(errorsOf([{ x1: 1, x2: true }])[0]).toEqual({
      field: 'instances[0].x2',
      message: 'must be a finite number; got boolean',
    });
  });

  it('reports unknown and missing features of an object', () => {
    expect(errorsOf([{ x1: 1, x3: 2 }]).map((e) => e.field)).toEqual([
      'instances[0].x3',
      'instances[0].x2',
    ]);
  });

  it('rejects rows that are neither arrays nor objects', () => {
    expect(errorsOf([5])[0].field).toBe('instances[0]');
  });

  it('stops after 20 errors so a huge bad batch stays cheap to report', () => {
    const bad = Array.from({ length: 1000 }, () => ['a', 'b']);
    expect(errorsOf(bad)).toHaveLength(20);
  });
});
