import fc from 'fast-check';
import { DATATYPE_INFO, DATATYPES, type Datatype, type Tensor } from '../tensors/datatypes';
import { batchKey, checkBatchable, concatRows, splitRows } from './batch-tensors';

/** Distinct, datatype-appropriate values: element i of a tensor made with `seed`. */
function values(datatype: Datatype, count: number, seed: number): Tensor['data'] {
  const info = DATATYPE_INFO[datatype];
  if (info.array === null) {
    return Array.from({ length: count }, (_, i) => (i % 3 === 0 ? '' : `s${seed}-${i}-é`));
  }
  const data = new info.array(count);
  for (let i = 0; i < count; i++) {
    const n = seed * 100 + i;
    if (data instanceof BigInt64Array) data[i] = BigInt(n) * -1_000_000_000_007n;
    else if (data instanceof BigUint64Array) data[i] = BigInt(n) * 1_000_000_000_007n;
    else if (datatype === 'BOOL') data[i] = n % 2;
    else if (datatype === 'FP16') data[i] = 0x3c00 + (n % 1000);
    else if (datatype === 'FP32' || datatype === 'FP64') data[i] = n + 0.25;
    else data[i] = n % 100;
  }
  return data;
}

function tensor(name: string, datatype: Datatype, shape: number[], seed: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { name, datatype, shape, data: values(datatype, count, seed) };
}

function elements(data: Tensor['data']): unknown[] {
  return Array.from(data as ArrayLike<unknown>);
}

/** Plain values, so a typed array compares equal to the same elements held in another one. */
function plain(t: Tensor): { name: string; datatype: string; shape: number[]; data: unknown[] } {
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: elements(t.data) };
}

