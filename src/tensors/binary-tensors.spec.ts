import { InvalidInputError } from '../common/errors';
import {
  assembleBinaryResponse,
  decodeBinaryTensor,
  encodeBinaryData,
  encodeOutput,
  type RequestInput,
  splitBinaryBody,
  takeBinaryInputs,
  wantsBinary,
} from './binary-tensors';
import type { Datatype, Tensor, TensorData } from './datatypes';

function errorOf(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

const messageOf = (run: () => unknown): string => {
  const { message, errors } = errorOf(run);
  return [message, ...(errors ?? []).map((e) => `${e.field}: ${e.message}`)].join(' | ');
};

const tensor = (datatype: Datatype, shape: number[], data: TensorData): Tensor => ({
  name: 'x',
  datatype,
  shape,
  data,
});

/** BYTES elements as the wire has them: a 4-byte little-endian length, then the bytes. */
function lengthPrefixed(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** `bytes` at an odd offset of a bigger buffer, as a slice of a request body would be. */
function unaligned(bytes: Buffer): Buffer {
  const host = Buffer.alloc(bytes.length + 3, 0xee);
  bytes.copy(host, 1);
  return host.subarray(1, 1 + bytes.length);
}

describe('splitBinaryBody', () => {
  const body = Buffer.from('{"a":1}\x01\x02\x03', 'latin1');

  it('splits at the header length, into views of the body', () => {
    const { header, binary } = splitBinaryBody(body, 7);
    expect(header.toString()).toBe('{"a":1}');
    expect([...binary]).toEqual([1, 2, 3]);
    expect(binary.buffer).toBe(body.buffer);
    expect(splitBinaryBody(body, 0).binary.length).toBe(10);
    expect(splitBinaryBody(body, 10).binary.length).toBe(0);
  });

  it.each([-1, 11, 1.5, NaN])('refuses a header length of %p, naming the body size', (length) => {
    const message = messageOf(() => splitBinaryBody(body, length));
    expect(message).toContain(`The Inference-Header-Content-Length header is ${length}`);
    expect(message).toContain('the body has 10 bytes');
    expect(message).toContain('a whole number from 0 to 10');
  });
});

describe('encodeBinaryData and decodeBinaryTensor', () => {
  it.each<[Datatype, TensorData]>([
    ['BOOL', Uint8Array.of(1, 0, 0, 1)],
    ['UINT8', Uint8Array.of(0, 1, 254, 255)],
    ['UINT16', Uint16Array.of(0, 1, 65534, 65535)],
    ['UINT32', Uint32Array.of(0, 1, 2 ** 31, 4294967295)],
    ['UINT64', BigUint64Array.of(0n, 1n, 2n ** 53n + 1n, 2n ** 64n - 1n)],
    ['INT8', Int8Array.of(-128, -1, 0, 127)],
    ['INT16', Int16Array.of(-32768, -1, 0, 32767)],
    ['INT32', Int32Array.of(-2147483648, -1, 0, 2147483647)],
    ['INT64', BigInt64Array.of(-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n)],
    ['FP16', Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x7e00)],
    ['FP32', Float32Array.of(1.5, -0.25, NaN, -Infinity)],
    ['FP64', Float64Array.of(0.1, -1e300, 5e-324, Infinity)],
    ['BYTES', ['a', '', 'é', '🙂 naïve 日本']],
  ])('round-trips %s, from aligned and unaligned bytes', (datatype, data) => {
    const original = tensor(datatype, [2, 2], data);
    const bytes = encodeBinaryData(original);
    expect(decodeBinaryTensor(original, Buffer.from(bytes), 0)).toEqual(original);
    const decoded = decodeBinaryTensor(original, unaligned(bytes), 0);
    expect(decoded).toEqual(original);
    expect(decoded.data.constructor).toBe(data.constructor);
  });

  it('encodes little-endian, row-major, BOOL as single bytes and BYTES length-prefixed', () => {
    expect([...encodeBinaryData(tensor('INT32', [2], Int32Array.of(1, -2)))]).toEqual([
      1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff,
    ]);
    expect([...encodeBinaryData(tensor('FP16', [1], Uint16Array.of(0x3c00)))]).toEqual([0, 0x3c]);
    expect([...encodeBinaryData(tensor('INT64', [1], BigInt64Array.of(258n)))]).toEqual([
      2, 1, 0, 0, 0, 0, 0, 0,
    ]);
    expect([...encodeBinaryData(tensor('BOOL', [2], Uint8Array.of(1, 0)))]).toEqual([1, 0]);
    expect(encodeBinaryData(tensor('BYTES', [2], ['é', '']))).toEqual(lengthPrefixed('é', ''));
    expect(encodeBinaryData(tensor('FP64', [0], new Float64Array(0))).length).toBe(0);
  });

  it('reads FP32 elements from an unaligned little-endian slice', () => {
    const bytes = Buffer.alloc(8);
    bytes.writeFloatLE(1.5, 0);
    bytes.writeFloatLE(-2, 4);
    const decoded = decodeBinaryTensor(
      { name: 'x', shape: [2], datatype: 'FP32' },
      unaligned(bytes),
      0,
    );
    expect(decoded.data).toEqual(Float32Array.of(1.5, -2));
  });

  it('copies: the tensor does not change with the body', () => {
    const bytes = Buffer.from(Int16Array.of(7).buffer);
    const decoded = decodeBinaryTensor({ name: 'x', shape: [1], datatype: 'INT16' }, bytes, 0);
    bytes.fill(0);
    expect(decoded.data[0]).toBe(7);
  });

  it('encodes a tensor that is a view of a bigger buffer from its own bytes only', () => {
    const view = new Float32Array(Float32Array.of(9, 1, 2, 9).buffer, 4, 2);
    expect(encodeBinaryData(tensor('FP32', [2], view))).toEqual(
      Buffer.from(Float32Array.of(1, 2).buffer),
    );
  });

  it('refuses to encode a tensor whose elements do not fill its shape', () => {
    expect(() => encodeBinaryData(tensor('FP32', [3], new Float32Array(2)))).toThrow(
      'Output x has 2 elements but its shape [3] holds 3.',
    );
  });

  describe('decodeBinaryTensor refuses', () => {
    it('a byte count other than elements × size, with both numbers', () => {
      const message = messageOf(() =>
        decodeBinaryTensor({ name: 'x', shape: [2, 3], datatype: 'FP32' }, Buffer.alloc(20), 5),
      );
      expect(message).toContain(
        'Input x (inputs[5]) has 20 bytes of binary data but its shape [2, 3] of FP32 needs 24 ' +
          '(6 element(s) × 4 byte(s)); set parameters.binary_data_size to 24',
      );
      expect(message).toContain('inputs[5].parameters.binary_data_size');
    });

    it('an unknown datatype or a bad shape, as the JSON encoding does', () => {
      expect(
        messageOf(() =>
          decodeBinaryTensor({ name: 'x', shape: [1], datatype: 'BF16' }, Buffer.alloc(2), 0),
        ),
      ).toContain('Input x (inputs[0]) has datatype the string "BF16"; use one of BOOL');
      expect(
        messageOf(() =>
          decodeBinaryTensor({ name: 'x', shape: [-1], datatype: 'FP32' }, Buffer.alloc(4), 0),
        ),
      ).toContain('Input x (inputs[0]) has shape [-1]');
    });

    it('BOOL bytes other than 0 and 1, locating them', () => {
      const error = errorOf(() =>
        decodeBinaryTensor(
          { name: 'x', shape: [4], datatype: 'BOOL' },
          Buffer.from([0, 2, 1, 255]),
          1,
        ),
      );
      expect(error.message).toContain(
        'Input x (inputs[1]) has 2 BOOL element(s) in its binary data that are neither 0 nor 1',
      );
      expect(error.errors).toEqual([
        { field: 'inputs[1]', message: 'element 1 is the byte 2; expected 0 or 1' },
        { field: 'inputs[1]', message: 'element 3 is the byte 255; expected 0 or 1' },
      ]);
    });

    const bytes = (shape: number[], data: Buffer) => () =>
      decodeBinaryTensor({ name: 's', shape, datatype: 'BYTES' }, data, 2);

    it('BYTES data too short for the shape, before allocating for it', () => {
      expect(messageOf(bytes([1e12], lengthPrefixed('a')))).toContain(
        'Input s (inputs[2]): its 5 bytes of binary data cannot hold 1000000000000 BYTES element(s)',
      );
    });

    it('BYTES data that ends before an element’s length', () => {
      const data = Buffer.concat([lengthPrefixed('ab'), Buffer.from([1, 0, 0, 0, 120, 0, 0])]);
      expect(messageOf(bytes([3], data))).toContain(
        'its binary data ends after 2 element(s) (13 bytes), before the length of element 2',
      );
    });

    it('a BYTES element longer than what is left', () => {
      const data = Buffer.concat([lengthPrefixed('ab'), Buffer.from([9, 0, 0, 0, 120])]);
      const message = messageOf(bytes([2], data));
      expect(message).toContain('element 1 at byte 6 declares 9 byte(s) but only 1 remain');
      expect(message).toContain('Its shape [2] holds 2 BYTES element(s)');
    });

    it('bytes left over after the last BYTES element', () => {
      expect(
        messageOf(bytes([1], Buffer.concat([lengthPrefixed('ab'), Buffer.from([0])]))),
      ).toContain('its 1 element(s) take 6 of its 7 bytes of binary data, leaving 1 unread');
      expect(messageOf(bytes([0], Buffer.from([0])))).toContain('leaving 1 unread');
    });

    it('a BYTES element that is not UTF-8', () => {
      expect(messageOf(bytes([2], lengthPrefixed('ok', Buffer.from([0xc3, 0x28]))))).toContain(
        'element 1 (bytes 10 to 12) is not valid UTF-8',
      );
    });
  });
});

describe('takeBinaryInputs', () => {
  const fp32 = Buffer.from(Float32Array.of(1, 2, 3).buffer);
  const strings = lengthPrefixed('hé', 'llo');

  it('decodes binary inputs from consecutive slices, in order, and JSON inputs from data', () => {
    const inputs: RequestInput[] = [
      { name: 'a', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
      { name: 'b', shape: [1, 2], datatype: 'INT64', data: [[5, -6]] },
      {
        name: 'c',
        shape: [2],
        datatype: 'BYTES',
        parameters: { binary_data_size: strings.length },
      },
      { name: 'd', shape: [0], datatype: 'FP64', parameters: { binary_data_size: 0 } },
    ];
    const tensors = takeBinaryInputs(inputs, unaligned(Buffer.concat([fp32, strings])));
    expect(tensors).toEqual([
      { name: 'a', datatype: 'FP32', shape: [3], data: Float32Array.of(1, 2, 3) },
      { name: 'b', datatype: 'INT64', shape: [1, 2], data: BigInt64Array.of(5n, -6n) },
      { name: 'c', datatype: 'BYTES', shape: [2], data: ['hé', 'llo'] },
      { name: 'd', datatype: 'FP64', shape: [0], data: new Float64Array(0) },
    ]);
  });

  it('takes a body with no binary inputs and no binary data', () => {
    expect(
      takeBinaryInputs(
        [{ name: 'a', shape: [1], datatype: 'BOOL', data: [true] }],
        Buffer.alloc(0),
      ),
    ).toEqual([{ name: 'a', datatype: 'BOOL', shape: [1], data: Uint8Array.of(1) }]);
  });

  it('refuses sizes that do not add up to the binary data, with both numbers', () => {
    const inputs: RequestInput[] = [
      { name: 'a', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
      { name: 'b', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
    ];
    expect(messageOf(() => takeBinaryInputs(inputs, fp32))).toContain(
      'The inputs declare 24 bytes of binary data (parameters.binary_data_size) but 12 bytes follow',
    );
    expect(
      messageOf(() =>
        takeBinaryInputs([{ name: 'a', shape: [1], datatype: 'FP32', data: [1] }], fp32),
      ),
    ).toContain('declare 0 bytes of binary data (parameters.binary_data_size) but 12 bytes follow');
  });

  it('refuses a size that does not fit the input’s shape, naming it', () => {
    const inputs: RequestInput[] = [
      { name: 'a', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 4 } },
      { name: 'b', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 8 } },
    ];
    expect(messageOf(() => takeBinaryInputs(inputs, fp32))).toContain(
      'Input a (inputs[0]) has 4 bytes of binary data but its shape [2] of FP32 needs 8',
    );
  });

  it.each([-1, 1.5, '12', null])('refuses a binary_data_size of %p', (size) => {
    const message = messageOf(() =>
      takeBinaryInputs(
        [
          { name: 'a', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'b', shape: [3], datatype: 'FP32', parameters: { binary_data_size: size } },
        ],
        fp32,
      ),
    );
    expect(message).toContain('Input b (inputs[1]) has parameters.binary_data_size');
    expect(message).toContain('a whole number ≥ 0');
  });

  it('refuses an input with both data and binary_data_size', () => {
    const message = messageOf(() =>
      takeBinaryInputs(
        [
          {
            name: 'a',
            shape: [3],
            datatype: 'FP32',
            data: [1, 2, 3],
            parameters: { binary_data_size: 12 },
          },
        ],
        fp32,
      ),
    );
    expect(message).toContain('Input a (inputs[0]) has both data and parameters.binary_data_size');
  });

  it('refuses an input with neither data nor binary_data_size', () => {
    expect(
      messageOf(() =>
        takeBinaryInputs([{ name: 'a', shape: [3], datatype: 'FP32' }], Buffer.alloc(0)),
      ),
    ).toContain('Input a (inputs[0]) has no data array; send its 3 element(s) as "data"');
  });
});

describe('wantsBinary', () => {
  it.each<[Record<string, unknown> | undefined, Record<string, unknown> | undefined, boolean]>([
    [undefined, undefined, false],
    [{}, {}, false],
    [undefined, { binary_data: true }, true],
    [{ binary_data_output: false }, { binary_data: true }, true],
    [{ binary_data_output: true }, undefined, true],
    [{ binary_data_output: true }, {}, true],
    [{ binary_data_output: true }, { binary_data: false }, false],
    [{ binary_data_output: false }, undefined, false],
    [undefined, { binary_data: false }, false],
  ])('request %j, output %j → %p', (request, output, expected) => {
    expect(wantsBinary(request, output)).toBe(expected);
  });

  it('refuses parameters that are not booleans, naming the output', () => {
    expect(
      messageOf(() => wantsBinary(undefined, { binary_data: 'true' }, 'probabilities')),
    ).toContain(
      'Output probabilities has parameters.binary_data the string "true"; it must be true',
    );
    expect(messageOf(() => wantsBinary({ binary_data_output: 1 }, undefined))).toContain(
      'The request has parameters.binary_data_output 1; it must be true',
    );
  });
});

describe('encodeOutput and assembleBinaryResponse', () => {
  it('puts the JSON first, then the binary outputs’ bytes in output order', () => {
    const a = encodeOutput(tensor('FP32', [2], Float32Array.of(1, 2)), true);
    const b = encodeOutput(tensor('INT64', [1], BigInt64Array.of(7n)), false);
    const c = encodeOutput({ ...tensor('BYTES', [1], ['é']), name: 'c' }, true);
    expect(a.output).toEqual({
      name: 'x',
      datatype: 'FP32',
      shape: [2],
      parameters: { binary_data_size: 8 },
    });
    expect(b).toEqual({
      output: { name: 'x', datatype: 'INT64', shape: [1], data: [7] },
      bytes: null,
    });

    const response = { model_name: 'm', outputs: [a.output, b.output, c.output] };
    const { body, headerLength } = assembleBinaryResponse(response, [a.bytes!, c.bytes!]);
    expect(JSON.parse(body.subarray(0, headerLength).toString('utf8'))).toEqual(response);
    expect(body.subarray(headerLength)).toEqual(
      Buffer.concat([Buffer.from(Float32Array.of(1, 2).buffer), lengthPrefixed('é')]),
    );
  });

  it('refuses binary parts that do not match the outputs’ binary_data_size', () => {
    const a = encodeOutput(tensor('FP32', [2], Float32Array.of(1, 2)), true);
    expect(() => assembleBinaryResponse({ outputs: [a.output] }, [])).toThrow(
      "The response's binary_data_size parameters [8] do not match the binary parts [].",
    );
    expect(() => assembleBinaryResponse({ outputs: [a.output] }, [Buffer.alloc(4)])).toThrow(
      'do not match the binary parts [4]',
    );
  });

  it('round-trips a request body through splitBinaryBody and takeBinaryInputs', () => {
    const outputs = [
      encodeOutput(tensor('FP16', [2], Uint16Array.of(0x3c00, 0x0001)), true),
      encodeOutput(tensor('BOOL', [3], Uint8Array.of(1, 0, 1)), true),
    ];
    const request = Buffer.from(JSON.stringify({ inputs: outputs.map(({ output }) => output) }));
    const body = Buffer.concat([request, ...outputs.map(({ bytes }) => bytes!)]);
    const headerLength = request.length;
    const { header, binary } = splitBinaryBody(body, headerLength);
    const parsed = JSON.parse(header.toString('utf8')) as { inputs: RequestInput[] };
    expect(takeBinaryInputs(parsed.inputs, binary)).toEqual([
      tensor('FP16', [2], Uint16Array.of(0x3c00, 0x0001)),
      tensor('BOOL', [3], Uint8Array.of(1, 0, 1)),
    ]);
  });
});
