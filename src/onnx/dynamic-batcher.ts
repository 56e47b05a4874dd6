/**
 * Dynamic batching for one model: concurrent requests are concatenated along the first (batch)
 * dimension, run once, and the outputs split back (batch-tensors.ts). The rules, exactly:
 *
 * Queueing. submit(inputs, rows) queues a request of `rows` rows; every input's first dimension
 * must be `rows` (so every model input needs a batch dimension; a model with an unbatched input
 * needs another runner). Requests are grouped by compatibility: the same input names, datatypes and
 * trailing dimensions (everything but the first dimension; input order is irrelevant). Only
 * requests of one group share a batch; groups are dispatched separately. Within a group requests
 * keep their order (FIFO): a batch is always a run of consecutive requests from the group's head.
 *
 * When a group is ready. A group is ready when (a) its queued rows reach maxBatchSize (counting all
 * of them: a request that will not fit in the next batch also releases those ahead of it), or (b)
 * its oldest request has waited maxQueueDelayMicros since submit, or (c) close() was called. A
 * request with more rows than maxBatchSize satisfies (a) on its own, so it never waits for the
 * delay. A group that is not ready waits, even if nothing is running: the delay is the price paid
 * for the chance of a bigger batch. maxQueueDelayMicros 0 means "no waiting".
 *
 * Dispatch. At most one batch runs at a time per batcher (onnxruntime parallelises inside a run on
 * its own threads; running batches side by side would only compete for the same cores). When
 * nothing is running and some group is ready, the ready group whose oldest request arrived first is
 * dispatched: its head request, then the following ones while the batch stays within maxBatchSize
 * rows. A request is never split, so a request larger than maxBatchSize runs as a batch of its own,
 * and a batch may be smaller than maxBatchSize when the next request does not fit. While a batch
 * runs, new requests queue up; when it finishes the next ready group is dispatched at once
 * (requests that waited through the run have usually passed their delay, so under load the next
 * batch forms from whatever arrived meanwhile).
 *
 * Timing. Requests are scheduled, never dispatched inside submit(): after a submit the scheduler
 * runs on setImmediate (or, if a batch is running, when it finishes), so requests submitted in the
 * same event-loop turn (a Promise.all of submits) can share a batch. With maxQueueDelayMicros >=
 * 1000 the delay is measured with performance.now() and waited for with setTimeout, rounded up to
 * whole milliseconds. Node timers have ~1 ms granularity and fire late under load; one that fires
 * before the deadline (by performance.now()) is re-armed, so a batch never leaves before its delay
 * unless it is full (or closing), and typically leaves up to a millisecond or so after it, plus
 * however long the batch before it still runs. Below 1000 µs a timer cannot express the delay, and
 * waiting it out would mean busy-waiting, which this never does: any delay under 1000 µs is treated
 * as 0, i.e. a request is ready at the setImmediate that follows its submit (once the event-loop
 * turn it arrived in has ended). An idle batcher holds at most one timer; nothing polls.
 *
 * Results and errors. Each request's promise resolves with one tensor per output of the model (the
 * runner's outputs, in their order), holding exactly that request's rows. Typed-array data are
 * views into the batch's output, BYTES data copies (see batch-tensors.ts; `run` must return fresh
 * output buffers each call, as onnxruntime-node's session.run does). If `run` throws or rejects, or
 * its outputs cannot be split (an output without a batch dimension, or the wrong number of rows),
 * every request of that batch rejects with that same error and the batcher carries on with the next
 * batch. A batch is only as good as its worst request: callers must validate inputs against the
 * model (names, datatypes, trailing dimensions, values) before submitting, so that one bad request
 * cannot fail the requests batched with it. submit() itself rejects, without queueing, a request
 * with 0 rows or a `rows` other than its inputs' first dimension, no inputs, duplicate input names
 * or a malformed tensor (data not of the datatype's array kind, or not the shape's element count),
 * and any request after close().
 *
 * close() stops accepting requests (later submits reject), makes every queued group ready at once
 * (nothing further can join them) and resolves when everything queued and running has been run and
 * answered. It never rejects; calling it again returns the same promise.
 *
 * Observer (for metrics). queued(seconds) is called once per request when its batch is dispatched,
 * with the time it spent queued. batchRan(rows, requests) is called once per batch when `run` has
 * settled, successfully or not, with the batch's rows and request count. Observer exceptions are
 * caught and ignored so metrics code cannot break batching; do not throw.
 */
import type { Tensor } from '../tensors/datatypes';
import { batchKey, checkBatchable, concatRows, splitRows } from './batch-tensors';

export interface BatchingSettings {
  /** The most rows a batch holds (a single larger request still runs, alone). Integer >= 1. */
  maxBatchSize: number;
  /** How long the oldest queued request may wait for a fuller batch; under 1000 means 0. */
  maxQueueDelayMicros: number;
}

export interface BatchObserver {
  /** A batch of `size` rows made of `requests` requests has run (successfully or not). */
  batchRan(size: number, requests: number): void;
  /** A request was dispatched after `delaySeconds` in the queue. */
  queued(delaySeconds: number): void;
}

/** Runs one batch: the concatenated inputs in, outputs batched along dimension 0 out. */
export type BatchRunner = (inputs: Tensor[]) => Promise<Tensor[]>;

