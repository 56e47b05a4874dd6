import { onnx } from 'onnx-proto';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { Datatype, Tensor } from '../tensors/datatypes';
import { DynamicBatcher, type BatchObserver, type BatchingSettings } from './dynamic-batcher';

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fp32(name: string, shape: number[], values?: number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(values ?? Array.from({ length: count }, (_, i) => i + 1));
  return { name, datatype: 'FP32', shape, data };
}

function typed(name: string, datatype: Datatype, shape: number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { name, datatype, shape, data: new Int32Array(count).map((_, i) => i + 1) };
}

function doubled(data: Tensor['data']): Tensor['data'] {
  if (Array.isArray(data)) return data.map((s) => s + s);
  if (data instanceof BigInt64Array) return data.map((x) => x * 2n);
  if (data instanceof BigUint64Array) return data.map((x) => x * 2n);
  return (data as Float32Array).map((x) => x * 2);
}

/** What a request should get back from `Doubler`: each input doubled, as output `<name>2`. */
function expected(inputs: Tensor[]): unknown[] {
  return inputs.map((t) => ({
    name: `${t.name}2`,
    datatype: t.datatype,
    shape: t.shape,
    data: Array.from(doubled(t.data) as ArrayLike<unknown>),
  }));
}

function plain(outputs: Tensor[]): unknown[] {
  return outputs.map((t) => ({ ...t, data: Array.from(t.data as ArrayLike<unknown>) }));
}

/** Turns of the event loop, for the batcher's setImmediate scheduling and instant runs. */
async function settle(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface Batch {
  rows: number;
  shapes: number[][];
  datatypes: string[];
}

/** A fake model: doubles every input; records its batches and how many ran at once. */
class Doubler {
  readonly batches: Batch[] = [];
  active = 0;
  mostActive = 0;
  /** Optional behaviour of call n (from 0): a delay in ms, a gate to wait on, or a failure. */
  before?: (call: number) => Promise<void> | void;
  /** Replaces the outputs, e.g. with ones that lack a batch dimension. */
  outputs?: (inputs: Tensor[]) => Tensor[];

  readonly run = (inputs: Tensor[]): Promise<Tensor[]> => {
    const call = this.batches.length;
    this.batches.push({
      rows: inputs[0].shape[0],
      shapes: inputs.map((t) => t.shape),
      datatypes: inputs.map((t) => t.datatype),
    });
    // Synchronous throws from a runner that is not an async function are covered too.
    const before = this.before?.(call);
    return (async () => {
      this.active++;
      this.mostActive = Math.max(this.mostActive, this.active);
      try {
        await before;
        if (this.outputs) return this.outputs(inputs);
        return inputs.map((t) => ({
          name: `${t.name}2`,
          datatype: t.datatype,
          shape: [...t.shape],
          data: doubled(t.data),
        }));
      } finally {
        this.active--;
      }
    })();
  };

  get sizes(): number[] {
    return this.batches.map((batch) => batch.rows);
  }
}

class Recorder implements BatchObserver {
  readonly ran: [number, number][] = [];
  readonly waits: number[] = [];
  batchRan(size: number, requests: number): void {
    this.ran.push([size, requests]);
  }
  queued(delaySeconds: number): void {
    this.waits.push(delaySeconds);
  }
}

function batcher(settings: BatchingSettings, model = new Doubler(), observer?: BatchObserver) {
  return { model, batcher: new DynamicBatcher(settings, model.run, observer) };
}

function useFakeClock(): void {
  // setTimeout and performance.now() are faked; setImmediate stays real, so settle() works.
  jest.useFakeTimers({
    doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask'],
  });
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, promise };
}

afterEach(() => {
  jest.useRealTimers();
});

