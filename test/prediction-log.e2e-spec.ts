import { parse } from 'csv-parse/sync';
import { setTimeout as sleep } from 'node:timers/promises';
import { MonitoringSettingsService } from '../src/monitoring/monitoring-settings.service';
import { PredictionLogRetentionService } from '../src/monitoring/prediction-log-retention.service';
import {
  DEFAULT_LIMITS,
  LoggedPrediction,
  PredictionLogService,
} from '../src/monitoring/prediction-log.service';
import { housingArtifact, housingInstances } from './support/fixtures';
import { requestJson, ServiceProcess, spawnService } from './support/service-process';
import { databaseText } from './support/test-database';
import {
  authHeaders,
  HttpResult,
  makeDataDir,
  removeDataDir,
  startApp,
  TestApp,
} from './support/test-app';

/** The value of one sample of the Prometheus text exposition, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

function expectProblem(res: HttpResult, status: number, field?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  if (field) expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
}

describe('prediction log', () => {
  let dataDir: string;
  let api: TestApp;
  let log: PredictionLogService;
  /** A predictor key: its id is logged, the key itself never. */
  let client: { id: string; key: string };
  const row = housingInstances()[0];

  const importVersion = async (model: string, alias?: string) => {
    const res = await api.request('POST', `/v1/models/${model}/versions`, {
      artifact: housingArtifact(1),
      ...(alias ? { alias } : {}),
    });
    expect(res.status).toBe(201);
    return res.body.version as number;
  };
  const setMonitoring = async (model: string, body: Record<string, unknown>) => {
    const res = await api.request('PUT', `/v1/models/${model}/monitoring`, body);
    expect(res.status).toBe(200);
    return res.body;
  };
  const predict = async (model: string, requestId: string, query = '') => {
    const res = await api.request(
      'POST',
      `/v1/models/${model}/predict${query}`,
      { instances: [row] },
      { ...authHeaders(client.key), 'x-request-id': requestId },
    );
    expect(res.status).toBe(200);
  };
  const infer = async (model: string, requestId: string) => {
    const res = await api.request(
      'POST',
      `/v2/models/${model}/infer`,
      { inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: row }] },
      { ...authHeaders(client.key), 'x-request-id': requestId },
    );
    expect(res.status).toBe(200);
  };
  const entries = async (model: string, query = '') => {
    const res = await api.request('GET', `/v1/models/${model}/predictions${query}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  /** Entries are offered once the answer is sent: flush until `count` are in, or time out. */
  const waitForEntries = async (model: string, count: number) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      await log.flush();
      const { total } = await entries(model, '?limit=1');
      if (total >= count) return total;
      await sleep(20);
    }
    return (await entries(model, '?limit=1')).total;
  };
  /** An export: its text as sent (the test app's request() would parse x-ndjson as one JSON). */
  const download = async (url: string) => {
    const response = await fetch(api.baseUrl + url, { headers: authHeaders() });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  const metrics = async () => (await api.request('GET', '/metrics')).text;
  const offered = (model: { id: string; name: string }, overrides: Partial<LoggedPrediction>) => ({
    modelId: model.id,
    model: model.name,
    version: 1,
    alias: null,
    requestId: 'direct',
    route: 'v1' as const,
    apiKeyId: null,
    rows: 1,
    latencyMs: 1,
    time: new Date(),
    inputs: { instances: [row] },
    outputs: { predictions: [1] },
    ...overrides,
  });
  const modelRef = async (name: string) => ({
    id: (await api.app.get(MonitoringSettingsService).find(name)).modelId,
    name,
  });

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    log = api.app.get(PredictionLogService);
    const created = await api.request('POST', '/v1/api-keys', {
      name: 'client',
      role: 'predictor',
    });
    client = { id: created.body.id, key: created.body.key };
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  describe('settings', () => {
    beforeAll(async () => {
      await importVersion('settings', 'production');
    });

    it('reads the defaults until set, then the settings, and records who set them', async () => {
      const defaults = await api.request('GET', '/v1/models/settings/monitoring');
      expect(defaults.body).toEqual({ sampleRate: 0.1, maxRows: 100000, maxAgeDays: 30 });

      expect(await setMonitoring('settings', { sampleRate: 0.5, maxAgeDays: 7 })).toEqual({
        sampleRate: 0.5,
        maxRows: 100000,
        maxAgeDays: 7,
      });
      // Left out: kept.
      expect(await setMonitoring('settings', { sampleRate: 0 })).toEqual({
        sampleRate: 0,
        maxRows: 100000,
        maxAgeDays: 7,
      });
      expect((await api.request('GET', '/v1/models/settings/monitoring')).body).toEqual({
        sampleRate: 0,
        maxRows: 100000,
        maxAgeDays: 7,
      });
      const events = await api.request('GET', '/v1/models/settings/events');
      expect(events.body.items.filter((e: any) => e.action === 'monitoring_set')).toEqual([
        expect.objectContaining({ actor: 'bootstrap-admin' }),
        expect.objectContaining({ actor: 'bootstrap-admin' }),
      ]);
    });

    it('refuses bad values with 400 problem details, an unknown model with 404', async () => {
      for (const sampleRate of [2, -1, 'x', null]) {
        const res = await api.request('PUT', '/v1/models/settings/monitoring', { sampleRate });
        expectProblem(res, 400, 'sampleRate');
      }
      expectProblem(
        await api.request('PUT', '/v1/models/settings/monitoring', {}),
        400,
        'sampleRate',
      );
      for (const body of [
        { maxRows: 0 },
        { maxRows: 1.5 },
        { maxAgeDays: 0 },
        { maxAgeDays: 'x' },
      ]) {
        const res = await api.request('PUT', '/v1/models/settings/monitoring', {
          sampleRate: 1,
          ...body,
        });
        expectProblem(res, 400, Object.keys(body)[0]);
      }
      expectProblem(
        await api.request('PUT', '/v1/models/settings/monitoring', { sampleRate: 1, extra: 1 }),
        400,
      );
      expectProblem(await api.request('PUT', '/v1/models/nope/monitoring', { sampleRate: 1 }), 404);
      expectProblem(await api.request('GET', '/v1/models/nope/monitoring'), 404);
      // Nothing changed.
      expect((await api.request('GET', '/v1/models/settings/monitoring')).body.sampleRate).toBe(0);
    });

    it('lets a predictor key read the settings but not change them or read the log', async () => {
      const headers = authHeaders(client.key);
      expect(
        (await api.request('GET', '/v1/models/settings/monitoring', undefined, headers)).status,
      ).toBe(200);
      expectProblem(
        await api.request('PUT', '/v1/models/settings/monitoring', { sampleRate: 1 }, headers),
        403,
      );
      expectProblem(
        await api.request('GET', '/v1/models/settings/predictions', undefined, headers),
        403,
      );
    });
  });

  describe('sampling', () => {
    it('logs every request at sampleRate 1, with the key id and never the key', async () => {
      await importVersion('every', 'production');
      await setMonitoring('every', { sampleRate: 1 });
      for (let i = 0; i < 10; i++) await predict('every', `every-v1-${i}`);
      for (let i = 0; i < 5; i++) await infer('every', `every-v2-${i}`);
      expect(await waitForEntries('every', 15)).toBe(15);

      const { items } = await entries('every');
      expect(items.map((e: any) => e.requestId).sort()).toEqual(
        [
          ...Array.from({ length: 10 }, (_, i) => `every-v1-${i}`),
          ...Array.from({ length: 5 }, (_, i) => `every-v2-${i}`),
        ].sort(),
      );
      const v1 = items.find((e: any) => e.requestId === 'every-v1-0');
      expect(v1).toMatchObject({
        model: 'every',
        version: 1,
        alias: 'production',
        route: 'v1',
        apiKeyId: client.id,
        rows: 1,
        inputs: { instances: [row] },
        outputs: { predictions: [expect.any(Number)] },
      });
      expect(v1.latencyMs).toBeGreaterThan(0);
      const v2 = items.find((e: any) => e.requestId === 'every-v2-0');
      expect(v2).toMatchObject({
        route: 'v2',
        apiKeyId: client.id,
        inputs: { inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: row }] },
        outputs: {
          outputs: [{ name: 'predict', datatype: 'FP64', shape: [1], data: [expect.any(Number)] }],
        },
      });
      expect(await databaseText(dataDir)).not.toContain(client.key);
    });

    it('logs nothing at sampleRate 0', async () => {
      await importVersion('none', 'production');
      await setMonitoring('none', { sampleRate: 0 });
      for (let i = 0; i < 50; i++) await predict('none', `none-${i}`);
      await sleep(100);
      await log.flush();
      expect((await entries('none')).total).toBe(0);
    });

    it('logs about half at sampleRate 0.5', async () => {
      await importVersion('half', 'production');
      await setMonitoring('half', { sampleRate: 0.5 });
      const requests = 400;
      for (let i = 0; i < requests; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) => predict('half', `half-${i + j}`)));
      }
      await sleep(100);
      const logged = await waitForEntries('half', requests);
      // Binomial(400, 0.5): mean 200, sd 10; ±5 sd fails once in 1.7 million runs.
      expect(logged).toBeGreaterThanOrEqual(150);
      expect(logged).toBeLessThanOrEqual(250);
    });
  });

  describe('reading and exporting', () => {
    let between: string;

    beforeAll(async () => {
      await importVersion('read', 'production');
      await importVersion('read');
      await setMonitoring('read', { sampleRate: 1 });
      for (let i = 0; i < 6; i++) await predict('read', `early-${i}`);
      await waitForEntries('read', 6);
      await sleep(20);
      between = new Date().toISOString();
      await sleep(20);
      for (let i = 0; i < 4; i++) await predict('read', `late-v2-${i}`, '?version=2');
      await waitForEntries('read', 10);
    });

    it('lists newest first, a page at a time', async () => {
      const all = await entries('read');
      expect(all).toMatchObject({ total: 10, limit: 50, offset: 0 });
      const times = all.items.map((e: any) => Date.parse(e.time));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(
        all.items
          .slice(0, 4)
          .map((e: any) => e.requestId)
          .sort(),
      ).toEqual(['late-v2-0', 'late-v2-1', 'late-v2-2', 'late-v2-3']);
      const page = await entries('read', '?limit=3&offset=3');
      expect(page).toMatchObject({ total: 10, limit: 3, offset: 3 });
      expect(page.items).toEqual(all.items.slice(3, 6));
    });

    it('filters by version and time', async () => {
      const v2 = await entries('read', '?version=2');
      expect(v2.total).toBe(4);
      expect(v2.items.every((e: any) => e.version === 2 && e.alias === null)).toBe(true);
      expect((await entries('read', `?from=${between}`)).total).toBe(4);
      const early = await entries('read', `?to=${encodeURIComponent(between)}`);
      expect(early.total).toBe(6);
      expect(early.items.every((e: any) => e.requestId.startsWith('early-'))).toBe(true);
      expect((await entries('read', '?from=2000-01-01&to=2000-01-02')).total).toBe(0);
      expect((await entries('read', '?version=3')).total).toBe(0);
    });

    it('refuses a bad version, time range or format with 400, an unknown model with 404', async () => {
      for (const query of [
        '?from=yesterday',
        '?to=2026-13-01T00:00:00Z',
        '?from=2026-12-01T10:00:00',
      ]) {
        const res = await api.request('GET', `/v1/models/read/predictions${query}`);
        expectProblem(res, 400);
        expect(JSON.stringify(res.body)).toMatch(/ISO-8601/);
      }
      expectProblem(
        await api.request('GET', '/v1/models/read/predictions?from=2026-12-02&to=2026-12-01'),
        400,
        'from',
      );
      for (const version of ['0', '01', '1e0', '9999999999', 'x']) {
        expectProblem(
          await api.request('GET', `/v1/models/read/predictions?version=${version}`),
          400,
          'version',
        );
      }
      expectProblem(
        await api.request('GET', '/v1/models/read/predictions?format=xml'),
        400,
        'format',
      );
      expectProblem(
        await api.request('GET', '/v1/models/read/predictions?limit=501'),
        400,
        'limit',
      );
      expectProblem(await api.request('GET', '/v1/models/nope/predictions'), 404);
    });

    it('exports JSON lines and CSV that read back as the same entries', async () => {
      const { items } = await entries('read');
      const jsonl = await download('/v1/models/read/predictions?format=jsonl');
      expect(jsonl.status).toBe(200);
      expect(jsonl.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(jsonl.headers.get('content-disposition')).toBe(
        'attachment; filename="read-predictions.jsonl"',
      );
      const lines = jsonl.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toEqual(items);

      const csv = await download('/v1/models/read/predictions?format=csv&version=2');
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toBe(
        'attachment; filename="read-predictions.csv"',
      );
      const records = parse(csv.text, { columns: true }) as Record<string, string>[];
      expect(records).toEqual(
        items
          .filter((e: any) => e.version === 2)
          .map((e: any) => ({
            time: e.time,
            requestId: e.requestId,
            version: '2',
            alias: '',
            route: 'v1',
            apiKeyId: client.id,
            rows: '1',
            latencyMs: String(e.latencyMs),
            inputs: JSON.stringify(e.inputs),
            outputs: JSON.stringify(e.outputs),
          })),
      );
    });

    it('exports thousands of entries in keyset pages, each once, newest first', async () => {
      await importVersion('many');
      const model = await modelRef('many');
      const base = Date.now() - 60_000;
      // 1,500 share one time: the pages must still neither repeat nor skip one.
      for (let i = 0; i < 2_500; i++) {
        log.offer(
          offered(model, { requestId: `many-${i}`, time: new Date(base + Math.max(0, i - 1_500)) }),
        );
        if (i % 1_000 === 999) await log.flush();
      }
      await log.flush();
      const jsonl = await download('/v1/models/many/predictions?format=jsonl');
      const lines = jsonl.text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines).toHaveLength(2_500);
      expect(new Set(lines.map((e) => e.requestId)).size).toBe(2_500);
      const keys = lines.map((e) => [Date.parse(e.time), e.id]);
      const sorted = [...keys].sort((a, b) => b[0] - a[0] || b[1] - a[1]);
      expect(keys).toEqual(sorted);
    });
  });

  describe('limits', () => {
    it('drops and counts an entry when the buffer is full, and the prediction still answers', async () => {
      await importVersion('full', 'production');
      await setMonitoring('full', { sampleRate: 1, maxRows: 100 });
      const model = await modelRef('full');
      const series = 'modeldock_prediction_log_dropped_total{model="full",reason="buffer_full"}';
      // Hold the writes so that the buffer stays full while the request is answered.
      const held = jest.spyOn(log, 'flush').mockResolvedValue();
      try {
        for (let i = 0; i < DEFAULT_LIMITS.capacity; i++)
          log.offer(offered(model, { requestId: `fill-${i}` }));
        const before = sample(await metrics(), series);
        await predict('full', 'full-dropped');
        await sleep(100);
        expect(sample(await metrics(), series)).toBe(before + 1);
      } finally {
        held.mockRestore();
      }
      await log.flush();
      const { items } = await entries('full', '?limit=500');
      expect(items.map((e: any) => e.requestId)).not.toContain('full-dropped');
      expect(
        sample(await metrics(), 'modeldock_prediction_log_entries_total{model="full"}'),
      ).toBeGreaterThanOrEqual(DEFAULT_LIMITS.capacity - 1);
    });

    it('keeps each model within its maxAgeDays and maxRows', async () => {
      await importVersion('retained');
      await setMonitoring('retained', { sampleRate: 0, maxRows: 50, maxAgeDays: 2 });
      const model = await modelRef('retained');
      const now = Date.now();
      const day = 24 * 60 * 60 * 1000;
      for (let i = 0; i < 30; i++) {
        log.offer(
          offered(model, { requestId: `old-${i}`, time: new Date(now - 3 * day - i * 1000) }),
        );
      }
      for (let i = 0; i < 70; i++) {
        log.offer(offered(model, { requestId: `recent-${i}`, time: new Date(now - i * 1000) }));
      }
      await log.flush();
      expect((await entries('retained', '?limit=1')).total).toBe(100);

      const run = await api.app.get(PredictionLogRetentionService).run();
      expect(run.deletedByAge).toBeGreaterThanOrEqual(30);
      expect(run.deletedByCount).toBeGreaterThanOrEqual(20);
      const kept = await entries('retained', '?limit=500');
      expect(kept.total).toBe(50);
      expect(kept.items.map((e: any) => e.requestId)).toEqual(
        Array.from({ length: 50 }, (_, i) => `recent-${i}`),
      );
      // The other models keep theirs.
      expect((await entries('many', '?limit=1')).total).toBe(2_500);
    });
  });
});

describe('prediction log across SIGTERM and restart', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(() => {
    dataDir = makeDataDir();
  });

  afterAll(async () => {
    await service?.kill();
    removeDataDir(dataDir);
  });

  it('writes the entries buffered when SIGTERM comes before the process exits', async () => {
    const env = { SHUTDOWN_DRAIN_DELAY_MS: '0' };
    service = await spawnService(dataDir, { env });
    const { baseUrl, child } = service;
    const call = (method: string, url: string, body?: unknown) =>
      requestJson(baseUrl, method, url, body);
    expect(
      (
        await call('POST', '/v1/models/durable/versions', {
          artifact: housingArtifact(1),
          alias: 'production',
        })
      ).status,
    ).toBe(201);
    expect((await call('PUT', '/v1/models/durable/monitoring', { sampleRate: 1 })).status).toBe(
      200,
    );
    const requests = 40;
    const answers = await Promise.all(
      Array.from({ length: requests }, (_, i) =>
        requestJson(
          baseUrl,
          'POST',
          '/v1/models/durable/predict',
          { instances: [housingInstances()[i % 5]] },
          {
            headers: { 'x-request-id': `durable-${i}` },
          },
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(requests).fill(200));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    service = await spawnService(dataDir);
    const logged = await requestJson(
      service.baseUrl,
      'GET',
      '/v1/models/durable/predictions?limit=100',
    );
    expect(logged.body.total).toBe(requests);
    expect(logged.body.items.map((e: any) => e.requestId).sort()).toEqual(
      Array.from({ length: requests }, (_, i) => `durable-${i}`).sort(),
    );
  });
});