interface Pending {
  readonly inputs: Tensor[];
  readonly rows: number;
  /** performance.now() at submit. */
  readonly arrived: number;
  readonly resolve: (outputs: Tensor[]) => void;
  readonly reject: (error: unknown) => void;
}

interface Group {
  readonly key: string;
  readonly queue: Pending[];
  /** The rows of all the requests in `queue`. */
  rows: number;
}

export class DynamicBatcher {
  private readonly maxBatchSize: number;
  /** The wait before a group is ready, in performance.now() milliseconds: 0 below 1000 µs. */
  private readonly delayMs: number;
  /** Queued requests by batchKey, in order of their groups' creation. */
  private readonly groups = new Map<string, Group>();
  private running = false;
  private immediate: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  constructor(
    settings: BatchingSettings,
    private readonly run: BatchRunner,
    private readonly observer?: BatchObserver,
  ) {
    const { maxBatchSize, maxQueueDelayMicros } = settings;
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
      throw new Error(`maxBatchSize must be an integer of at least 1, not ${maxBatchSize}`);
    }
    if (!Number.isFinite(maxQueueDelayMicros) || maxQueueDelayMicros < 0) {
      throw new Error(
        `maxQueueDelayMicros must be a non-negative number, not ${maxQueueDelayMicros}`,
      );
    }
    this.maxBatchSize = maxBatchSize;
    this.delayMs = maxQueueDelayMicros < 1000 ? 0 : maxQueueDelayMicros / 1000;
  }

  /** Queues a request of `rows` rows; resolves with its rows of the model's outputs. */
  submit(inputs: Tensor[], rows: number): Promise<Tensor[]> {
    if (this.closing !== null) return Promise.reject(new Error('the batcher is closed'));
    let key: string;
    try {
      key = checkRequest(inputs, rows);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Tensor[]>((resolve, reject) => {
      let group = this.groups.get(key);
      if (group === undefined) {
        group = { key, queue: [], rows: 0 };
        this.groups.set(key, group);
      }
      group.queue.push({ inputs, rows, arrived: performance.now(), resolve, reject });
      group.rows += rows;
      if (!this.running && this.immediate === null) {
        this.immediate = setImmediate(() => {
          this.immediate = null;
          this.schedule();
        });
      }
    });
  }

  /** Stops accepting requests; resolves once everything queued and running has been answered. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = new Promise<void>((resolve) => (this.drained = resolve));
      this.schedule();
    }
    return this.closing;
  }

  /** Dispatches the next ready batch if nothing runs, or arms the timer for the next deadline. */
  private schedule(): void {
    if (this.running) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const now = performance.now();
    let next: Group | null = null;
    let deadline = Infinity;
    for (const group of this.groups.values()) {
      const arrived = group.queue[0].arrived;
      const due = arrived + this.delayMs;
      if (this.closing !== null || group.rows >= this.maxBatchSize || now >= due) {
        if (next === null || arrived < next.queue[0].arrived) next = group;
      } else {
        deadline = Math.min(deadline, due);
      }
    }
    if (next !== null) {
      this.dispatch(next, now);
    } else if (deadline !== Infinity) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.schedule();
        },
        Math.max(1, Math.ceil(deadline - now)),
      );
    } else if (this.drained !== null) {
      this.drained();
      this.drained = null;
    }
  }

  private dispatch(group: Group, now: number): void {
    let count = 1;
    let rows = group.queue[0].rows;
    while (count < group.queue.length && rows + group.queue[count].rows <= this.maxBatchSize) {
      rows += group.queue[count].rows;
      count++;
    }
    const batch = group.queue.splice(0, count);
    group.rows -= rows;
    if (group.queue.length === 0) this.groups.delete(group.key);
    this.running = true;
    for (const request of batch) this.observe((o) => o.queued((now - request.arrived) / 1000));
    void this.execute(batch, rows);
  }

  private async execute(batch: Pending[], rows: number): Promise<void> {
    try {
      const outputs = await this.run(concatRows(batch.map((request) => request.inputs)));
      const split = splitRows(
        outputs,
        batch.map((request) => request.rows),
      );
      batch.forEach((request, index) => request.resolve(split[index]));
    } catch (error) {
      for (const request of batch) request.reject(error);
    }
    this.observe((o) => o.batchRan(rows, batch.length));
    this.running = false;
    this.schedule();
  }

  private observe(call: (observer: BatchObserver) => void): void {
    if (this.observer === undefined) return;
    try {
      call(this.observer);
    } catch {
      // Metrics must not break batching (see the top comment).
    }
  }
}

/** Checks a request before it is queued (see the top comment); returns its batchKey. */
function checkRequest(inputs: readonly Tensor[], rows: number): string {
  if (!Number.isInteger(rows) || rows < 1) {
    throw new Error(`a request must have at least one row, not ${rows}`);
  }
  if (inputs.length === 0) throw new Error('a request must have at least one input');
  for (const input of inputs) {
    checkBatchable(input);
    if (input.shape[0] !== rows) {
      throw new Error(
        `input "${input.name}" has shape [${input.shape.join(', ')}]: its first dimension must be the request's ${rows} rows`,
      );
    }
  }
  return batchKey(inputs);
}
