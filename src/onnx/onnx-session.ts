import { Worker } from 'node:worker_threads';
import { threadFile } from '../common/thread-file';
import { Datatype, elementCount, Tensor, TensorData } from '../tensors/datatypes';
import { inspectOnnx, OnnxModelError, OnnxModelInfo, OnnxSignature } from './model-inspection';
import { createOrtSession, OrtSession, runOrtSession } from './ort-session';
import type { SessionReply, SessionRequest, SessionThreadData } from './session.thread';

/** How onnxruntime runs a session. */
export interface OnnxSessionSettings {
  /**
   * onnxruntime's threads for one inference. Each session also has a thread of its own that calls
   * the runtime, so with 1 an inference takes one core and the event loop keeps the other on a
   * two-core machine; more makes one large inference faster and concurrent requests slower.
   */
  intraOpThreads: number;
}

/** An inference expected to cost less than this runs on the event loop: the hop to a thread costs more. */
const INLINE_BUDGET_MICROS = 200;
/** Only graphs this small get a second session on the event loop (creating it holds the loop once). */
const INLINE_MAX_MODEL_BYTES = 1024 * 1024;

interface Pending {
  resolve: (reply: { outputs: Tensor[]; micros: number }) => void;
  reject: (error: Error) => void;
}

/**
 * An ONNX model loaded into onnxruntime-node: its signature, and inference that does not hold the
 * event loop. onnxruntime-node runs a session synchronously on the thread that calls it, so the
 * session lives in a thread of its own (session.thread.ts). A graph so cheap that the hop to that
 * thread would cost more than the inference (a warm-up under INLINE_BUDGET_MICROS, a file under
 * 1 MiB) also gets a session on the event loop, used for requests whose estimated cost stays within
 * the budget. Made only by `load`, which refuses a file the runtime cannot run, saying why.
 */
export class OnnxSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private inline: { session: OrtSession; microsPerRow: number } | null = null;

  private constructor(
    private readonly thread: Worker,
    readonly info: OnnxModelInfo,
    private model: Uint8Array | null,
  ) {
    thread.on('message', (reply: SessionReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) thread.unref();
      if ('error' in reply) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply);
    });
    thread.on('error', (error) => this.fail(error));
    thread.on('exit', (code) => this.fail(new Error(`the session's thread exited (code ${code})`)));
    // An idle session does not keep the process alive; one with requests in flight does.
    thread.unref();
  }

  get signature(): OnnxSignature {
    return this.info.signature;
  }

  static async load(bytes: Uint8Array, settings: OnnxSessionSettings): Promise<OnnxSession> {
    const info = inspectOnnx(bytes);
    const { filename, execArgv } = threadFile(__dirname, 'session.thread');
    const workerData: SessionThreadData = { model: bytes, intraOpThreads: settings.intraOpThreads };
    // Evaluated, so that under ts-node the loader in execArgv can require the .ts file.
    const thread = new Worker(`require(${JSON.stringify(filename)})`, {
      eval: true,
      workerData,
      execArgv,
    });
    const session = new OnnxSession(thread, info, bytes);
    try {
      await session.call([], []);
    } catch (error) {
      await session.release();
      throw runtimeRefusal(error);
    }
    return session;
  }

  /**
   * Runs the graph on inputs already checked against the signature; returns the outputs asked for.
   * With `consume`, inputs that own their memory move to the thread instead of being copied (half a
   * millisecond for an image): the caller must not read them afterwards.
   */
  async run(
    inputs: readonly Tensor[],
    outputNames: readonly string[],
    { consume = false }: { consume?: boolean } = {},
  ): Promise<Tensor[]> {
    const { inline } = this;
    if (inline && rowsOf(inputs) * inline.microsPerRow <= INLINE_BUDGET_MICROS) {
      return runOrtSession(inline.session, inputs, outputNames);
    }
    return (await this.call(inputs, outputNames, consume ? ownedBuffers(inputs) : [])).outputs;
  }

  /**
   * Inferences on zeros (empty strings), every open dimension 1, so the first request does not pay
   * for the runtime's lazy set-up; the second one's time decides whether the graph also runs on
   * the event loop. A graph that refuses such input is simply not warmed.
   */
  async warmUp(): Promise<boolean> {
    const model = this.model;
    this.model = null;
    const inputs = this.signature.inputs.map(({ name, datatype, shape }): Tensor => {
      const concrete = shape.map((dimension) => (dimension < 0 ? 1 : dimension));
      return { name, datatype, shape: concrete, data: zeros(datatype, elementCount(concrete)) };
    });
    const outputs = this.signature.outputs.map((output) => output.name);
    try {
      // The first run sets the runtime up. A graph that may be cheap enough is timed a few more
      // times (the fastest is what a run costs); a network is not run again.
      await this.call(inputs, outputs);
      let { micros } = await this.call(inputs, outputs);
      for (let run = 0; run < 4 && micros <= 4 * INLINE_BUDGET_MICROS; run++) {
        micros = Math.min(micros, (await this.call(inputs, outputs)).micros);
      }
      if (model && model.length <= INLINE_MAX_MODEL_BYTES && micros <= INLINE_BUDGET_MICROS) {
        const session = await createOrtSession(model, 1);
        this.inline = { session, microsPerRow: micros / Math.max(1, rowsOf(inputs)) };
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Whether cheap requests run on the event loop (see the class comment). */
  get runsInline(): boolean {
    return this.inline !== null;
  }

  async release(): Promise<void> {
    await this.inline?.session.release();
    this.inline = null;
    this.fail(new Error('the session was released'));
    await this.thread.terminate();
  }

  private call(
    inputs: readonly Tensor[],
    outputs: readonly string[],
    transferList: ArrayBuffer[] = [],
  ) {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<{ outputs: Tensor[]; micros: number }>((resolve, reject) => {
      if (this.pending.size === 0) this.thread.ref();
      this.pending.set(id, { resolve, reject });
      const request: SessionRequest = {
        id,
        inputs: inputs as Tensor[],
        outputs: outputs as string[],
      };
      this.thread.postMessage(request, transferList);
    });
  }

  /** Everything waiting on the thread fails with `error`, and so does everything after. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

/** The buffers that belong to one input each, whole: they can move to another thread. */
function ownedBuffers(inputs: readonly Tensor[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of inputs) {
    if (Array.isArray(data)) continue;
    const { buffer } = data;
    if (data.byteOffset === 0 && data.byteLength === buffer.byteLength) {
      buffers.add(buffer as ArrayBuffer);
    }
  }
  return [...buffers];
}

/** The rows of a request: its first input's first dimension (1 for a scalar). */
function rowsOf(inputs: readonly Tensor[]): number {
  return inputs[0]?.shape[0] ?? 1;
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
