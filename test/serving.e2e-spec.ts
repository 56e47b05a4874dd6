import { spawnSync } from 'node:child_process';
import { housingArtifact, housingInstances, housingReference } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';

/** The value of one sample of the Prometheus text exposition, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('serving: in-memory versions, single-flight loading, warm-up and metrics', () => {
  let dataDir: string;
  let api: TestApp;

  const metrics = async () => (await api.request('GET', '/metrics')).text;
  const loads = async () =>
    sample(await metrics(), 'modeldock_model_loads_total{outcome="success"}');
  const importVersion = async (model: string, scale: number, alias?: string) => {
    const res = await api.request('POST', `/v1/models/${model}/versions`, {
      artifact: housingArtifact(scale),
      ...(alias ? { alias } : {}),
    });
    expect(res.status).toBe(201);
    return res.body.version as number;
  };
  const predict = (model: string, instances: unknown[] = [housingInstances()[0]], query = '') =>
    api.request('POST', `/v1/models/${model}/predict${query}`, { instances });

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('loads a version once for 50 concurrent first requests, v1 and v2 together', async () => {
    await importVersion('herd', 1);
    const before = await loads();
    const loadedBefore = sample(await metrics(), 'modeldock_loaded_model_versions');
    const row = housingInstances()[0];
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2
          ? predict('herd', [row])
          : api.request('POST', '/v2/models/herd/infer', {
              inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: row }],
            }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    for (const { body } of answers) {
      const value = body.predictions?.[0] ?? body.outputs[0].data[0];
      expect(value).toBeCloseTo(housingReference.predictions[0], 6);
    }
    expect((await loads()) - before).toBe(1);
    expect(sample(await metrics(), 'modeldock_loaded_model_versions')).toBe(loadedBefore + 1);
    // Served from memory from then on.
    await predict('herd');
    expect((await loads()) - before).toBe(1);
  });

  it('loads the version an alias moves to before the move is acknowledged, then serves it', async () => {
    await importVersion('warm', 1, 'production');
    await importVersion('warm', 2);
    expect((await predict('warm')).body.version).toBe(1);
    const before = await loads();

    const moved = await api.request('PUT', '/v1/models/warm/aliases/production', { version: 2 });
    expect(moved.status).toBe(200);
    expect((await loads()) - before).toBe(1); // loaded by the move, not by a request

    const res = await predict('warm');
    expect(res.headers.get('x-model-version')).toBe('2');
    expect(res.body.predictions[0]).toBeCloseTo(2 * housingReference.predictions[0], 6);
    expect((await loads()) - before).toBe(1);
  });

  it('drops the metric series of a version that no longer serves, and counts each version apart', async () => {
    await importVersion('series', 1, 'production');
    await importVersion('series', 3);
    await predict('series');
    await predict('series', [housingInstances()[0], housingInstances()[1]]);
    let text = await metrics();
    expect(sample(text, 'modeldock_predictions_total{model="series",version="1"}')).toBe(2);
    expect(sample(text, 'modeldock_predicted_rows_total{model="series",version="1"}')).toBe(3);
    expect(
      sample(text, 'modeldock_prediction_duration_seconds_count{model="series",version="1"}'),
    ).toBe(2);

    // The bound series are written in the exposition format the real linter accepts, where the
    // machine has it (Debian package `prometheus`).
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (!promtool.error) expect(promtool.stdout + promtool.stderr).toBe('');

    await api.request('PUT', '/v1/models/series/aliases/production', { version: 2 });
    await predict('series');
    text = await metrics();
    expect(text).not.toContain('model="series",version="1"');
    expect(sample(text, 'modeldock_predictions_total{model="series",version="2"}')).toBe(1);
  });

  it('counts failures by protocol and reason, in-flight requests and loaded versions', async () => {
    const before = await metrics();
    const count = (text: string, protocol: string, reason: string) =>
      sample(
        text,
        `modeldock_prediction_failures_total{protocol="${protocol}",reason="${reason}"}`,
      );
    await importVersion('failing', 1);
    await predict('failing', [[1, 'two', 3]]);
    await predict('no-such-model');
    await api.request('POST', '/v2/models/no-such-model/infer', {
      inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }],
    });
    await api.request('POST', '/v1/models/failing/predict', '{"instances":', {
      'content-type': 'application/json',
    });
    const after = await metrics();
    expect(count(after, 'v1', 'invalid_input') - count(before, 'v1', 'invalid_input')).toBe(1);
    expect(count(after, 'v1', 'not_found') - count(before, 'v1', 'not_found')).toBe(1);
    expect(count(after, 'v2', 'not_found') - count(before, 'v2', 'not_found')).toBe(1);
    expect(count(after, 'v1', 'malformed_json') - count(before, 'v1', 'malformed_json')).toBe(1);
    expect(sample(after, 'modeldock_predictions_in_flight')).toBe(0);
    expect(sample(after, 'modeldock_loaded_model_versions')).toBeGreaterThanOrEqual(3);
  });

  it('stops serving a deleted version and unloads it', async () => {
    await importVersion('gone', 1, 'production');
    await importVersion('gone', 2);
    expect((await predict('gone', undefined, '?version=2')).status).toBe(200);
    expect(await metrics()).toContain('model="gone",version="2"');
    expect((await api.request('DELETE', '/v1/models/gone/versions/2')).status).toBe(204);
    expect((await predict('gone', undefined, '?version=2')).status).toBe(404);
    expect(await metrics()).not.toContain('model="gone",version="2"');
    expect((await predict('gone')).body.version).toBe(1);
  });

  it('refuses a bad version or alias in the query with a 400 that names it', async () => {
    await importVersion('query', 1);
    for (const query of ['?version=abc', '?version=0', '?alias=%20bad']) {
      const res = await predict('query', undefined, query);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.errors[0].field).toMatch(/^querystring\.(version|alias)$/);
    }
  });

  it('names the exact row and feature of one bad value in a batch of 10,000 rows', async () => {
    await importVersion('big', 1);
    const rows = Array.from({ length: 10_000 }, (_, i) => [50 + (i % 100), 1 + (i % 5), i % 60]);
    const ok = await predict('big', rows);
    expect(ok.status).toBe(200);
    expect(ok.body.predictions).toHaveLength(10_000);
    const [area, rooms, age] = rows[9_999];
    const expected =
      housingReference.intercept +
      housingReference.coefficients.area_m2 * area +
      housingReference.coefficients.rooms * rooms +
      housingReference.coefficients.age_years * age;
    expect(ok.body.predictions[9_999]).toBeCloseTo(expected, 6);

    const bad = rows.map((row) => [...row]) as unknown[][];
    bad[7_777][2] = '12';
    const res = await predict('big', bad);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        field: 'instances[7777][2]',
        message: 'age_years must be a finite number; got the string "12"',
      },
    ]);
  });
});
