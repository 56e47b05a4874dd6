import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import { AppError } from '../common/errors';
import { ownedBuffers } from '../common/owned-buffers';
import { threadFile } from '../common/thread-file';
import type { ReferenceProfile, ReferenceSamples } from '../ml/reference-profile';
import type { ComparedProfile, LiveComparison, LogPage } from './drift-computations';
import type { DriftReply, DriftRequest } from './drift.thread';
import type { EncodedSource } from '../datasets/column-codec';
import type { DriftFeature, LiveLayout } from './live-columns';

/**
 * Drift computations waiting for the thread at most, beyond the one it runs. Waiting costs no
 * memory (a computation reads the log only once its turn comes), but past this many a client is
 * better told to come back than left to time out.
 */
export const MAX_WAITING_COMPUTATIONS = 16;

/** The drift thread has more computations waiting than MAX_WAITING_COMPUTATIONS. */
export class DriftBusyError extends AppError {
  readonly status = 503;
  readonly title = 'Service unavailable';
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;
type Request = Distribute<DriftRequest>;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One drift over the log: pages go in as they are read, the comparison comes out. */
export interface LiveSampleHandle {
  /** Resolves true once the sample is full: the pages after this one are not needed. */
  add(page: LogPage): Promise<boolean>;
  compare(profile: ComparedProfile, samples: ReferenceSamples): Promise<LiveComparison>;
}

/**
 * The drift thread (drift.thread.ts), seen from the event loop: parsing the logged requests,
 * comparing them with a reference and profiling references run there. One thread, started with
 * the first computation; idle, it does not keep the process alive; it ends at shutdown. One
 * computation at a time: the others wait their turn in order (at most MAX_WAITING_COMPUTATIONS),
 * so a drift's live columns (16 MB for 100,000 rows of 20 numbers) are held once, and the first
 * asked is answered first.
 */
@Injectable()
export class DriftThread implements OnApplicationShutdown {
  private thread: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextJob = 0;
  private busy = false;
  private readonly waiting: (() => void)[] = [];
  private stopped = false;

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const thread = this.thread;
    this.thread = null;
    this.fail(new Error('the service is shutting down'));
    await thread?.terminate();
  }

  /**
   * Runs `read` with a live sample of at most `maxRows` rows in the thread, when the thread's
   * turn comes; the sample is discarded after, whatever happens.
   */
  liveSample<T>(
    layout: LiveLayout,
    maxRows: number,
    read: (sample: LiveSampleHandle) => Promise<T>,
  ): Promise<T> {
    return this.inTurn(async () => {
      const job = this.nextJob++;
      await this.call({ type: 'open', job, layout, maxRows });
      const openedIn = this.thread;
      let open = true;
      const handle: LiveSampleHandle = {
        add: (page) => this.call({ type: 'add', job, page }) as Promise<boolean>,
        compare: async (profile, samples) => {
          // The samples were decoded for this call alone: they move instead of being copied.
          const buffers = ownedBuffers(Object.values(samples));
          const comparison = this.call({ type: 'compare', job, profile, samples }, buffers);
          open = false;
          return (await comparison) as LiveComparison;
        },
      };
      try {
        return await read(handle);
      } finally {
        // A thread that died took the job with it: no new one is started to close it.
        if (open && this.thread === openedIn) {
          void this.call({ type: 'close', job }).catch(() => undefined);
        }
      }
    });
  }

  /**
   * The reference profile of every row of the dataset's columns named by `features`, read in the
   * thread from the dataset's file or bytes, with the version's predictions on them when
   * `artifact` (its JSON artifact) is given. Given bytes move to the thread: the caller must not
   * read them afterwards.
   */
  profile(
    source: EncodedSource,
    features: DriftFeature[],
    artifact: string | null,
    seed: number,
  ): Promise<{ profile: ReferenceProfile; samples: ReferenceSamples }> {
    const buffers = 'encoded' in source ? ownedBuffers([source.encoded]) : [];
    return this.inTurn(
      () =>
        this.call({ type: 'profile', source, features, artifact, seed }, buffers) as Promise<{
          profile: ReferenceProfile;
          samples: ReferenceSamples;
        }>,
    );
  }

  /** Runs `work` once the computations asked before it are done. */
  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) {
      if (this.waiting.length >= MAX_WAITING_COMPUTATIONS) {
        throw new DriftBusyError(
          `${MAX_WAITING_COMPUTATIONS} drift computations are already waiting; try again shortly.`,
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.busy = true;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.busy = false;
    }
  }

  private call(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error('the service is shutting down'));
    const thread = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) thread.ref();
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ ...request, id } as DriftRequest, transfer);
    });
  }

  private started(): Worker {
    if (this.thread) return this.thread;
    const { filename, execArgv } = threadFile(__dirname, 'drift.thread');
    // Evaluated, so that under ts-node the loader in execArgv can require the .ts file.
    const thread = new Worker(`require(${JSON.stringify(filename)})`, { eval: true, execArgv });
    thread.on('message', (reply: DriftReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) thread.unref();
      if ('error' in reply) waiting.reject(new Error(reply.error));
      else waiting.resolve(reply.value);
    });
    // A thread that dies fails what it was doing; the next computation starts another.
    const lost = (error: Error) => {
      if (this.thread !== thread) return;
      this.thread = null;
      this.fail(error);
    };
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new Error(`the drift thread exited (code ${code})`)));
    thread.unref();
    this.thread = thread;
    return thread;
  }

  private fail(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}
