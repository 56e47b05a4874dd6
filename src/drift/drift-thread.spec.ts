import { DriftBusyError, DriftThread, MAX_WAITING_COMPUTATIONS } from './drift-thread';
import { ENTRY_SEPARATOR, FIELD_SEPARATOR } from './drift-computations';
import type { LiveLayout } from './live-columns';

const layout: LiveLayout = {
  features: [{ name: 'x', kind: 'number' }],
  predictionKind: null,
  predictionOutputs: [],
};

const entry = (x: number) =>
  ['v1', JSON.stringify({ instances: [[x]] }), '{}'].join(FIELD_SEPARATOR);

describe('DriftThread', () => {
  let thread: DriftThread;

  beforeEach(() => {
    thread = new DriftThread();
  });

  afterEach(async () => {
    await thread.onApplicationShutdown();
  });

  it('parses pages in its thread and says when the sample is full', async () => {
    const rows = await thread.liveSample(layout, 3, async (sample) => {
      expect(await sample.add({ entries: [entry(1), entry(2)].join(ENTRY_SEPARATOR) })).toBe(false);
      expect(await sample.add({ entries: [entry(3), entry(4)].join(ENTRY_SEPARATOR) })).toBe(true);
      const comparison = await sample.compare({ features: [], predictions: null }, {});
      return comparison.rows;
    });
    expect(rows).toBe(3);
  });

  it('runs one computation at a time, in order, and refuses more than the waiting limit', async () => {
    const order: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = thread.liveSample(layout, 10, async () => {
      await held;
      order.push(0);
    });
    const waiting = Array.from({ length: MAX_WAITING_COMPUTATIONS }, (_, i) =>
      thread.liveSample(layout, 10, async () => {
        order.push(i + 1);
      }),
    );
    await expect(thread.liveSample(layout, 10, async () => undefined)).rejects.toBeInstanceOf(
      DriftBusyError,
    );
    release();
    await Promise.all([first, ...waiting]);
    expect(order).toEqual(Array.from({ length: MAX_WAITING_COMPUTATIONS + 1 }, (_, i) => i));
  });
});
