// The training thread (a piscina thread): imports the maths and the dataset codec only, never Nest
// or the database.
import type { MessagePort } from 'node:worker_threads';
import { EncodedSource, readColumns } from '../datasets/column-codec';
import { train, TrainingError, TrainingInput, TrainingProgress, TrainingResult } from '../ml';
import { lowerThisThreadPriority } from '../common/thread-priority';

// Predictions first: on a busy core the event loop gets most of it (common/thread-priority.ts).
lowerThisThreadPriority();

export interface TrainingTask {
  /** What to train, the columns named by `features` and `target` rather than given. */
  input: Omit<TrainingInput, 'features' | 'target'>;
  features: string[];
  target: string;
  /**
   * The dataset's encoding, of which this thread reads only the named columns: its file (the file
   * store), or its bytes, read from the store by the caller and moved here.
   */
  data: EncodedSource;
  /** Receives throttled TrainingProgress messages. */
  progressPort: MessagePort;
}

export type ThreadOutcome =
  | { ok: true; result: TrainingResult; /** Reading the columns from the file. */ loadMs: number }
  | { ok: false; userError: boolean; message: string };

const PROGRESS_INTERVAL_MS = 100;

export default function runTraining(task: TrainingTask): ThreadOutcome {
  const { progressPort } = task;
  let lastSent = 0;
  const onProgress = (progress: TrainingProgress) => {
    const now = Date.now();
    if (now - lastSent < PROGRESS_INTERVAL_MS) return;
    lastSent = now;
    progressPort.postMessage(progress);
  };
  try {
    const started = performance.now();
    const input = withColumns(task);
    const loadMs = performance.now() - started;
    return { ok: true, result: train(input, onProgress), loadMs };
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

function withColumns({ input, features, target, data }: TrainingTask): TrainingInput {
  const names = [...features, target];
  const { columns } = readColumns(data, names);
  const byName = new Map(columns.map((column) => [column.name, column]));
  const column = (name: string) => {
    const found = byName.get(name);
    if (!found) throw new Error(`column ${name} is missing from the dataset`);
    return found;
  };
  return { ...input, features: features.map(column), target: column(target) };
}