describe('concatRows and splitRows', () => {
  it.each(DATATYPES)('round-trip %s tensors of several requests', (datatype) => {
    const rowCounts = [1, 3, 2];
    const requests = rowCounts.map((rows, r) => [
      tensor('a', datatype, [rows, 2, 3], r + 1),
      tensor('b', datatype, [rows], r + 11),
    ]);

    const batch = concatRows(requests);

    expect(batch.map((t) => [t.name, t.datatype, t.shape])).toEqual([
      ['a', datatype, [6, 2, 3]],
      ['b', datatype, [6]],
    ]);
    const kind = DATATYPE_INFO[datatype].array;
    for (const t of batch) {
      if (kind === null) expect(Array.isArray(t.data)).toBe(true);
      else expect(t.data).toBeInstanceOf(kind);
    }
    expect(elements(batch[0].data)).toEqual(
      requests.flatMap((request) => elements(request[0].data)),
    );
    expect(elements(batch[1].data)).toEqual(
      requests.flatMap((request) => elements(request[1].data)),
    );

    const split = splitRows(batch, rowCounts);
    expect(split.map((request) => request.map(plain))).toEqual(
      requests.map((request) => request.map(plain)),
    );
    for (const request of split) {
      for (const t of request) {
        if (kind === null) expect(Array.isArray(t.data)).toBe(true);
        else expect(t.data).toBeInstanceOf(kind);
      }
    }
  });

  it('round-trips random row counts and trailing shapes (FP32, INT64, BYTES)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Datatype>('FP32', 'INT64', 'BYTES'),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
        (datatype, rowCounts, trailing) => {
          const requests = rowCounts.map((rows, r) => [
            tensor('x', datatype, [rows, ...trailing], r),
          ]);
          const batch = concatRows(requests);
          expect(batch[0].shape).toEqual([rowCounts.reduce((a, b) => a + b, 0), ...trailing]);
          const split = splitRows(batch, rowCounts);
          expect(split.map((request) => request.map(plain))).toEqual(
            requests.map((request) => request.map(plain)),
          );
        },
      ),
    );
  });

  it('matches inputs by name, whatever their order in each request', () => {
    const first = [tensor('a', 'FP32', [1, 2], 1), tensor('b', 'INT32', [1], 2)];
    const second = [tensor('b', 'INT32', [2], 3), tensor('a', 'FP32', [2, 2], 4)];

    const batch = concatRows([first, second]);

    expect(batch.map((t) => t.name)).toEqual(['a', 'b']);
    expect(elements(batch[0].data)).toEqual([
      ...elements(first[0].data),
      ...elements(second[1].data),
    ]);
    expect(elements(batch[1].data)).toEqual([
      ...elements(first[1].data),
      ...elements(second[0].data),
    ]);
  });

  it('shares data with a single request (nothing is copied) but not shape arrays', () => {
    const request = [tensor('x', 'FP32', [2, 3], 1)];
    const [batched] = concatRows([request]);
    expect(batched.data).toBe(request[0].data);
    expect(batched.shape).toEqual([2, 3]);
    expect(batched.shape).not.toBe(request[0].shape);

    const [[split]] = splitRows([batched], [2]);
    expect(split.data).toBe(batched.data);
  });

  it('splits typed arrays into non-overlapping views and BYTES into copies', () => {
    const output = tensor('y', 'FP32', [4, 2], 1);
    const [first, second] = splitRows([output], [1, 3]);
    const a = first[0].data as Float32Array;
    const b = second[0].data as Float32Array;
    expect(a.buffer).toBe((output.data as Float32Array).buffer);
    expect([a.byteOffset, a.length, b.byteOffset, b.length]).toEqual([0, 2, 8, 6]);
    a[1] = -1;
    expect(Array.from(b)).toEqual(Array.from((output.data as Float32Array).subarray(2)));

    const strings = tensor('s', 'BYTES', [2, 2], 1);
    const [one, two] = splitRows([strings], [1, 1]);
    (one[0].data as string[])[0] = 'changed';
    expect(strings.data[0]).toBe('');
    expect(two[0].data).toEqual((strings.data as string[]).slice(2));
  });

  it('splits out requests of zero rows', () => {
    const output = tensor('y', 'INT64', [2, 3], 1);
    const split = splitRows([output], [0, 2, 0]);
    expect(split.map((request) => request[0].shape)).toEqual([
      [0, 3],
      [2, 3],
      [0, 3],
    ]);
    expect(split[0][0].data).toBeInstanceOf(BigInt64Array);
    expect(split[0][0].data.length).toBe(0);
  });

  describe('refuses', () => {
    const a = (rows: number, seed = 1) => tensor('a', 'FP32', [rows, 2], seed);

    it('no requests', () => {
      expect(() => concatRows([])).toThrow(/no requests/);
    });

    it('requests with different inputs', () => {
      expect(() => concatRows([[a(1)], [a(1), tensor('b', 'FP32', [1], 2)]])).toThrow(
        /different inputs/,
      );
      expect(() => concatRows([[a(1)], [tensor('b', 'FP32', [1, 2], 2)]])).toThrow(/no input "a"/);
    });

    it('different datatypes, trailing dimensions or ranks', () => {
      expect(() => concatRows([[a(1)], [tensor('a', 'FP64', [1, 2], 2)]])).toThrow(
        /FP64 in one request, FP32/,
      );
      expect(() => concatRows([[a(1)], [tensor('a', 'FP32', [1, 3], 2)]])).toThrow(
        /only the first dimension may differ/,
      );
      expect(() => concatRows([[a(1)], [tensor('a', 'FP32', [2], 2)]])).toThrow(
        /only the first dimension may differ/,
      );
    });

    it('malformed tensors', () => {
      expect(() => concatRows([[a(1)], [{ ...a(2), data: new Float32Array(3) }]])).toThrow(
        /holds 4 elements, its data 3/,
      );
      expect(() => concatRows([[a(1)], [{ ...a(1), data: new Float64Array(2) }]])).toThrow(
        /FP32 data must be held in Float32Array, not Float64Array/,
      );
      expect(() => checkBatchable({ ...a(1), data: ['x', 'y'] })).toThrow(
        /held in Float32Array, not Array/,
      );
      expect(() =>
        checkBatchable({ name: 's', datatype: 'BYTES', shape: [1], data: new Uint8Array(1) }),
      ).toThrow(/BYTES data must be held in Array, not Uint8Array/);
      expect(() => checkBatchable({ ...a(1), shape: [] })).toThrow(/no dimensions/);
      expect(() => checkBatchable({ ...a(1), shape: [1, -2] })).toThrow(/not a list of sizes/);
    });

    it('an output without the batch dimension', () => {
      expect(() => splitRows([tensor('y', 'FP32', [3], 1)], [2, 3])).toThrow(
        /not 5 rows in its first dimension/,
      );
      expect(() => splitRows([tensor('y', 'FP32', [], 1)], [1])).toThrow(/no dimensions/);
    });

    it('bad row counts', () => {
      expect(() => splitRows([a(2)], [1, -1, 2])).toThrow(/-1 is not a row count/);
      expect(() => splitRows([a(2)], [1.5, 0.5])).toThrow(/1.5 is not a row count/);
    });
  });

  it('keys requests by names, datatypes and trailing dimensions, not order or rows', () => {
    const key = batchKey([tensor('a', 'FP32', [1, 2], 1), tensor('b', 'BYTES', [1], 1)]);
    expect(batchKey([tensor('b', 'BYTES', [5], 1), tensor('a', 'FP32', [5, 2], 1)])).toBe(key);
    expect(batchKey([tensor('a', 'FP32', [1, 3], 1), tensor('b', 'BYTES', [1], 1)])).not.toBe(key);
    expect(batchKey([tensor('a', 'FP64', [1, 2], 1), tensor('b', 'BYTES', [1], 1)])).not.toBe(key);
    expect(batchKey([tensor('a', 'FP32', [1, 2], 1)])).not.toBe(key);
    expect(() => batchKey([tensor('a', 'FP32', [1], 1), tensor('a', 'FP32', [1], 1)])).toThrow(
      /given twice/,
    );
  });
});
