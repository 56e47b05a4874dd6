import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DriftMonitor } from '../src/drift/drift-monitor.service';
import { PredictionLogReader } from '../src/drift/prediction-log.reader';
import { PredictionLogEntry } from '../src/monitoring/prediction-log.entity';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

/** A seeded table: x1 ~ N(50, 10), flag 0/1 (30 % ones), color red/green/blue, y linear in them. */
function driftTable(rows: number, seed: number) {
  let state = seed;
  const uniform = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state + 0.5) / 2147483648;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return Array.from({ length: rows }, () => {
    const x1 = 50 + 10 * normal();
    const flag = uniform() < 0.3 ? 1 : 0;
    const draw = uniform();
    const color = draw < 0.5 ? 'red' : draw < 0.8 ? 'green' : 'blue';
    const y = 2 * x1 + 5 * flag + (color === 'red' ? 3 : 0) + normal();
    return { x1, flag, color, y };
  });
}

type Row = ReturnType<typeof driftTable>[number];
const MINUTE = 60_000;

describe('reference profiles and drift', () => {
  let dataDir: string;
  let api: TestApp;
  let dataSource: DataSource;
  const training = driftTable(600, 1);
  const now = Date.now();
  /** Two windows of logged traffic: rows like the training data an hour ago, shifted ones now. */
  const steady = { from: new Date(now - 3 * 60 * MINUTE), to: new Date(now - 2 * 60 * MINUTE) };
  const shifted = { from: new Date(now - 40 * MINUTE), to: new Date(now + MINUTE) };

  /** Logs `rows` of `version` as v1 requests of 100 rows (arrays, then objects), at `time`. */
  async function logV1(model: string, version: number, rows: Row[], time: Date): Promise<void> {
    const [{ id: modelId }] = await dataSource.query(
      `SELECT id FROM registered_models WHERE name = ${dataSource.options.type === 'postgres' ? '$1' : '?'}`,
      [model],
    );
    const entries: Partial<PredictionLogEntry>[] = [];
    for (let start = 0; start < rows.length; start += 100) {
      const batch = rows.slice(start, start + 100);
      const predicted = await api.request(
        'POST',
        `/v1/models/${model}/predict?version=${version}`,
        {
          instances: batch.map(({ x1, flag, color }) => [x1, flag, color]),
        },
      );
      expect(predicted.status).toBe(200);
      const objects = start % 200 === 100;
      entries.push({
        modelId,
        version,
        alias: 'production',
        requestId: randomUUID(),
        route: 'v1',
        apiKeyId: null,
        rows: batch.length,
        latencyMs: 1,
        inputs: JSON.stringify({
          instances: batch.map(({ x1, flag, color }) =>
            objects ? { color, flag, x1 } : [x1, flag, color],
          ),
        }),
        outputs: JSON.stringify({ predictions: predicted.body.predictions }),
        createdAt: new Date(time.getTime() + start),
      });
    }
    await dataSource.getRepository(PredictionLogEntry).insert(entries);
  }

  /** Sends rows as one v2 request with a tensor per feature; answers the tensors and the reply. */
  async function logV2Request(model: string, version: number, rows: Row[]) {
    const inputs = [
      { name: 'x1', shape: [rows.length], datatype: 'FP64', data: rows.map((row) => row.x1) },
      { name: 'flag', shape: [rows.length, 1], datatype: 'FP64', data: rows.map((r) => [r.flag]) },
      { name: 'color', shape: [rows.length], datatype: 'BYTES', data: rows.map((r) => r.color) },
    ];
    const inferred = await api.request('POST', `/v2/models/${model}/versions/${version}/infer`, {
      inputs,
    });
    expect(inferred.status).toBe(200);
    return { inputs, outputs: inferred.body.outputs };
  }

  /** Logs rows as one v2 request with a tensor per feature. */
  async function logV2(model: string, version: number, rows: Row[], time: Date): Promise<void> {
    const { inputs, outputs } = await logV2Request(model, version, rows);
    const [{ id: modelId }] = await dataSource.query(
      `SELECT id FROM registered_models WHERE name = ${dataSource.options.type === 'postgres' ? '$1' : '?'}`,
      [model],
    );
    await dataSource.getRepository(PredictionLogEntry).insert({
      modelId,
      version,
      alias: null,
      requestId: randomUUID(),
      route: 'v2',
      apiKeyId: null,
      rows: rows.length,
      latencyMs: 1,
      inputs: JSON.stringify({ inputs }),
      outputs: JSON.stringify({ outputs }),
      createdAt: time,
    });
  }

  const driftOf = (model: string, version: number, window: { from: Date; to: Date }) =>
    api.request(
      'GET',
      `/v1/models/${model}/versions/${version}/drift?from=${window.from.toISOString()}&to=${window.to.toISOString()}`,
    );

  const feature = (body: { features: { name: string }[] }, name: string) =>
    body.features.find((f) => f.name === name) as any;

  beforeAll(async () => {
    dataDir = makeDataDir();
    // The gauges are refreshed by the test itself.
    api = await startApp(dataDir, { DRIFT_INTERVAL_MS: '0' });
    dataSource = api.app.get(DataSource);
    const uploaded = await api.request('POST', '/v1/datasets', {
      name: 'drift-data',
      records: training,
    });
    expect(uploaded.status).toBe(201);
    const job = await api.request('POST', '/v1/training-jobs', {
      model: 'prices',
      dataset: 'drift-data',
      target: 'y',
      features: ['x1', 'flag', 'color'],
      algorithm: 'linear-regression',
      hyperparameters: { optimizer: 'normal-equation' },
      validationSplit: 0.2,
      seed: 3,
      alias: 'production',
    });
    expect(job.status).toBe(202);
    expect(await waitForJob(api, job.body.id)).toMatchObject({ status: 'succeeded' });
    // The rows below are logged by hand at chosen times; the real log stays out of it until the
    // last test.
    const off = await api.request('PUT', '/v1/models/prices/monitoring', { sampleRate: 0 });
    expect(off.status).toBe(200);

    // Rows like the training data, as v1 arrays, v1 objects and v2 tensors.
    const like = driftTable(500, 2);
    await logV1('prices', 1, like.slice(0, 400), steady.from);
    await logV2('prices', 1, like.slice(400), new Date(steady.from.getTime() + 10 * MINUTE));
    // The same population with x1 moved by two standard deviations and only blue.
    const moved = driftTable(300, 3).map((row) => ({ ...row, x1: row.x1 + 20, color: 'blue' }));
    await logV1('prices', 1, moved, new Date(now - 30 * MINUTE));
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('gives a version trained here its training split as reference: a 0/1 feature has two bins', async () => {
    const { status, body } = await api.request('GET', '/v1/models/prices/versions/1');
    expect(status).toBe(200);
    expect(body.reference.rows).toBe(480);
    expect(body.reference.features.map((f: { name: string }) => f.name)).toEqual([
      'x1',
      'flag',
      'color',
    ]);
    const flag = body.reference.features[1];
    expect(flag).toMatchObject({ kind: 'number', edges: [0], missing: 0, count: 480 });
    expect(flag.counts).toHaveLength(2);
    expect(flag.counts[0] + flag.counts[1]).toBe(480);
    expect(body.reference.features[2]).toMatchObject({ kind: 'string' });
    expect(Object.keys(body.reference.features[2].categories).sort()).toEqual([
      'blue',
      'green',
      'red',
    ]);
    expect(body.reference.predictions).toMatchObject({ kind: 'number', name: 'y', count: 480 });

    const list = await api.request('GET', '/v1/models/prices/versions');
    expect(list.body.items[0]).not.toHaveProperty('reference');
  });

  it('rates every feature ok on logged rows drawn like the training data (the 0/1 feature too)', async () => {
    const { status, body } = await driftOf('prices', 1, steady);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      model: 'prices',
      version: 1,
      from: steady.from.toISOString(),
      to: steady.to.toISOString(),
      sampleSize: 500,
      skippedRequests: 0,
      referenceSize: 480,
      status: 'ok',
    });
    for (const name of ['x1', 'flag', 'color']) {
      expect(feature(body, name)).toMatchObject({
        name,
        status: 'ok',
        rated: true,
        sampleSize: 500,
      });
    }
    expect(feature(body, 'x1').psi).toBeLessThan(0.1);
    expect(feature(body, 'x1').ks).toEqual({
      statistic: expect.any(Number),
      pValue: expect.any(Number),
    });
    expect(feature(body, 'flag').bins.edges).toEqual([0]);
    expect(body.predictions).toMatchObject({ name: 'y', status: 'ok', sampleSize: 500 });
  });

  it('rates a shifted batch as drift, with the numbers that say how far', async () => {
    const { status, body } = await driftOf('prices', 1, shifted);
    expect(status).toBe(200);
    expect(body).toMatchObject({ sampleSize: 300, status: 'drift' });
    const x1 = feature(body, 'x1');
    expect(x1).toMatchObject({ status: 'drift', rated: true });
    expect(x1.psi).toBeGreaterThan(0.25);
    expect(x1.ks.statistic).toBeGreaterThan(0.5);
    expect(x1.ks.pValue).toBeLessThan(1e-6);
    expect(x1.wasserstein).toBeGreaterThan(15);
    const color = feature(body, 'color');
    expect(color).toMatchObject({ status: 'drift', kind: 'string' });
    expect(color.jensenShannon).toBeGreaterThan(0.1);
    expect(feature(body, 'flag').status).toBe('ok');
    expect(body.predictions.status).toBe('drift');
  });

  it('answers an empty window with no rows and no feature rated', async () => {
    const empty = {
      from: new Date(now - 10 * 24 * 60 * MINUTE),
      to: new Date(now - 9 * 24 * 60 * MINUTE),
    };
    const { status, body } = await driftOf('prices', 1, empty);
    expect(status).toBe(200);
    expect(body).toMatchObject({ sampleSize: 0, status: 'ok' });
    expect(body.features.every((f: { rated: boolean }) => !f.rated)).toBe(true);
  });

  it('reads the last 24 hours by default', async () => {
    const { body } = await api.request('GET', '/v1/models/prices/versions/1/drift');
    expect(body.sampleSize).toBe(800);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(24 * 60 * MINUTE);
  });

  it('refuses a window that is not ISO 8601, or ends before it starts', async () => {
    const bad = await api.request('GET', '/v1/models/prices/versions/1/drift?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(bad.body.errors).toEqual([
      expect.objectContaining({ field: 'from', message: expect.stringMatching(/ISO 8601/) }),
    ]);
    const backwards = await api.request(
      'GET',
      `/v1/models/prices/versions/1/drift?from=${shifted.to.toISOString()}&to=${shifted.from.toISOString()}`,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.detail).toMatch(/must be before to/);
  });

  describe('an imported version', () => {
    beforeAll(async () => {
      const artifact = await api.request('GET', '/v1/models/prices/versions/1/artifact');
      const imported = await api.request('POST', '/v1/models/prices/versions', artifact.text, {
        'content-type': 'application/json',
      });
      expect(imported.status).toBe(201);
      expect(imported.body).toMatchObject({ version: 2, reference: null });
    });

    it('has no reference: drift is a 404 that says how to create one', async () => {
      const { status, body } = await driftOf('prices', 2, steady);
      expect(status).toBe(404);
      expect(body.detail).toMatch(/PUT \/v1\/models\/prices\/versions\/2\/reference/);
    });

    it('gets one from a dataset, with its predictions, as an event', async () => {
      const { status, body } = await api.request('PUT', '/v1/models/prices/versions/2/reference', {
        dataset: 'drift-data',
      });
      expect(status).toBe(200);
      expect(body.version).toBe(2);
      expect(body.reference).toMatchObject({ rows: 600 });
      expect(body.reference.features[1]).toMatchObject({ name: 'flag', edges: [0] });
      expect(body.reference.predictions).toMatchObject({ name: 'y', kind: 'number', count: 600 });
      const events = await api.request('GET', '/v1/models/prices/events');
      expect(events.body.items[0]).toMatchObject({ action: 'reference_set', toVersion: 2 });

      await logV1('prices', 2, driftTable(200, 4), steady.from);
      const drift = await driftOf('prices', 2, steady);
      expect(drift.body).toMatchObject({ sampleSize: 200, referenceSize: 600, status: 'ok' });
    });

    it('refuses an unknown dataset, and one without the version’s features, naming what is missing', async () => {
      const unknown = await api.request('PUT', '/v1/models/prices/versions/2/reference', {
        dataset: 'no-such-data',
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([{ field: 'dataset', message: 'does not exist' }]);

      await api.request('POST', '/v1/datasets', {
        name: 'partial',
        records: [
          { x1: 'high', other: 1 },
          { x1: 'low', other: 2 },
        ],
      });
      const partial = await api.request('PUT', '/v1/models/prices/versions/2/reference', {
        dataset: 'partial',
      });
      expect(partial.status).toBe(400);
      expect(partial.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(partial.body.errors).toEqual([
        {
          field: 'dataset.columns.x1',
          message: "holds strings; the version's feature x1 is a number",
        },
        { field: 'dataset.columns.flag', message: 'is missing' },
        { field: 'dataset.columns.color', message: 'is missing' },
      ]);
      expect(partial.body.detail).toMatch(/x1 \(number\), flag \(number\), color \(string\)/);
    });
  });

  it('publishes drift gauges for the versions an alias serves, and removes them when it no longer does', async () => {
    await api.app.get(DriftMonitor).refresh();
    let metrics = (await api.request('GET', '/metrics')).text;
    expect(metrics).toMatch(/modeldock_model_drift_status\{model="prices",version="1"\} 2/);
    expect(metrics).toMatch(
      /modeldock_feature_drift_status\{model="prices",version="1",feature="x1"\} 2/,
    );
    expect(metrics).toMatch(
      /modeldock_feature_drift_status\{model="prices",version="1",feature="flag"\} 0/,
    );
    expect(metrics).toMatch(
      /modeldock_feature_drift_psi\{model="prices",version="1",feature="x1"\} \d+\.\d+/,
    );
    expect(metrics).toMatch(/modeldock_drift_sample_rows\{model="prices",version="1"\} 300/);
    // Version 2 has a reference and logged rows, but no alias serves it.
    expect(metrics).not.toMatch(/modeldock_\w*drift\w*\{[^}]*version="2"/);

    const moved = await api.request('DELETE', '/v1/models/prices/aliases/production');
    expect(moved.status).toBe(204);
    await api.app.get(DriftMonitor).refresh();
    metrics = (await api.request('GET', '/metrics')).text;
    expect(metrics).not.toMatch(/modeldock_(feature|model)_drift_status\{/);
  });

  it('rates the rows of real predictions once the log has them', async () => {
    const since = new Date();
    const monitoring = await api.request('PUT', '/v1/models/prices/monitoring', { sampleRate: 1 });
    expect(monitoring.status).toBe(200);
    const rows = driftTable(200, 5);
    const v1 = await api.request('POST', '/v1/models/prices/predict?version=1', {
      instances: rows.slice(0, 100).map(({ x1, flag, color }) => ({ x1, flag, color })),
    });
    expect(v1.status).toBe(200);
    await logV2Request('prices', 1, rows.slice(100));
    // The log is written by a timer (every second): wait for both requests.
    const window = { from: since, to: new Date(Date.now() + MINUTE) };
    const deadline = Date.now() + 10_000;
    let body: any;
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      body = (await driftOf('prices', 1, window)).body;
    } while (body.sampleSize < 200 && Date.now() < deadline);
    expect(body).toMatchObject({ sampleSize: 200, skippedRequests: 0, status: 'ok' });
    expect(body.features.every((f: { rated: boolean }) => f.rated)).toBe(true);
    expect(body.predictions).toMatchObject({ sampleSize: 200, status: 'ok' });
  });
  describe('a drift over a large window', () => {
    const WIDTH = 30;
    const names = Array.from({ length: WIDTH }, (_, j) => `f${j}`);
    let seed = 11;
    const uniform = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed + 0.5) / 2147483648;
    };
    const wideRow = (shift: number) => names.map((_, j) => shift + j + uniform() * 10);

    beforeAll(async () => {
      const artifact = {
        format: 'modeldock/v1',
        algorithm: 'linear-regression',
        inputs: names.map((name) => ({ name, type: 'number' })),
        output: { name: 'y', type: 'number' },
        coefficients: names.map((_, j) => j / 10),
        intercept: 1,
      };
      expect((await api.request('POST', '/v1/models/wide/versions', artifact)).status).toBe(201);
      const reference = Array.from({ length: 2_000 }, () => wideRow(0));
      const dataset = { name: 'wide-reference', columns: names, rows: reference };
      expect((await api.request('POST', '/v1/datasets', dataset)).status).toBe(201);
      const set = await api.request('PUT', '/v1/models/wide/versions/1/reference', {
        dataset: 'wide-reference',
      });
      expect(set.status).toBe(200);
      // 60,000 rows of 30 features (600 requests of 100 rows, ~35 MB of JSON), logged an hour ago.
      const [{ id: modelId }] = await dataSource.query(
        `SELECT id FROM registered_models WHERE name = ${dataSource.options.type === 'postgres' ? '$1' : '?'}`,
        ['wide'],
      );
      const entries: Partial<PredictionLogEntry>[] = [];
      for (let i = 0; i < 600; i++) {
        const instances = Array.from({ length: 100 }, () => wideRow(1));
        entries.push({
          modelId,
          version: 1,
          alias: null,
          requestId: randomUUID(),
          route: 'v1',
          apiKeyId: null,
          rows: 100,
          latencyMs: 1,
          inputs: JSON.stringify({ instances }),
          outputs: JSON.stringify({ predictions: instances.map((x) => x[0]) }),
          createdAt: new Date(now - 60 * MINUTE + i),
        });
      }
      for (let start = 0; start < entries.length; start += 50) {
        await dataSource.getRepository(PredictionLogEntry).insert(entries.slice(start, start + 50));
      }
    });

    it('keeps answering other requests while it compares (in the drift thread)', async () => {
      // When the log has been read, what is left is CPU work: parsing the last page and comparing
      // 30 columns of 60,000 values. Count the cheap requests answered from then on.
      const reader = api.app.get(PredictionLogReader);
      const read = reader.read.bind(reader);
      let logRead = false;
      const spy = jest.spyOn(reader, 'read').mockImplementation(async (...args) => {
        await read(...args);
        logRead = true;
      });
      try {
        const heavy = driftOf('wide', 1, {
          from: new Date(now - 2 * 60 * MINUTE),
          to: new Date(now),
        });
        // Cheap requests, one after the other, for as long as the drift runs.
        let answeredAfterRead = 0;
        let done = false;
        void heavy.then(() => (done = true));
        while (!done) {
          const live = await api.request('GET', '/health/live');
          expect(live.status).toBe(200);
          if (done) break;
          if (logRead) answeredAfterRead++;
        }
        const { status, body } = await heavy;
        expect(status).toBe(200);
        expect(body).toMatchObject({ sampleSize: 60_000, skippedRequests: 0, status: 'drift' });
        expect(body.features).toHaveLength(WIDTH);
        expect(body.features.every((f: { rated: boolean }) => f.rated)).toBe(true);
        // On the event loop, the comparison held it in one piece: nothing was answered after the
        // log was read (answers came only while the driver waited for the database).
        expect(answeredAfterRead).toBeGreaterThanOrEqual(10);
      } finally {
        spy.mockRestore();
      }
    });
  });
});
