import type { Tensor } from '../tensors/datatypes';
import { BatchingSettings, BatchObserver, DynamicBatcher } from './dynamic-batcher';
import type { OnnxSignature } from './model-inspection';
import type { OnnxSession } from './onnx-session';

/**
 * A loaded ONNX version as serving uses it: inference straight on the session, or through a
 * dynamic batcher when the version has batching on. Unloading releases the session only once the
 * inferences in flight on it are done, so a running request never loses its session.
 */
export class OnnxServable {
  private readonly batcher: DynamicBatcher | null;
  private readonly allOutputs: string[];
  private inFlight = 0;
  private retiring: { done: Promise<void>; release: () => void } | null = null;

  constructor(
    private readonly session: OnnxSession,
    batching: BatchingSettings | null,
    observer?: BatchObserver,
  ) {
    this.allOutputs = session.signature.outputs.map((output) => output.name);
    this.batcher =
      batching && batchable(session.signature)
        ? new DynamicBatcher(
            batching,
            (inputs) => session.run(inputs, this.allOutputs, { consume: true }),
            observer,
          )
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
   * The inputs are a request's own: their memory may move to the session's thread.
   */
  async infer(inputs: Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    this.inFlight++;
    try {
      // An empty batch has nothing to join; it runs on its own.
      if (!this.batcher || inputs[0].shape[0] === 0) {
        return await this.session.run(inputs, outputNames, { consume: true });
      }
      const outputs = await this.batcher.submit(inputs, inputs[0].shape[0]);
      return outputNames.map((name) => outputs[this.allOutputs.indexOf(name)]);
    } finally {
      if (--this.inFlight === 0) this.retiring?.release();
    }
  }

  /** Releases the session once the inferences in flight are done; call when it is unloaded. */
  retire(): Promise<void> {
    if (!this.retiring) {
      let release!: () => void;
      const idle = new Promise<void>((resolve) => (release = resolve));
      const done = idle.then(async () => {
        await this.batcher?.close();
        await this.session.release();
      });
      this.retiring = { done, release };
      if (this.inFlight === 0) release();
    }
    return this.retiring.done;
  }
}

/** Batching concatenates along the first dimension: every input and output must leave it open. */
export function batchable(signature: OnnxSignature): boolean {
  return [...signature.inputs, ...signature.outputs].every((tensor) => tensor.shape[0] === -1);
}
