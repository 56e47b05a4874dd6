import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { inspectOnnx, MAX_DEFAULT_OPSET, MAX_IR_VERSION, OnnxModelError } from './model-inspection';

const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'onnx');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

function refusal(bytes: Uint8Array): OnnxModelError {
  try {
    inspectOnnx(bytes);
  } catch (error) {
    if (error instanceof OnnxModelError) return error;
    throw error;
  }
  throw new Error('inspectOnnx accepted the file');
}

/** A one-node graph with what a test needs to vary. */
function graph(options: { irVersion?: number; opset?: number; inputType?: number } = {}) {
  const tensor = (elemType: number, dims: onnx.TensorShapeProto.IDimension[]) => ({
    tensorType: { elemType, shape: { dim: dims } },
  });
  return onnx.ModelProto.encode({
    irVersion: options.irVersion ?? 8,
    opsetImport: [{ domain: '', version: options.opset ?? 17 }],
    metadataProps: [{ key: 'modeldock.model', value: 'm' }],
    graph: {
      name: 'g',
      node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
      initializer: [{ name: 'w', dataType: 1, dims: [1], floatData: [1] }],
      input: [
        { name: 'x', type: tensor(options.inputType ?? 1, [{ dimParam: 'N' }, { dimValue: 3 }]) },
        // Older exporters list weights among the inputs: not fed, so not in the signature.
        { name: 'w', type: tensor(1, [{ dimValue: 1 }]) },
      ],
      output: [
        { name: 'y', type: tensor(options.inputType ?? 1, [{ dimParam: 'N' }, { dimValue: 3 }]) },
      ],
    },
  }).finish();
}

describe('inspectOnnx', () => {
  it('reads the signature, -1 for symbolic dimensions, without the weights listed as inputs', () => {
    const info = inspectOnnx(graph());
    expect(info).toMatchObject({
      irVersion: 8,
      opsets: [{ domain: 'ai.onnx', version: 17 }],
      signature: {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
      },
      metadata: { 'modeldock.model': 'm' },
    });
  });

  it('names every tensor type in the protocol’s terms', () => {
    expect(inspectOnnx(fixture('types.onnx')).signature.outputs.map((o) => o.datatype)).toEqual([
      'INT64',
      'BOOL',
      'BYTES',
      'INT8',
      'UINT16',
      'FP16',
    ]);
  });

  it.each([
    ['not_onnx.onnx', 400, /not an ONNX model/],
    ['truncated.onnx', 400, /cut short \(302 bytes\)/],
    ['ir_too_new.onnx', 422, new RegExp(`IR version is 99.*up to ${MAX_IR_VERSION}`)],
    ['opset_too_new.onnx', 422, new RegExp(`opset 99 of ai.onnx.*up to ${MAX_DEFAULT_OPSET}`)],
    ['no_inputs.onnx', 400, /no inputs/],
  ])('refuses %s with %i and says why', (file, status, message) => {
    const error = refusal(fixture(`bad/${file}`));
    expect(error.status).toBe(status);
    expect(error.message).toMatch(message);
  });

  it('tells a JSON file apart from an ONNX one', () => {
    expect(refusal(Buffer.from(' {"format":"modeldock/v2"}')).message).toMatch(
      /looks like JSON.*application\/json/,
    );
  });

  it('refuses a tensor type the protocol cannot carry (BFLOAT16), naming the input', () => {
    const error = refusal(graph({ inputType: 16 }));
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/input x has element type BFLOAT16/);
  });

  it('accepts the newest IR version and opset the runtime loads', () => {
    expect(() =>
      inspectOnnx(graph({ irVersion: MAX_IR_VERSION, opset: MAX_DEFAULT_OPSET })),
    ).not.toThrow();
  });
});
