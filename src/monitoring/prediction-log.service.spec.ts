import type { AppConfig } from '../config/app.config';
import { MetricsService } from '../metrics/metrics.service';
import type { MonitoringSettingsService } from './monitoring-settings.service';
import type { NewLogEntry, PredictionLogRepository } from './prediction-log.repository';
import {
  LoggedPrediction,
  PredictionLogLimits,
  PredictionLogService,
} from './prediction-log.service';

function entry(overrides: Partial<LoggedPrediction> = {}): LoggedPrediction {
  return {
    modelId: 'm-1',
    model: 'house',
    version: 1,
    alias: 'production',
    requestId: 'r-1',
    route: 'v1',
    apiKeyId: 'key-1',
    rows: 1,
    latencyMs: 0.5,
    time: new Date('2026-12-01T00:00:00Z'),
    inputs: { instances: [[1, 2, 3]] },
    outputs: { predictions: [4] },
    ...overrides,
  };
}

function setUp(limits: Partial<PredictionLogLimits> = {}, rate = 1) {
  const metrics = new MetricsService({ metrics: { maxModelLabels: 100 } } as AppConfig);
  const inserts: NewLogEntry[][] = [];
  const repository = {
    rowsPerInsert: 3,
    insert: jest.fn(async (rows: NewLogEntry[]) => {
      inserts.push(rows);
    }),
  };
  const settings = { sampleRate: () => rate };
  const log = new PredictionLogService(
    settings as unknown as MonitoringSettingsService,
    repository as unknown as PredictionLogRepository,
    metrics,
    { capacity: 10_000, maxBytes: 1 << 30, flushIntervalMs: 1_000, ...limits },
  );
  const sample = async (series: string) => {
    const line = (await metrics.render()).split('\n').find((l) => l.startsWith(series + ' '));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  return { log, repository, inserts, sample };
}

describe('PredictionLogService', () => {
  it('draws nothing at rate 0 and everything at rate 1', () => {
    expect(Array.from({ length: 100 }, () => setUp({}, 0).log.shouldLog('m'))).not.toContain(true);
    const { log } = setUp({}, 1);
    expect(Array.from({ length: 100 }, () => log.shouldLog('m'))).not.toContain(false);
  });

  it('writes buffered entries per model, and counts them', async () => {
    const { log, inserts, sample } = setUp();
    for (let i = 0; i < 7; i++) log.offer(entry({ requestId: `a${i}` }));
    log.offer(entry({ modelId: 'm-2', model: 'other', requestId: 'b0' }));
    await log.flush();
    expect(inserts.map((rows) => rows.length)).toEqual([7, 1]);
    expect(inserts[0][0]).toMatchObject({
      modelId: 'm-1',
      requestId: 'a0',
      apiKeyId: 'key-1',
      inputs: '{"instances":[[1,2,3]]}',
      outputs: '{"predictions":[4]}',
      createdAt: new Date('2026-12-01T00:00:00Z'),
    });
    expect(await sample('modeldock_prediction_log_entries_total{model="house"}')).toBe(7);
    expect(await sample('modeldock_prediction_log_entries_total{model="other"}')).toBe(1);
  });

  it('drops and counts what arrives while the buffer is full, without throwing', async () => {
    const { log, inserts, sample } = setUp({ capacity: 2 });
    for (let i = 0; i < 5; i++) expect(() => log.offer(entry())).not.toThrow();
    expect(
      await sample('modeldock_prediction_log_dropped_total{model="house",reason="buffer_full"}'),
    ).toBe(3);
    await log.flush();
    expect(inserts.flat()).toHaveLength(2);
    // Room again once written.
    log.offer(entry());
    await log.flush();
    expect(inserts.flat()).toHaveLength(3);
  });

  it('bounds the bytes of inputs held, not only the entries', async () => {
    const { log, inserts, sample } = setUp({ maxBytes: 1_000_000 });
    const image = {
      name: 'x',
      shape: [1, 100_000],
      datatype: 'FP32',
      data: new Float32Array(100_000),
    };
    for (let i = 0; i < 5; i++) log.offer(entry({ route: 'v2', inputs: { inputs: [image] } }));
    await log.flush();
    expect(inserts.flat()).toHaveLength(2);
    expect(
      await sample('modeldock_prediction_log_dropped_total{model="house",reason="buffer_full"}'),
    ).toBe(3);
  });

  it('drops only the entry that cannot be serialised, not its batch', async () => {
    const { log, inserts, sample } = setUp();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    log.offer(entry({ requestId: 'good-1' }));
    log.offer(entry({ requestId: 'bad', inputs: { instances: [circular] } }));
    log.offer(entry({ requestId: 'good-2' }));
    await log.flush();
    expect(inserts.flat().map((row) => row.requestId)).toEqual(['good-1', 'good-2']);
    expect(
      await sample('modeldock_prediction_log_dropped_total{model="house",reason="unserialisable"}'),
    ).toBe(1);
  });

  it("drops and counts what the database refuses, and still writes the other models' entries", async () => {
    const { log, repository, inserts, sample } = setUp();
    repository.insert.mockRejectedValueOnce(new Error('FOREIGN KEY constraint failed'));
    for (let i = 0; i < 5; i++) log.offer(entry({ requestId: `deleted-${i}` }));
    log.offer(entry({ modelId: 'm-2', model: 'other', requestId: 'kept' }));
    await expect(log.flush()).resolves.toBeUndefined();
    expect(inserts.flat().map((row) => row.requestId)).toEqual(['kept']);
    expect(
      await sample('modeldock_prediction_log_dropped_total{model="house",reason="write_failed"}'),
    ).toBe(5);
  });

  it('a flush asked for during another waits for it, then writes what came since', async () => {
    const { log, repository, inserts } = setUp();
    let release!: () => void;
    repository.insert.mockImplementationOnce(
      (rows: NewLogEntry[]) =>
        new Promise<void>((resolve) => {
          release = () => {
            inserts.push(rows);
            resolve();
          };
        }),
    );
    log.offer(entry({ requestId: 'first' }));
    const first = log.flush();
    await new Promise(setImmediate);
    log.offer(entry({ requestId: 'second' }));
    const second = log.flush();
    release();
    await Promise.all([first, second]);
    expect(inserts.map((rows) => rows.map((row) => row.requestId))).toEqual([
      ['first'],
      ['second'],
    ]);
  });

  it('writes what is buffered at shutdown', async () => {
    const { log, inserts } = setUp();
    log.onApplicationBootstrap();
    log.offer(entry());
    await log.beforeApplicationShutdown();
    expect(inserts.flat()).toHaveLength(1);
  });
});
