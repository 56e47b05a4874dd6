import * as ort from 'onnxruntime-node';
import { Datatype, elementCount, Tensor, TensorData } from '../tensors/datatypes';
import { inspectOnnx, OnnxModelError, OnnxModelInfo, OnnxSignature } from './model-inspection';

/** How onnxruntime runs a session. */
export interface OnnxSessionSettings {
  /**
   * Threads one inference may use. 1 leaves the other core to the event loop on a two-core
   * machine; more makes one large inference faster and every concurrent request slower.
   */
  intraOpThreads: number;
}

const ORT_TYPES: Record<Datatype, ort.Tensor.Type> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
const DATATYPES_OF = Object.fromEntries(
  Object.entries(ORT_TYPES).map(([datatype, type]) => [type, datatype as Datatype]),
) as Record<string, Datatype>;

/**
 * An ONNX model loaded into onnxruntime-node: its signature, and inference on the runtime's own
 * threads (`run` never blocks the event loop). Made only by `load`, which refuses a file the
 * runtime cannot run with a message that says why.
 */
export class OnnxSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: OnnxModelInfo,
  ) {}

  get signature(): OnnxSignature {
    return this.info.signature;
  }

  static async load(bytes: Uint8Array, settings: OnnxSessionSettings): Promise<OnnxSession> {
    const info = inspectOnnx(bytes);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: settings.intraOpThreads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Warnings go to stderr unstructured; load errors reach the caller as exceptions.
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw runtimeRefusal(error);
    }
    return new OnnxSession(session, info);
  }

  /** Runs the graph on inputs already checked against the signature; returns the outputs asked for. */
  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const { name, datatype, shape, data } of inputs) {
      feeds[name] = new ort.Tensor(ORT_TYPES[datatype], data as ort.Tensor.DataType, shape);
    }
    const results = await this.session.run(feeds, outputNames as string[]);
    return outputNames.map((name) => fromOrt(name, results[name]));
  }

  /**
   * One inference on zeros (empty strings), every open dimension 1, so the first request does not
   * pay for the runtime's lazy set-up. A graph that refuses such input is simply not warmed.
   */
  async warmUp(): Promise<boolean> {
    const inputs = this.signature.inputs.map(({ name, datatype, shape }): Tensor => {
      const concrete = shape.map((dimension) => (dimension < 0 ? 1 : dimension));
      return { name, datatype, shape: concrete, data: zeros(datatype, elementCount(concrete)) };
    });
    try {
      await this.run(
        inputs,
        this.signature.outputs.map((output) => output.name),
      );
      return true;
    } catch {
      return false;
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function fromOrt(name: string, tensor: ort.Tensor): Tensor {
  const datatype = DATATYPES_OF[tensor.type];
  if (!datatype)
    throw new Error(`output ${name} has type ${tensor.type}, which has no protocol datatype`);
  return { name, datatype, shape: [...tensor.dims], data: tensor.data as TensorData };
}

export function zeros(datatype: Datatype, count: number): TensorData {
  switch (datatype) {
    case 'BYTES':
      return new Array<string>(count).fill('');
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(count);
    case 'INT8':
      return new Int8Array(count);
    case 'UINT16':
    case 'FP16':
      return new Uint16Array(count);
    case 'INT16':
      return new Int16Array(count);
    case 'UINT32':
      return new Uint32Array(count);
    case 'INT32':
      return new Int32Array(count);
    case 'UINT64':
      return new BigUint64Array(count);
    case 'INT64':
      return new BigInt64Array(count);
    case 'FP32':
      return new Float32Array(count);
    case 'FP64':
      return new Float64Array(count);
  }
}

/** onnxruntime's load error, shorn of its C++ source location, as a 422 that says what to do. */
function runtimeRefusal(error: unknown): OnnxModelError {
  const raw = error instanceof Error ? error.message : String(error);
  const reason = raw
    .replace(/^\/?[\w/.]+:\d+ [^\n]*?\) /, '')
    .replace(/^Fatal error: /, '')
    .trim();
  if (/protobuf parsing failed/i.test(reason)) {
    return new OnnxModelError(
      'The file is not a loadable ONNX model (onnxruntime could not parse it). Upload the .onnx file itself.',
      400,
    );
  }
  const operator =
    /(?:No Op registered for (\S+)|(\S+)\(-?\d+\) is not a registered function\/op)/.exec(reason);
  if (operator) {
    return new OnnxModelError(
      `The model uses the operator ${operator[1] ?? operator[2]}, which this server's runtime does not have: ${reason}. Export the model with standard ONNX operators (or register a custom-op library with onnxruntime where you serve it).`,
      422,
    );
  }
  return new OnnxModelError(`onnxruntime could not load the model: ${reason}`, 422);
}
