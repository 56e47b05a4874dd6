// The training thread (a piscina thread): imports the maths only, never Nest or the database.
import type { MessagePort } from 'node:worker_threads';
import { train, TrainingError, TrainingInput, TrainingProgress, TrainingResult } from '../ml';

export interface TrainingTask {
  input: TrainingInput;
  /** Receives throttled TrainingProgress messages. */
  progressPort: MessagePort;
}

export type ThreadOutcome =
  { ok: true; result: TrainingResult } | { ok: false; userError: boolean; message: string };

const PROGRESS_INTERVAL_MS = 100;

export default function runTraining({ input, progressPort }: TrainingTask): ThreadOutcome {
  let lastSent = 0;
  const onProgress = (progress: TrainingProgress) => {
    const now = Date.now();
    if (now - lastSent < PROGRESS_INTERVAL_MS) return;
    lastSent = now;
    progressPort.postMessage(progress);
  };
  try {
    return { ok: true, result: train(input, onProgress) };
  } catch (error) {
    // Errors lose their class across threads; say here whether the user can act on it.
    const userError = error instanceof TrainingError;
    return {
      ok: false,
      userError,
      message: error instanceof Error ? error.message : String(error),
    };
  } finally {
    progressPort.close();
  }
}
