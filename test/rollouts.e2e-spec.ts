import { housingArtifact, housingInstances, housingReference } from './support/fixtures';
import { eventually, inParallel } from './support/polling';
import { makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';

describe('rollouts: an alias with a canary share and a shadow', () => {
  let dataDir: string;
  let api: TestApp;
  const row = housingInstances()[0];
  const expected = housingReference.predictions[0];

  const importVersion = async (model: string, artifact: unknown, alias?: string) => {
    const res = await api.request('POST', `/v1/models/${model}/versions`, {
      artifact,
      ...(alias ? { alias } : {}),
    });
    expect(res.status).toBe(201);
    return res.body.version as number;
  };
  const setAlias = (model: string, body: unknown, alias = 'production') =>
    api.request('PUT', `/v1/models/${model}/aliases/${alias}`, body);
  const predict = (model: string, headers: Record<string, string> = {}) =>
    api.request('POST', `/v1/models/${model}/predict`, { instances: [row] }, headers);
  const actions = async (model: string) =>
    (await api.request('GET', `/v1/models/${model}/events`)).body.items.map(
      (event: { action: string; fromVersion: number; toVersion: number }) =>
        `${event.action} ${event.fromVersion}→${event.toVersion}`,
    );

  beforeAll(async () => {
    dataDir = makeDataDir();
    // Thousands of requests from this same process on a busy CI machine can trip the event-loop
    // delay shedding (503): that is tested elsewhere; here every request must reach the split.
    api = await startApp(dataDir, { OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0' });
    // v1 predicts p, v2 predicts 2p: every answer shows which version computed it.
    await importVersion('split', housingArtifact(1), 'production');
    await importVersion('split', housingArtifact(2));
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('sends the canary its weight of 10,000 requests, within 2 percentage points, and names the version', async () => {
    const set = await setAlias('split', { version: 1, canary: { version: 2, weight: 0.1 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      version: 1,
      canary: { version: 2, weight: 0.1 },
      shadow: null,
    });
    expect((await api.request('GET', '/v1/models/split/aliases/production')).body.canary).toEqual({
      version: 2,
      weight: 0.1,
    });

    const answers = await inParallel(10_000, 32, () => predict('split'));
    let canary = 0;
    for (const { status, body, headers } of answers) {
      expect(status).toBe(200);
      expect(headers.get('x-model-version')).toBe(String(body.version));
      expect(body.predictions[0]).toBeCloseTo(body.version * expected, 6);
      if (body.version === 2) canary++;
    }
    expect(Math.abs(canary / 10_000 - 0.1)).toBeLessThanOrEqual(0.02);
    // 10,000 real requests: about 15 s alone, several times that beside the rest of the suite.
  }, 240_000);

  it('keeps one routing key on one version (X-Routing-Key), splitting keys by the weight', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const first = await inParallel(keys.length, 32, (i) =>
      predict('split', { 'x-routing-key': keys[i] }),
    );
    const again = await inParallel(keys.length, 32, (i) =>
      predict('split', { 'x-routing-key': keys[i] }),
    );
    for (const res of [...first, ...again]) expect(res.status).toBe(200);
    expect(again.map((res) => res.body.version)).toEqual(first.map((res) => res.body.version));
    const onCanary = first.filter((res) => res.body.version === 2).length;
    expect(onCanary).toBeGreaterThan(60);
    expect(onCanary).toBeLessThan(140);
  });

  it('serves the canary over the Open Inference Protocol too, unless the path names a version', async () => {
    const infer = (url: string) =>
      api.request('POST', url, {
        inputs: [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: row }],
      });
    const routed = await inParallel(400, 16, () => infer('/v2/models/split/infer'));
    for (const res of routed) {
      expect(res.headers.get('x-model-version')).toBe(res.body.model_version);
    }
    const versions = new Set(routed.map((res) => res.body.model_version));
    expect(versions).toEqual(new Set(['1', '2']));
    const pinned = await inParallel(100, 16, () => infer('/v2/models/split/versions/1/infer'));
    expect(new Set(pinned.map((res) => res.body.model_version))).toEqual(new Set(['1']));
  });

  it('aborts the canary in one call, recorded as an event', async () => {
    const aborted = await api.request('DELETE', '/v1/models/split/aliases/production/canary');
    expect(aborted.status).toBe(200);
    expect(aborted.body).toMatchObject({ version: 1, canary: null });
    expect((await actions('split'))[0]).toBe('canary_aborted 2→1');
    const answers = await inParallel(200, 16, () => predict('split'));
    expect(new Set(answers.map((res) => res.body.version))).toEqual(new Set([1]));
    const again = await api.request('DELETE', '/v1/models/split/aliases/production/canary');
    expect(again.status).toBe(404);
    expect(again.body.detail).toMatch(/has no canary/);
  });

  it('promotes the canary in one call: it becomes the version, recorded as an event', async () => {
    expect(
      (await setAlias('split', { version: 1, canary: { version: 2, weight: 0.5 } })).status,
    ).toBe(200);
    const promoted = await api.request(
      'POST',
      '/v1/models/split/aliases/production/canary/promote',
    );
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ version: 2, canary: null });
    expect((await actions('split')).slice(0, 3)).toEqual([
      'canary_promoted 1→2',
      'canary_set 1→2',
      'alias_set 1→1',
    ]);
    const answers = await inParallel(200, 16, () => predict('split'));
    expect(new Set(answers.map((res) => res.body.version))).toEqual(new Set([2]));
    // Roll back as for any move.
    expect((await setAlias('split', { version: 1 })).status).toBe(200);
    expect((await predict('split')).body.version).toBe(1);
  });

  it('refuses bad canaries and shadows with 4xx problems, changing nothing', async () => {
    await importVersion('split', {
      ...housingArtifact(3),
      inputs: [{ name: 'other', type: 'number' }],
      coefficients: [1],
    });
    const before = (await api.request('GET', '/v1/models/split/aliases/production')).body;
    const cases: [unknown, number, RegExp][] = [
      [{ version: 1, canary: { version: 2, weight: 0 } }, 400, /weight must be above 0/],
      [{ version: 1, canary: { version: 2, weight: 1 } }, 400, /weight must be below 1/],
      [{ version: 1, canary: { version: 2, weight: 1.5 } }, 400, /weight/],
      [{ version: 1, canary: { version: 2, weight: 'x' } }, 400, /weight/],
      [{ version: 1, canary: { version: 2 } }, 400, /weight/],
      [{ version: 1, canary: 7 }, 400, /canary/],
      [{ version: 1, canary: { version: 1, weight: 0.1 } }, 400, /another version/],
      [{ version: 1, canary: { version: 99, weight: 0.1 } }, 404, /no version 99/],
      [{ version: 1, canary: { version: 3, weight: 0.1 } }, 400, /inputs differ/],
      [{ version: 1, shadow: { version: 3, fraction: 0.5 } }, 400, /inputs differ/],
      [{ version: 1, shadow: { version: 2, fraction: 0 } }, 400, /fraction must be above 0/],
      [{ version: 1, shadow: { version: 2, fraction: 1.01 } }, 400, /fraction/],
    ];
    for (const [body, status, message] of cases) {
      const res = await setAlias('split', body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(JSON.stringify(res.body)).toMatch(message);
    }
    expect((await api.request('GET', '/v1/models/split/aliases/production')).body).toEqual(before);
  });

  it('keeps a canary or shadow version from being archived or deleted while it serves', async () => {
    expect(
      (await setAlias('split', { version: 1, canary: { version: 2, weight: 0.2 } })).status,
    ).toBe(200);
    const archive = await api.request('PATCH', '/v1/models/split/versions/2', {
      status: 'archived',
    });
    expect(archive.status).toBe(409);
    expect(archive.body.detail).toMatch(/canary v2/);
    expect((await api.request('DELETE', '/v1/models/split/versions/2')).status).toBe(409);
    // A PUT without the canary stops it, recorded as such.
    expect((await setAlias('split', { version: 1 })).body.canary).toBeNull();
    expect((await actions('split'))[0]).toBe('canary_aborted 2→1');
  });

  it('mirrors requests to a shadow: clients get the primary answer, the summary compares them', async () => {
    await importVersion('mirror', housingArtifact(1), 'production');
    await importVersion('mirror', housingArtifact(1.5));
    const set = await setAlias('mirror', { version: 1, shadow: { version: 2, fraction: 1 } });
    expect(set.body.shadow).toEqual({ version: 2, fraction: 1 });
    const empty = await api.request('GET', '/v1/models/mirror/aliases/production/shadow');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ count: 0, shadowVersion: 2, active: true });

    const answers = await inParallel(50, 8, () => predict('mirror'));
    for (const { status, body } of answers) {
      expect(status).toBe(200);
      expect(body.version).toBe(1);
      expect(body.predictions[0]).toBeCloseTo(expected, 6);
    }
    await eventually(async () => {
      const summary = (await api.request('GET', '/v1/models/mirror/aliases/production/shadow'))
        .body;
      expect(summary.count).toBe(50);
    });
    const summary = (await api.request('GET', '/v1/models/mirror/aliases/production/shadow')).body;
    expect(summary).toMatchObject({
      model: 'mirror',
      alias: 'production',
      version: 1,
      shadowVersion: 2,
      fraction: 1,
      errors: 0,
      dropped: 0,
      mismatched: 0,
      agreement: null,
      probabilityDifference: null,
    });
    expect(summary.difference.meanAbsolute).toBeCloseTo(0.5 * Math.abs(expected), 6);
    expect(summary.difference.maxAbsolute).toBeCloseTo(0.5 * Math.abs(expected), 6);
    expect(summary.difference.meanRelative).toBeCloseTo(0.5, 9);
    expect(summary.latencyMs.shadow.mean).toBeGreaterThan(0);
    expect(summary.latencyMs.primary.p99).toBeGreaterThan(0);

    const metrics = (await api.request('GET', '/metrics')).text;
    expect(metrics).toMatch(
      /modeldock_shadow_requests_total\{model="mirror",alias="production",outcome="compared"\} 50/,
    );
    expect(metrics).toMatch(
      /modeldock_shadow_difference\{model="mirror",alias="production",statistic="max"\}/,
    );

    // Once the shadow is removed its gauges leave /metrics; the summary stays, inactive.
    expect(
      (await api.request('DELETE', '/v1/models/mirror/aliases/production/shadow')).status,
    ).toBe(200);
    const after = (await api.request('GET', '/metrics')).text;
    expect(after).not.toMatch(/modeldock_shadow_difference\{model="mirror"/);
    expect(after).toMatch(/modeldock_shadow_requests_total\{model="mirror"/);
    const inactive = await api.request('GET', '/v1/models/mirror/aliases/production/shadow');
    expect(inactive.body).toMatchObject({ active: false, count: 50 });
  });

  it("starts the shadow's figures again when the alias moves to another version", async () => {
    await importVersion('moving', housingArtifact(1), 'production');
    await importVersion('moving', housingArtifact(1.5));
    await importVersion('moving', housingArtifact(2));
    const summaryOf = async () =>
      (await api.request('GET', '/v1/models/moving/aliases/production/shadow')).body;
    expect(
      (await setAlias('moving', { version: 1, shadow: { version: 2, fraction: 1 } })).status,
    ).toBe(200);
    await inParallel(20, 4, () => predict('moving'));
    await eventually(async () => expect((await summaryOf()).count).toBe(20));
    // v1 against v2 differs by half the prediction.
    expect((await summaryOf()).difference.meanRelative).toBeCloseTo(0.5, 9);

    // The alias moves to v3 and keeps its shadow: v3 against v2 is another comparison.
    expect(
      (await setAlias('moving', { version: 3, shadow: { version: 2, fraction: 1 } })).status,
    ).toBe(200);
    expect(await summaryOf()).toMatchObject({
      version: 3,
      shadowVersion: 2,
      count: 0,
      active: true,
    });
    await inParallel(10, 4, () => predict('moving'));
    await eventually(async () => expect((await summaryOf()).count).toBe(10));
    const moved = await summaryOf();
    expect(moved).toMatchObject({ version: 3, shadowVersion: 2, active: true });
    // 1.5p against 2p: a quarter of the answer.
    expect(moved.difference.meanRelative).toBeCloseTo(0.25, 9);
  });

  it("never changes the primary's answer or status when the shadow fails", async () => {
    await importVersion('fragile', housingArtifact(1), 'production');
    // Finite weights, but their products overflow on large inputs: the shadow answers 422.
    await importVersion('fragile', housingArtifact(1e300));
    expect(
      (await setAlias('fragile', { version: 1, shadow: { version: 2, fraction: 1 } })).status,
    ).toBe(200);
    const big = row.map((value) => value * 1e10);
    const answers = await inParallel(20, 4, () =>
      api.request('POST', '/v1/models/fragile/predict', { instances: [big] }),
    );
    for (const { status, body } of answers) {
      expect(status).toBe(200);
      expect(body.version).toBe(1);
    }
    await eventually(async () => {
      const summary = (await api.request('GET', '/v1/models/fragile/aliases/production/shadow'))
        .body;
      expect(summary).toMatchObject({ count: 0, errors: 20 });
    });

    const removed = await api.request('DELETE', '/v1/models/fragile/aliases/production/shadow');
    expect(removed.status).toBe(200);
    expect(removed.body.shadow).toBeNull();
    expect((await actions('fragile'))[0]).toBe('shadow_removed 2→1');
    // The tally stays readable, marked inactive.
    const after = await api.request('GET', '/v1/models/fragile/aliases/production/shadow');
    expect(after.body).toMatchObject({ active: false, errors: 20 });
  });
});
