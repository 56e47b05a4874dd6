import { createHash } from 'node:crypto';
import {
  DIGEST_HEAD,
  MAX_LOGGED_ROWS,
  MAX_TENSOR_ELEMENTS,
  serialiseInputs,
  serialiseOutputs,
} from './log-payload';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('log payload', () => {
  it('keeps small v1 instances and answers as they are', () => {
    const instances = [[1, 2], { x: 3, y: 'a' }];
    expect(JSON.parse(serialiseInputs({ instances }))).toEqual({ instances });
    const outputs = {
      predictions: ['a', 'b'],
      probabilities: [
        [0.9, 0.1],
        [0.2, 0.8],
      ],
      classes: ['a', 'b'],
    };
    expect(JSON.parse(serialiseOutputs(outputs))).toEqual(outputs);
  });

  it('keeps the first 1,000 v1 rows and says how many there were', () => {
    const instances = Array.from({ length: 2500 }, (_, i) => [i]);
    const logged = JSON.parse(serialiseInputs({ instances }));
    expect(logged.instances).toHaveLength(MAX_LOGGED_ROWS);
    expect(logged.instances[999]).toEqual([999]);
    expect(logged.truncatedRows).toBe(2500);

    const classes = Array.from({ length: 1200 }, (_, i) => `c${i}`);
    const outputs = JSON.parse(
      serialiseOutputs({
        predictions: instances.map(() => 'c1'),
        probabilities: instances.map(() => [1]),
        classes,
      }),
    );
    expect(outputs.predictions).toHaveLength(MAX_LOGGED_ROWS);
    expect(outputs.probabilities).toHaveLength(MAX_LOGGED_ROWS);
    expect(outputs.classes).toEqual(classes);
    expect(outputs.truncatedRows).toBe(2500);
  });

  it('keeps a small v2 tensor whole, flat, with FP16, BOOL and 64-bit integers as JSON values', () => {
    const logged = JSON.parse(
      serialiseInputs({
        inputs: [
          {
            name: 'a',
            shape: [2, 2],
            datatype: 'FP64',
            data: [
              [1, 2],
              [3, 4],
            ],
          },
          { name: 'b', shape: [2], datatype: 'FP16', data: Uint16Array.of(0x3c00, 0xc000) },
          { name: 'c', shape: [2], datatype: 'BOOL', data: Uint8Array.of(1, 0) },
          {
            name: 'd',
            shape: [3],
            datatype: 'INT64',
            data: BigInt64Array.of(-5n, 2n ** 60n, BigInt(Number.MAX_SAFE_INTEGER)),
          },
          { name: 'e', shape: [1], datatype: 'BYTES', data: ['text'] },
        ],
      }),
    );
    expect(logged.inputs).toEqual([
      { name: 'a', shape: [2, 2], datatype: 'FP64', data: [1, 2, 3, 4] },
      { name: 'b', shape: [2], datatype: 'FP16', data: [1, -2] },
      { name: 'c', shape: [2], datatype: 'BOOL', data: [true, false] },
      {
        name: 'd',
        shape: [3],
        datatype: 'INT64',
        data: [-5, '1152921504606846976', Number.MAX_SAFE_INTEGER],
      },
      { name: 'e', shape: [1], datatype: 'BYTES', data: ['text'] },
    ]);
  });

  it('keeps a large tensor as its digest: the sha256 of its binary encoding and its first values', () => {
    const count = MAX_TENSOR_ELEMENTS + 1;
    const values = Float32Array.from({ length: count }, (_, i) => i / 4);
    const typed = { name: 'image', shape: [1, count], datatype: 'FP32', data: values };
    const [logged] = JSON.parse(serialiseOutputs({ outputs: [typed] })).outputs;
    expect(logged).toEqual({
      name: 'image',
      shape: [1, count],
      datatype: 'FP32',
      digest: {
        sha256: sha256(Buffer.from(values.buffer)),
        head: Array.from(values.slice(0, DIGEST_HEAD)),
      },
    });
    // The same tensor sent as JSON has the same digest.
    const json = { ...typed, data: Array.from(values) };
    expect(JSON.parse(serialiseInputs({ inputs: [json] })).inputs[0]).toEqual(logged);
  });

  it('digests 64-bit integer tensors without losing precision', () => {
    const data = BigInt64Array.from(
      { length: MAX_TENSOR_ELEMENTS + 1 },
      (_, i) => 2n ** 62n + BigInt(i),
    );
    const [logged] = JSON.parse(
      serialiseInputs({ inputs: [{ name: 'ids', shape: [data.length], datatype: 'INT64', data }] }),
    ).inputs;
    expect(logged.digest.sha256).toBe(sha256(Buffer.from(data.buffer)));
    expect(logged.digest.head[1]).toBe((2n ** 62n + 1n).toString());
  });

  it('digests a BYTES tensor whose text is too long, whatever its element count', () => {
    const data = ['x'.repeat(70_000)];
    const [logged] = JSON.parse(
      serialiseInputs({ inputs: [{ name: 's', shape: [1], datatype: 'BYTES', data }] }),
    ).inputs;
    const encoded = Buffer.concat([Buffer.from([0x70, 0x11, 0x01, 0x00]), Buffer.from(data[0])]);
    expect(logged.digest).toEqual({ sha256: sha256(encoded), head: data });
  });

  it('logs a tensor without data (binary data, or moved to a thread) by its name, shape and datatype', () => {
    const moved = new Float32Array(new ArrayBuffer(16));
    structuredClone(moved.buffer, { transfer: [moved.buffer] });
    const logged = JSON.parse(
      serialiseInputs({
        inputs: [
          { name: 'binary', shape: [4], datatype: 'FP32', parameters: { binary_data_size: 16 } },
          { name: 'moved', shape: [4], datatype: 'FP32', data: moved },
        ],
      }),
    );
    expect(logged.inputs).toEqual([
      { name: 'binary', shape: [4], datatype: 'FP32' },
      { name: 'moved', shape: [4], datatype: 'FP32' },
    ]);
  });

  it('throws on what cannot be JSON (the caller drops that one entry)', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => serialiseInputs({ instances: [circular] })).toThrow();
  });
});
