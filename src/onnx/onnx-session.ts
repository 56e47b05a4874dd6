import { Piscina } from 'piscina';
import { threadFile } from '../common/thread-file';
import { Datatype, elementCount, Tensor, TensorData } from '../tensors/datatypes';
import { inspectOnnx, OnnxModelError, OnnxModelInfo, OnnxSignature } from './model-inspection';
import type { SessionTask, SessionThreadData } from './session.thread';

/** How onnxruntime runs a session. */
export interface OnnxSessionSettings {
  /**
   * onnxruntime's threads for one inference. Each session also has a thread of its own that calls
   * the runtime, so with 1 an inference takes one core and the event loop keeps the other on a
   * two-core machine; more makes one large inference faster and concurrent requests slower.
   */
  intraOpThreads: number;
}

/**
 * An ONNX model loaded into onnxruntime-node in a thread of its own: its signature, and inference
 * that never blocks the event loop (onnxruntime-node runs a session synchronously on the calling
 * thread, so the session lives in `session.thread.ts`). Made only by `load`, which refuses a file
 * the runtime cannot run with a message that says why.
 */
export class OnnxSession {
  private constructor(
    private readonly thread: Piscina<SessionTask, Tensor[]>,
    readonly info: OnnxModelInfo,
  ) {}

  get signature(): OnnxSignature {
    return this.info.signature;
  }

  static async load(bytes: Uint8Array, settings: OnnxSessionSettings): Promise<OnnxSession> {
    const info = inspectOnnx(bytes);
    const workerData: SessionThreadData = { model: bytes, intraOpThreads: settings.intraOpThreads };
    const thread = new Piscina<SessionTask, Tensor[]>({
      ...threadFile(__dirname, 'session.thread'),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData,
    });
    try {
      await thread.run({ inputs: [], outputs: [] });
    } catch (error) {
      await thread.destroy();
      throw runtimeRefusal(error);
    }
    return new OnnxSession(thread, info);
  }

  /** Runs the graph on inputs already checked against the signature; returns the outputs asked for. */
  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    // Copied to the thread, not transferred: the caller's tensors stay usable.
    return this.thread.run({ inputs: inputs as Tensor[], outputs: outputNames as string[] });
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
    return this.thread.destroy();
  }
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
