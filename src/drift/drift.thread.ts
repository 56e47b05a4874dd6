// The drift thread: parses logged requests into live columns, compares them with a reference, and
// profiles references, so that none of it holds the event loop. It imports the maths and the
// parsing only, never Nest or the database. A plain worker with a message per step, not piscina:
// a drift is a conversation (open, pages of the log, compare) that keeps its live columns here
// between messages, which piscina's one-call tasks do not model.
import { parentPort } from 'node:worker_threads';
import type { ReferenceSamples } from '../ml/reference-profile';
import {
  ComparedProfile,
  LiveComparison,
  LiveSample,
  LogPage,
  profileColumns,
} from './drift-computations';
import type { EncodedSource } from '../datasets/column-codec';
import type { DriftFeature, LiveLayout } from './live-columns';
import { lowerThisThreadPriority } from '../common/thread-priority';

// Predictions first: on a busy core the event loop gets most of it (common/thread-priority.ts).
lowerThisThreadPriority();

/** What the thread is asked; each request gets one reply with its id. */
export type DriftRequest =
  | { id: number; type: 'open'; job: number; layout: LiveLayout; maxRows: number }
  /** Answered true once the job's sample is full: later pages are not needed. */
  | { id: number; type: 'add'; job: number; page: LogPage }
  /** Answered with the LiveComparison; the job ends. */
  | {
      id: number;
      type: 'compare';
      job: number;
      profile: ComparedProfile;
      samples: ReferenceSamples;
    }
  | { id: number; type: 'close'; job: number }
  /** Answered with the reference profile and its samples. */
  | {
      id: number;
      type: 'profile';
      source: EncodedSource;
      features: DriftFeature[];
      artifact: string | null;
      seed: number;
    };

export type DriftReply = { id: number; value: unknown } | { id: number; error: string };

const jobs = new Map<number, LiveSample>();

function handle(request: DriftRequest): { value: unknown; transfer: ArrayBuffer[] } {
  switch (request.type) {
    case 'open':
      jobs.set(request.job, new LiveSample(request.layout, request.maxRows));
      return { value: null, transfer: [] };
    case 'add':
      return { value: sample(request.job).add(request.page), transfer: [] };
    case 'compare': {
      const value: LiveComparison = sample(request.job).compare(request.profile, request.samples);
      jobs.delete(request.job);
      return { value, transfer: [] };
    }
    case 'close':
      jobs.delete(request.job);
      return { value: null, transfer: [] };
    case 'profile': {
      const { source, features, artifact, seed } = request;
      const value = profileColumns(source, features, artifact, seed);
      // The samples are this thread's own arrays: they move back instead of being copied.
      const transfer = Object.values(value.samples).map((values) => values.buffer as ArrayBuffer);
      return { value, transfer: [...new Set(transfer)] };
    }
  }
}

function sample(job: number): LiveSample {
  const found = jobs.get(job);
  if (!found) throw new Error(`drift job ${job} is not open`);
  return found;
}

parentPort?.on('message', (request: DriftRequest) => {
  let reply: DriftReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const handled = handle(request);
    reply = { id: request.id, value: handled.value };
    transfer = handled.transfer;
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort?.postMessage(reply, transfer);
});
