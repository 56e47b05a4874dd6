import type { Tensor } from '../tensors/datatypes';
import { BatchingSettings, BatchObserver, DynamicBatcher } from './dynamic-batcher';
import type { OnnxSignature } from './model-inspection';
import type { OnnxSession } from './onnx-session';

/**
 * A loaded ONNX version as serving uses it: inference straight on the session, or through a
 * dynamic batcher when the version has batching on. Unloading waits for inferences in flight,
 * so a session is never released under a running request.
 */
export class OnnxServable {
  private readonly batcher: DynamicBatcher | null;
  private readonly allOutputs: string[];
  private inFlight = 0;
  private retired: (() => void) | null = null;

  constructor(
    private readonly session: OnnxSession,
    batching: BatchingSettings | null,
    observer?: BatchObserver,
  ) {
    this.allOutputs = session.signature.outputs.map((output) => output.name);
    this.batcher =
      batching && batchable(session.signature)
        ? new DynamicBatcher(batching, (inputs) => session.run(inputs, this.allOutputs), observer)
        : null;
  }

  get signature(): OnnxSignature {
    return this.session.signature;
  }

  /** Whether requests are batched together (settings given and every tensor's first dimension open). */
  get batching(): boolean {
    return this.batcher !== null;
  }

  /**
   * Runs inputs already checked against the signature (in its order), returning the outputs
   * named, in that order. Batched runs compute every output and hand back the ones asked for.
   */
  async infer(inputs: Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    this.inFlight++;
    try {
      // An empty batch has nothing to join; it runs on its own.
      if (!this.batcher || inputs[0].shape[0] === 0)
        return await this.session.run(inputs, outputNames);
      const outputs = await this.batcher.submit(inputs, inputs[0].shape[0]);
      return outputNames.map((name) => outputs[this.allOutputs.indexOf(name)]);
    } finally {
      if (--this.inFlight === 0) this.retired?.();
    }
  }

  /** Releases the session once the inferences in flight are done; call once, when unloaded. */
  async retire(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.retired = resolve));
    await this.batcher?.close();
    await this.session.release();
  }
}

/** Batching concatenates along the first dimension: every input and output must leave it open. */
export function batchable(signature: OnnxSignature): boolean {
  return [...signature.inputs, ...signature.outputs].every((tensor) => tensor.shape[0] === -1);
}
