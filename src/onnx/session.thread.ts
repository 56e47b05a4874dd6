// An ONNX version's thread: it holds the session and runs its inferences, so that onnxruntime,
// which runs synchronously on the calling thread, never holds the event loop. A plain worker with
// a message per request: piscina's task machinery cost ~190 µs per call here, this ~50 µs.
import { parentPort, workerData } from 'node:worker_threads';
import type { Tensor } from '../tensors/datatypes';
import { createOrtSession, runOrtSession } from './ort-session';

export interface SessionThreadData {
  model: Uint8Array;
  intraOpThreads: number;
}

/** Run the graph on these inputs for these outputs; without inputs, only wait for the load. */
export interface SessionRequest {
  id: number;
  inputs: Tensor[];
  outputs: string[];
}

export type SessionReply =
  { id: number; outputs: Tensor[]; micros: number } | { id: number; error: string };

const { model, intraOpThreads } = workerData as SessionThreadData;
const loading = createOrtSession(model, intraOpThreads);
loading.catch(() => undefined); // reported to the first request

parentPort?.on('message', ({ id, inputs, outputs }: SessionRequest) => {
  const started = performance.now();
  loading
    .then((session) => (inputs.length === 0 ? [] : runOrtSession(session, inputs, outputs)))
    .then(
      (results) =>
        parentPort?.postMessage({
          id,
          outputs: results,
          micros: (performance.now() - started) * 1000,
        } satisfies SessionReply),
      (error: unknown) =>
        parentPort?.postMessage({
          id,
          error: error instanceof Error ? error.message : String(error),
        } satisfies SessionReply),
    );
});