describe('DynamicBatcher', () => {
  it.each([0, 2000])(
    'gives each of 200 concurrent requests exactly its own rows back (delay %d µs)',
    async (maxQueueDelayMicros) => {
      const next = random(maxQueueDelayMicros + 1);
      const model = new Doubler();
      model.before = () => new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 3)));
      const recorder = new Recorder();
      const { batcher: b } = batcher({ maxBatchSize: 16, maxQueueDelayMicros }, model, recorder);

      const requests = Array.from({ length: 200 }, () => {
        const rows = 1 + Math.floor(next() * 5);
        const values = Array.from({ length: rows * 3 }, () => Math.round(next() * 1e6) / 64);
        return [fp32('x', [rows, 3], values)];
      });
      // Some arrive at once, some spread over a few turns while batches run.
      const results = await Promise.all(
        requests.map(async (inputs, index) => {
          if (index % 4 === 0) await settle(index % 7);
          return b.submit(inputs, inputs[0].shape[0]);
        }),
      );

      results.forEach((outputs, index) =>
        expect(plain(outputs)).toEqual(expected(requests[index])),
      );
      const rows = requests.reduce((sum, inputs) => sum + inputs[0].shape[0], 0);
      expect(model.sizes.every((size) => size <= 16)).toBe(true);
      expect(model.sizes.reduce((a, b) => a + b, 0)).toBe(rows);
      expect(model.batches.length).toBeLessThan(200);
      expect(model.mostActive).toBe(1);
      expect(recorder.waits).toHaveLength(200);
      expect(recorder.waits.every((seconds) => seconds >= 0)).toBe(true);
      expect(recorder.ran.map(([size]) => size)).toEqual(model.sizes);
      expect(recorder.ran.reduce((sum, [, count]) => sum + count, 0)).toBe(200);
      await b.close();
    },
  );

  it('fills batches in arrival order, never past maxBatchSize and never splitting a request', async () => {
    useFakeClock();
    const { model, batcher: b } = batcher({ maxBatchSize: 8, maxQueueDelayMicros: 60_000_000 });
    const sizes = [3, 3, 3, 1, 8, 2];
    const requests = sizes.map((rows, index) => [
      fp32(
        'x',
        [rows, 2],
        Array.from({ length: rows * 2 }, (_, i) => index * 100 + i),
      ),
    ]);
    const results = requests.map((inputs) => track(b.submit(inputs, inputs[0].shape[0])));

    await settle();
    // 20 rows queued: full batches go at once; 3+3 (another 3 would make 9), 3+1 (8 would make
    // 12), 8; the last 2 rows are not a full batch and wait for the delay.
    expect(model.sizes).toEqual([6, 4, 8]);
    expect(results.map((r) => r.settled())).toEqual([true, true, true, true, true, false]);

    jest.advanceTimersByTime(60_000);
    await settle();
    expect(model.sizes).toEqual([6, 4, 8, 2]);
    for (const [index, result] of results.entries()) {
      expect(plain(await result.promise)).toEqual(expected(requests[index]));
    }
  });

  it('runs a request larger than maxBatchSize alone and at once', async () => {
    useFakeClock();
    const { model, batcher: b } = batcher({ maxBatchSize: 4, maxQueueDelayMicros: 60_000_000 });

    const big = track(b.submit([fp32('x', [10, 2])], 10));
    await settle();
    expect(model.sizes).toEqual([10]);
    expect(plain(await big.promise)).toEqual(expected([fp32('x', [10, 2])]));

    // Behind a small request, it releases that one too (queued rows passed maxBatchSize), but
    // neither shares a batch with the other.
    const small = track(b.submit([fp32('x', [1, 2])], 1));
    const again = track(b.submit([fp32('x', [5, 2])], 5));
    await settle();
    expect(model.sizes).toEqual([10, 1, 5]);
    expect([small.settled(), again.settled()]).toEqual([true, true]);
  });

  it('dispatches a partial batch when its oldest request has waited maxQueueDelayMicros', async () => {
    useFakeClock();
    const { model, batcher: b } = batcher({ maxBatchSize: 8, maxQueueDelayMicros: 5000 });

    const first = track(b.submit([fp32('x', [2, 2])], 2));
    await settle();
    jest.advanceTimersByTime(3);
    const second = track(b.submit([fp32('x', [1, 2])], 1));
    await settle();
    jest.advanceTimersByTime(1);
    await settle();
    expect(model.sizes).toEqual([]);

    // 5 ms after the first request: the second, 2 ms old, goes with it.
    jest.advanceTimersByTime(1);
    await settle();
    expect(model.sizes).toEqual([3]);
    expect([first.settled(), second.settled()]).toEqual([true, true]);

    // A new request starts a new wait.
    const third = track(b.submit([fp32('x', [1, 2])], 1));
    await settle();
    jest.advanceTimersByTime(4);
    await settle();
    expect(third.settled()).toBe(false);
    jest.advanceTimersByTime(1);
    await settle();
    expect(model.sizes).toEqual([3, 1]);
    expect(third.settled()).toBe(true);
  });

  it('treats a delay under 1000 µs as one turn of the event loop (setImmediate, no timer)', async () => {
    useFakeClock();
    const { model, batcher: b } = batcher({ maxBatchSize: 8, maxQueueDelayMicros: 999 });

    const results = [1, 2].map((rows) => track(b.submit([fp32('x', [rows, 2])], rows)));
    await settle();
    expect(model.sizes).toEqual([3]);
    expect(results.map((r) => r.settled())).toEqual([true, true]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects every request of a failed batch with its error and carries on', async () => {
    const model = new Doubler();
    const boom = new Error('boom');
    const sync = new Error('thrown synchronously');
    model.before = (call) => {
      if (call === 0) return Promise.reject(boom);
      if (call === 2) throw sync;
    };
    const { batcher: b } = batcher({ maxBatchSize: 2, maxQueueDelayMicros: 0 }, model);

    const results = [1, 2, 3, 4].map((value) => b.submit([fp32('x', [1, 1], [value])], 1));
    const settled = await Promise.allSettled(results);
    expect(model.sizes).toEqual([2, 2]);
    expect(settled.map((s) => s.status)).toEqual([
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect((settled[0] as PromiseRejectedResult).reason).toBe(boom);
    expect((settled[1] as PromiseRejectedResult).reason).toBe(boom);
    expect(plain((settled[3] as PromiseFulfilledResult<Tensor[]>).value)).toEqual(
      expected([fp32('x', [1, 1], [4])]),
    );

    await expect(b.submit([fp32('x', [1, 1])], 1)).rejects.toBe(sync);
    expect(plain(await b.submit([fp32('x', [1, 1], [7])], 1))).toEqual(
      expected([fp32('x', [1, 1], [7])]),
    );
    await b.close();
  });

  it('rejects a batch whose outputs have no batch dimension', async () => {
    const model = new Doubler();
    model.outputs = () => [fp32('scores', [3])];
    const { batcher: b } = batcher({ maxBatchSize: 8, maxQueueDelayMicros: 0 }, model);

    const results = await Promise.allSettled([1, 1].map(() => b.submit([fp32('x', [1, 2])], 1)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(
      /output "scores" has shape \[3\], not 2 rows/,
    );
  });

  it('batches only requests of the same input names, datatypes and trailing dimensions', async () => {
    const { model, batcher: b } = batcher({ maxBatchSize: 16, maxQueueDelayMicros: 0 });
    const requests: Tensor[][] = [
      [fp32('x', [1, 3])],
      [fp32('x', [2, 4])],
      [fp32('x', [2, 3])],
      [typed('x', 'INT32', [1, 3])],
      [fp32('z', [1]), fp32('x', [1, 3])],
      [fp32('x', [1, 4])],
      [fp32('x', [3, 3]), fp32('z', [3])],
    ];

    const results = await Promise.all(
      requests.map((inputs) => b.submit(inputs, inputs[0].shape[0])),
    );

    // One batch per kind, oldest first; inputs in the first request's order.
    expect(model.batches).toEqual([
      { rows: 3, shapes: [[3, 3]], datatypes: ['FP32'] },
      { rows: 3, shapes: [[3, 4]], datatypes: ['FP32'] },
      { rows: 1, shapes: [[1, 3]], datatypes: ['INT32'] },
      { rows: 4, shapes: [[4], [4, 3]], datatypes: ['FP32', 'FP32'] },
    ]);
    results.forEach((outputs, index) => {
      // Outputs follow the batch's (its first request's) order, not this request's.
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      expect(plain(outputs).sort(byName as never)).toEqual(
        expected(requests[index]).sort(byName as never),
      );
    });
  });

  it('close() runs what is queued at once, waits for it, and refuses later requests', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const model = new Doubler();
    model.before = () => gate;
    const { batcher: b } = batcher({ maxBatchSize: 4, maxQueueDelayMicros: 60_000_000 }, model);

    const results = Array.from({ length: 10 }, (_, i) =>
      track(b.submit([fp32('x', [1, 1], [i])], 1)),
    );
    await settle();
    expect(model.sizes).toEqual([4]); // a full batch, running; 6 rows wait for the minute-long delay

    const closed = track(b.close());
    expect(b.close()).toBe(closed.promise);
    await expect(b.submit([fp32('x', [1, 1])], 1)).rejects.toThrow(/closed/);
    await settle();
    expect(closed.settled()).toBe(false);

    open();
    await closed.promise;
    expect(model.sizes).toEqual([4, 4, 2]);
    expect(results.every((r) => r.settled())).toBe(true);
    for (const [i, r] of results.entries()) {
      expect(plain(await r.promise)).toEqual(expected([fp32('x', [1, 1], [i])]));
    }
    expect(model.mostActive).toBe(1);
  });

  it('close() of an idle batcher resolves at once', async () => {
    const { batcher: b } = batcher({ maxBatchSize: 4, maxQueueDelayMicros: 1000 });
    await expect(b.close()).resolves.toBeUndefined();
  });

  it('refuses bad requests without queueing them', async () => {
    const { model, batcher: b } = batcher({ maxBatchSize: 4, maxQueueDelayMicros: 0 });

    await expect(b.submit([fp32('x', [0, 2])], 0)).rejects.toThrow(/at least one row, not 0/);
    await expect(b.submit([fp32('x', [2, 2])], 1)).rejects.toThrow(/must be the request's 1 rows/);
    await expect(b.submit([], 1)).rejects.toThrow(/at least one input/);
    await expect(b.submit([fp32('x', [1]), fp32('x', [1])], 1)).rejects.toThrow(/given twice/);
    await expect(
      b.submit([{ ...fp32('x', [1, 2]), data: new Float32Array(3) }], 1),
    ).rejects.toThrow(/holds 2 elements, its data 3/);
    await settle();
    expect(model.batches).toEqual([]);
  });

  it('refuses bad settings', () => {
    const run = new Doubler().run;
    expect(() => new DynamicBatcher({ maxBatchSize: 0, maxQueueDelayMicros: 0 }, run)).toThrow(
      /maxBatchSize/,
    );
    expect(() => new DynamicBatcher({ maxBatchSize: 1.5, maxQueueDelayMicros: 0 }, run)).toThrow(
      /maxBatchSize/,
    );
    expect(() => new DynamicBatcher({ maxBatchSize: 1, maxQueueDelayMicros: -1 }, run)).toThrow(
      /maxQueueDelayMicros/,
    );
    expect(() => new DynamicBatcher({ maxBatchSize: 1, maxQueueDelayMicros: NaN }, run)).toThrow(
      /maxQueueDelayMicros/,
    );
  });

  it('keeps batching when the observer throws', async () => {
    const observer: BatchObserver = {
      batchRan: () => {
        throw new Error('metrics broke');
      },
      queued: () => {
        throw new Error('metrics broke');
      },
    };
    const { batcher: b } = batcher(
      { maxBatchSize: 4, maxQueueDelayMicros: 0 },
      undefined,
      observer,
    );
    expect(plain(await b.submit([fp32('x', [1, 2])], 1))).toEqual(expected([fp32('x', [1, 2])]));
    expect(plain(await b.submit([fp32('x', [2, 2])], 2))).toEqual(expected([fp32('x', [2, 2])]));
  });

  it('batches a real onnxruntime session: 64 concurrent rows, each answered right', async () => {
    // y = x + x, x FLOAT [N, 3] with a symbolic batch dimension.
    const tensorType = {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }] },
    };
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'dynamic-batcher.spec',
      graph: {
        name: 'double',
        node: [{ opType: 'Add', input: ['x', 'x'], output: ['y'] }],
        input: [{ name: 'x', type: { tensorType } }],
        output: [{ name: 'y', type: { tensorType } }],
      },
    }).finish();
    const session = await InferenceSession.create(model);
    const sizes: number[] = [];
    const run = async (inputs: Tensor[]): Promise<Tensor[]> => {
      sizes.push(inputs[0].shape[0]);
      const feeds: Record<string, OrtTensor> = {};
      for (const t of inputs)
        feeds[t.name] = new OrtTensor('float32', t.data as Float32Array, t.shape);
      const results = await session.run(feeds);
      return session.outputNames.map((name) => ({
        name,
        datatype: 'FP32',
        shape: [...results[name].dims],
        data: results[name].data as Float32Array,
      }));
    };
    const b = new DynamicBatcher({ maxBatchSize: 16, maxQueueDelayMicros: 0 }, run);
    try {
      const rows = Array.from({ length: 64 }, (_, i) => [i, -i / 4, i * 1000 + 0.5]);
      const results = await Promise.all(rows.map((row) => b.submit([fp32('x', [1, 3], row)], 1)));

      // Checked after every batch has run: earlier batches' views are still intact.
      results.forEach((outputs, i) => {
        expect(outputs.map((t) => [t.name, t.datatype, t.shape])).toEqual([['y', 'FP32', [1, 3]]]);
        expect(Array.from(outputs[0].data as Float32Array)).toEqual(rows[i].map((v) => v * 2));
      });
      expect(sizes.length).toBeLessThan(64);
      expect(sizes.every((size) => size <= 16)).toBe(true);
      expect(sizes.reduce((a, c) => a + c, 0)).toBe(64);
      await b.close();
    } finally {
      await session.release();
    }
  });
});
