import { InvalidInputError } from '../common/errors';
import { DATATYPES, type Tensor } from './datatypes';
import { decodeJsonTensor, type JsonTensorInput, jsonData } from './json-tensors';

/** The error's message and its field errors, one string, for matching. */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    const { message, errors } = error as InvalidInputError;
    return [message, ...(errors ?? []).map((e) => `${e.field}: ${e.message}`)].join(' | ');
  }
  throw new Error('expected an InvalidInputError');
}

function errorOf(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

const input = (datatype: string, shape: number[], data: unknown[]): JsonTensorInput => ({
  name: 'x',
  datatype,
  shape,
  data,
});

describe('decodeJsonTensor', () => {
  it.each<[string, unknown[], unknown]>([
    ['BOOL', [true, false, false, true], Uint8Array.of(1, 0, 0, 1)],
    ['UINT8', [0, 1, 254, 255], Uint8Array.of(0, 1, 254, 255)],
    ['UINT16', [0, 1, 65534, 65535], Uint16Array.of(0, 1, 65534, 65535)],
    ['UINT32', [0, 1, 2 ** 31, 4294967295], Uint32Array.of(0, 1, 2 ** 31, 4294967295)],
    [
      'UINT64',
      [0, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER],
      BigUint64Array.of(0n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n - 1n),
    ],
    ['INT8', [-128, -1, 0, 127], Int8Array.of(-128, -1, 0, 127)],
    ['INT16', [-32768, -1, 0, 32767], Int16Array.of(-32768, -1, 0, 32767)],
    ['INT32', [-2147483648, -1, 0, 2147483647], Int32Array.of(-2147483648, -1, 0, 2147483647)],
    [
      'INT64',
      [Number.MIN_SAFE_INTEGER, -(2 ** 32) - 1, -1, Number.MAX_SAFE_INTEGER],
      BigInt64Array.of(-(2n ** 53n) + 1n, -(2n ** 32n) - 1n, -1n, 2n ** 53n - 1n),
    ],
    ['FP16', [1, -2, 65504, 0.5], Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x3800)],
    [
      'FP32',
      [1.5, -0.25, 3.4028234663852886e38, 0],
      Float32Array.of(1.5, -0.25, 3.4028234663852886e38, 0),
    ],
    ['FP64', [0.1, -1e300, 5e-324, 0], Float64Array.of(0.1, -1e300, 5e-324, 0)],
    ['BYTES', ['a', '', 'é', '🙂'], ['a', '', 'é', '🙂']],
  ])('decodes %s into its typed array and back to the same JSON', (datatype, data, expected) => {
    const tensor = decodeJsonTensor(input(datatype, [2, 2], data), 0);
    expect(tensor).toEqual({ name: 'x', datatype, shape: [2, 2], data: expected });
    expect(tensor.data.constructor).toBe((expected as object).constructor);
    expect(jsonData(tensor)).toEqual(data);
  });

  it('reads nested data (as the shape) and flat data into the same row-major elements', () => {
    const flat = decodeJsonTensor(
      input('INT32', [2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
      0,
    );
    const nested = decodeJsonTensor(
      input(
        'INT32',
        [2, 3, 2],
        [
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [
            [7, 8],
            [9, 10],
            [11, 12],
          ],
        ],
      ),
      0,
    );
    expect(nested).toEqual(flat);
    expect(Array.from(nested.data as Int32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('takes scalars (shape []) and empty tensors', () => {
    expect(decodeJsonTensor(input('FP64', [], [2.5]), 0).data).toEqual(Float64Array.of(2.5));
    expect(decodeJsonTensor(input('FP32', [0, 3], []), 0).data).toEqual(new Float32Array(0));
    expect(decodeJsonTensor(input('BYTES', [2, 0], [[], []]), 0).data).toEqual([]);
  });

  it('rounds FP32 and FP16 values to their precision', () => {
    expect(decodeJsonTensor(input('FP32', [1], [0.1]), 0).data[0]).toBe(Math.fround(0.1));
    // Just under FP32's overflow threshold: rounds to the largest float, not Infinity.
    expect(decodeJsonTensor(input('FP32', [1], [3.4028235e38]), 0).data[0]).toBe(
      3.4028234663852886e38,
    );
    expect(decodeJsonTensor(input('FP16', [1], [0.1]), 0).data[0]).toBe(0x2e66);
    expect(jsonData(decodeJsonTensor(input('FP16', [1], [0.1]), 0))).toEqual([0.0999755859375]);
  });

  it('does not keep a reference to the shape it was given', () => {
    const shape = [2];
    const tensor = decodeJsonTensor(input('FP64', shape, [1, 2]), 0);
    shape[0] = 3;
    expect(tensor.shape).toEqual([2]);
  });

  it('decodes a 1,000,000-element FP32 tensor', () => {
    const n = 1_000_000;
    const data = new Array<number>(n);
    for (let i = 0; i < n; i++) data[i] = (i % 1000) / 8 - 60;
    const tensor = decodeJsonTensor(input('FP32', [1000, 1000], data), 3);
    expect(tensor.data).toBeInstanceOf(Float32Array);
    expect(tensor.data.length).toBe(n);
    const out = tensor.data as Float32Array;
    for (let i = 0; i < n; i += 9973) expect(out[i]).toBe(data[i]);
    expect(out[n - 1]).toBe(data[n - 1]);
  });

  describe('refuses', () => {
    it('an unknown datatype, listing the valid ones', () => {
      const message = messageOf(() => decodeJsonTensor(input('FLOAT32', [1], [1]), 2));
      expect(message).toContain('Input x (inputs[2]) has datatype the string "FLOAT32"');
      for (const datatype of DATATYPES) expect(message).toContain(datatype);
      expect(message).toContain('inputs[2].datatype');
    });

    it('a shape with a negative, fractional or non-number dimension', () => {
      expect(messageOf(() => decodeJsonTensor(input('FP32', [-1, 2], [1, 2]), 0))).toContain(
        'Input x (inputs[0]) has shape [-1, 2]; an input',
      );
      expect(messageOf(() => decodeJsonTensor(input('FP32', [1.5], [1]), 0))).toContain(
        'shape [1.5]',
      );
      expect(
        messageOf(() => decodeJsonTensor(input('FP32', ['2'] as unknown as number[], [1, 2]), 0)),
      ).toContain('shape [the string "2"]');
    });

    it('data that is not an array', () => {
      const message = messageOf(() =>
        decodeJsonTensor({ ...input('FP32', [2], []), data: undefined as unknown as unknown[] }, 1),
      );
      expect(message).toContain('Input x (inputs[1]) has no data array; send its 2 element(s)');
    });

    it('flat data whose element count differs from the shape, with both numbers', () => {
      const message = messageOf(() => decodeJsonTensor(input('FP32', [2, 3], [1, 2, 3, 4, 5]), 4));
      expect(message).toContain(
        'Input x (inputs[4]) has 5 element(s) in data but its shape [2, 3] holds 6; send 6 value(s)',
      );
    });

    it('nested data that is ragged or not nested as the shape', () => {
      expect(
        messageOf(() =>
          decodeJsonTensor(
            input(
              'FP32',
              [2, 2],
              [
                [1, 2],
                [3, 4, 5],
              ],
            ),
            0,
          ),
        ),
      ).toContain(
        'Input x (inputs[0]): data[1] has 3 element(s) but dimension 1 of its shape [2, 2] is 2',
      );
      expect(messageOf(() => decodeJsonTensor(input('FP32', [3, 1], [[1], [2]]), 0))).toContain(
        'data has 2 element(s) but dimension 0 of its shape [3, 1] is 3',
      );
      expect(messageOf(() => decodeJsonTensor(input('FP32', [2, 1], [[1], 2]), 0))).toContain(
        'data[1] is 2, not an array of 1 (dimension 1 of its shape [2, 1])',
      );
    });

    it('a huge shape with little nested data, before allocating for it', () => {
      expect(messageOf(() => decodeJsonTensor(input('FP64', [2, 1e12], [[1], [2]]), 0))).toContain(
        'data[0] has 1 element(s) but dimension 1 of its shape [2, 1000000000000]',
      );
    });

    it.each<[string, unknown, string]>([
      ['BOOL', 1, 'got 1; expected true or false'],
      ['BOOL', 'true', 'got the string "true"; expected true or false'],
      ['INT8', 128, 'got 128; expected an integer in [-128, 127]'],
      ['INT8', 1.5, 'got 1.5; expected an integer in [-128, 127]'],
      ['UINT8', -1, 'got -1; expected an integer in [0, 255]'],
      ['UINT32', 4294967296, 'got 4294967296; expected an integer in [0, 4294967295]'],
      ['INT32', '7', 'got the string "7"; expected an integer in [-2147483648, 2147483647]'],
      [
        'INT64',
        2 ** 53,
        'got 9007199254740992; expected an integer in [-9007199254740991, 9007199254740991]',
      ],
      ['UINT64', -1, 'got -1; expected an integer in [0, 9007199254740991]'],
      ['FP16', 'a', 'got the string "a"; expected a finite number'],
      ['FP16', 70000, '70000 overflows FP16 (beyond ±65504)'],
      ['FP32', 1e39, '1e+39 overflows FP32 (beyond ±3.4028235e38)'],
      ['FP32', -1e39, '-1e+39 overflows FP32 (beyond ±3.4028235e38)'],
      ['FP64', '1.5', 'got the string "1.5"; expected a finite number'],
      ['FP64', true, 'got true; expected a finite number'],
      ['FP64', [1], 'got an array; expected a finite number'],
      ['FP64', { value: 1 }, 'got object; expected a finite number'],
      ['BYTES', 5, 'got 5; expected a string'],
      [
        'FP32',
        null,
        'got null; ONNX tensors have no missing values, send a value for every element',
      ],
      [
        'BOOL',
        null,
        'got null; ONNX tensors have no missing values, send a value for every element',
      ],
    ])('a %s element %p, locating it and saying what was expected', (datatype, value, problem) => {
      const error = errorOf(() =>
        decodeJsonTensor(input(datatype, [3], [validFor(datatype), value, validFor(datatype)]), 2),
      );
      expect(error.message).toMatch(
        new RegExp(
          `^Input x \\(inputs\\[2\\]\\) has 1 element\\(s\\) that are not ${datatype} values; each must be `,
        ),
      );
      expect(error.errors).toEqual([{ field: 'inputs[2].data[1]', message: `x: ${problem}` }]);
    });

    it('NaN and ±Infinity from callers other than JSON.parse', () => {
      const error = errorOf(() =>
        decodeJsonTensor(input('FP64', [3], [NaN, Infinity, -Infinity]), 0),
      );
      expect(error.errors?.map((e) => e.message)).toEqual([
        'x: got NaN; expected a finite number',
        'x: got Infinity; expected a finite number',
        'x: got -Infinity; expected a finite number',
      ]);
    });

    it('64-bit integers beyond the safe range, saying how to send them', () => {
      const message = messageOf(() => decodeJsonTensor(input('INT64', [1], [2 ** 63]), 0));
      expect(message).toContain('JSON numbers are exact only up to 2^53 − 1');
      expect(message).toContain('send larger INT64 values as binary data');
    });

    it('locates bad elements of nested data by their indices', () => {
      const error = errorOf(() =>
        decodeJsonTensor(
          input(
            'UINT8',
            [2, 2, 2],
            [
              [
                [1, 2],
                [3, -4],
              ],
              [
                [5, 6],
                [null, 8],
              ],
            ],
          ),
          1,
        ),
      );
      expect(error.errors?.map((e) => e.field)).toEqual([
        'inputs[1].data[0][1][1]',
        'inputs[1].data[1][1][0]',
      ]);
    });

    it('listing the first 20 bad elements and counting all', () => {
      const data = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 'bad' : 1));
      const error = errorOf(() => decodeJsonTensor(input('FP32', [100], data), 0));
      expect(error.message).toContain(
        'has 50 element(s) that are not FP32 values (the first 20 listed)',
      );
      expect(error.errors).toHaveLength(20);
      expect(error.errors?.[19].field).toBe('inputs[0].data[38]');
    });
  });
});

function validFor(datatype: string): unknown {
  if (datatype === 'BOOL') return true;
  if (datatype === 'BYTES') return 'ok';
  return 1;
}

describe('jsonData', () => {
  const tensor = (datatype: Tensor['datatype'], data: Tensor['data']): Tensor => ({
    name: 'y',
    datatype,
    shape: [data.length],
    data,
  });

  it('turns 64-bit integers into Numbers, rounding beyond 2^53 − 1', () => {
    expect(jsonData(tensor('INT64', BigInt64Array.of(-5n, 2n ** 53n + 1n, -(2n ** 63n))))).toEqual([
      -5,
      2 ** 53,
      -(2 ** 63),
    ]);
    expect(jsonData(tensor('UINT64', BigUint64Array.of(2n ** 64n - 1n)))).toEqual([2 ** 64]);
  });

  it('gives booleans for BOOL, numbers for FP16, copies of BYTES', () => {
    expect(jsonData(tensor('BOOL', Uint8Array.of(0, 1)))).toEqual([false, true]);
    expect(jsonData(tensor('FP16', Uint16Array.of(0x7c00, 0x8000, 0x0001)))).toEqual([
      Infinity,
      -0,
      5.960464477539063e-8,
    ]);
    const strings = ['a', 'b'];
    const values = jsonData(tensor('BYTES', strings));
    expect(values).toEqual(strings);
    expect(values).not.toBe(strings);
  });

  it('gives FP32 elements as the doubles they are', () => {
    expect(jsonData(tensor('FP32', Float32Array.of(0.1)))).toEqual([Math.fround(0.1)]);
  });
});
