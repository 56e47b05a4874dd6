import {
  housingArtifact,
  housingCsv,
  housingInstances,
  housingReference,
  wideDataset,
} from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

type Res = { status: number; headers: Headers; body: any };

function expectProblem(res: Res, status: number, detail?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  if (detail) expect(res.body.detail).toMatch(detail);
}

describe('model registry', () => {
  let dataDir: string;
  let api: TestApp;

  /** Imports `housingArtifact(scale)`: version k predicts k times scikit-learn's prices. */
  const importVersion = (model: string, scale = 1, extra: Record<string, unknown> = {}) =>
    api.request('POST', `/v1/models/${model}/versions`, {
      artifact: housingArtifact(scale),
      ...extra,
    });
  const predict = (model: string, query = '') =>
    api.request('POST', `/v1/models/${model}/predict${query}`, {
      instances: housingInstances().slice(0, 1),
    });

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  describe('import and export', () => {
    it('imports scikit-learn coefficients as version 1 that predicts like scikit-learn', async () => {
      const res = await importVersion('imported', 1, {
        description: 'from sklearn',
        tags: { source: 'sklearn' },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('location')).toBe('/v1/models/imported/versions/1');
      expect(res.body).toMatchObject({
        model: 'imported',
        version: 1,
        status: 'ready',
        algorithm: 'linear-regression',
        format: 'modeldock/v1',
        createdBy: 'import',
        dataset: null,
        trainingJob: null,
        metrics: {},
        description: 'from sklearn',
        tags: { source: 'sklearn' },
      });
      expect(res.body.inputSchema.map((f: { name: string }) => f.name)).toEqual(
        housingReference.features,
      );

      const prediction = await api.request('POST', '/v1/models/imported/predict', {
        instances: housingInstances(),
      });
      expect(prediction.status).toBe(200);
      prediction.body.predictions.forEach((p: number, i: number) =>
        expect(p).toBeCloseTo(housingReference.predictions[i], 6),
      );
    });

    it('exports the exact artifact with its checksum as ETag, and re-imports it to identical predictions', async () => {
      const version = (await api.request('GET', '/v1/models/imported/versions/1')).body;
      const exported = await api.request('GET', '/v1/models/imported/versions/1/artifact');
      expect(exported.headers.get('etag')).toBe(`"${version.checksum}"`);
      expect(Buffer.byteLength(exported.text)).toBe(version.sizeBytes);

      const reimported = await api.request('POST', '/v1/models/reimported/versions', {
        artifact: exported.body,
      });
      expect(reimported.status).toBe(201);
      expect(reimported.body.checksum).toBe(version.checksum);
      const again = await api.request('GET', '/v1/models/reimported/versions/1/artifact');
      expect(again.text).toBe(exported.text);

      const instances = housingInstances();
      const [a, b] = await Promise.all([
        api.request('POST', '/v1/models/imported/predict', { instances }),
        api.request('POST', '/v1/models/reimported/predict', { instances }),
      ]);
      expect(b.body.predictions).toEqual(a.body.predictions);
    });

    it('re-imports a trained artifact (with standardisation) to identical predictions', async () => {
      const dataset = await api.request('POST', '/v1/datasets?name=housing', housingCsv, {
        'content-type': 'text/csv',
      });
      const job = await api.request('POST', '/v1/training-jobs', {
        model: 'trained',
        dataset: dataset.body.id,
        target: 'price',
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'gradient-descent', learningRate: 0.1, epochs: 300 },
        seed: 5,
      });
      await waitForJob(api, job.body.id);
      const artifact = (await api.request('GET', '/v1/models/trained/versions/1/artifact')).body;
      expect(artifact.format).toBe('modeldock/v2');
      expect(artifact.preprocessing).toHaveLength(3);
      await api.request('POST', '/v1/models/trained-copy/versions', { artifact });
      const instances = housingInstances();
      const original = await api.request('POST', '/v1/models/trained/predict', { instances });
      const copy = await api.request('POST', '/v1/models/trained-copy/predict', { instances });
      expect(copy.body.predictions).toEqual(original.body.predictions);
    });

    it.each([
      ['a wrong format', { format: 'onnx' }, 'artifact.format'],
      ['a non-numeric coefficient', { coefficients: [1, 'x', 3] }, 'artifact.coefficients[1]'],
      ['too few coefficients', { coefficients: [1, 2] }, 'artifact.coefficients'],
      [
        'a duplicate feature',
        {
          inputs: [
            { name: 'a', type: 'number' },
            { name: 'a', type: 'number' },
            { name: 'b', type: 'number' },
          ],
        },
        'artifact.inputs[1].name',
      ],
      ['a missing intercept', { intercept: undefined }, 'artifact.intercept'],
    ])('rejects an artifact with %s, pointing at the field', async (_what, change, field) => {
      const artifact = { ...housingArtifact(), ...change };
      const res = await api.request('POST', '/v1/models/bad-import/versions', { artifact });
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await api.request('GET', '/v1/models/bad-import')).status).toBe(404);
    });

    it('rejects an import without an artifact or with an unknown field', async () => {
      expectProblem(await api.request('POST', '/v1/models/bad-import/versions', {}), 400);
      expectProblem(
        await api.request('POST', '/v1/models/bad-import/versions', {
          artifact: housingArtifact(),
          weights: [1],
        }),
        400,
      );
    });
  });

  describe('importing a downloaded artifact as it is', () => {
    const postAsIs = (model: string, text: string, query = '') =>
      api.request('POST', `/v1/models/${model}/versions${query}`, text, {
        'content-type': 'application/json',
      });

    it('takes the file as downloaded (alias, description and tags from the query): same checksum, same predictions', async () => {
      expect((await importVersion('original', 2)).status).toBe(201);
      const source = (await api.request('GET', '/v1/models/original/versions/1')).body;
      const downloaded = await api.request('GET', '/v1/models/original/versions/1/artifact');
      expect(downloaded.headers.get('content-type')).toMatch(/^application\/json/);
      expect(downloaded.headers.get('content-disposition')).toBe(
        'attachment; filename="original-v1.json"',
      );

      const copy = await postAsIs(
        'as-is-copy',
        downloaded.text,
        '?alias=staging&description=from%20the%20download&tag=source:download&tag=team:ml',
      );
      expect(copy.status).toBe(201);
      expect(copy.headers.get('location')).toBe('/v1/models/as-is-copy/versions/1');
      expect(copy.body).toMatchObject({
        model: 'as-is-copy',
        version: 1,
        checksum: source.checksum,
        sizeBytes: source.sizeBytes,
        aliases: ['staging'],
        description: 'from the download',
        tags: { source: 'download', team: 'ml' },
        createdBy: 'import',
      });
      const again = await api.request('GET', '/v1/models/as-is-copy/versions/1/artifact');
      expect(again.text).toBe(downloaded.text);

      const instances = housingInstances();
      const [a, b] = await Promise.all([
        api.request('POST', '/v1/models/original/predict', { instances }),
        api.request('POST', '/v1/models/as-is-copy/predict?alias=staging', { instances }),
      ]);
      expect(b.status).toBe(200);
      expect(b.body.predictions).toEqual(a.body.predictions);

      // Without query parameters: no alias, no description, no tags.
      const plain = await postAsIs('as-is-copy', downloaded.text);
      expect(plain.status).toBe(201);
      expect(plain.body).toMatchObject({ version: 2, aliases: [], description: null, tags: {} });
    });

    it('points at the bad field of an artifact posted as it is, and checks the query', async () => {
      const { intercept: _dropped, ...noIntercept } = housingArtifact();
      const bad = await postAsIs('as-is-bad', JSON.stringify(noIntercept));
      expectProblem(bad, 400);
      expect(bad.body.errors.map((e: { field: string }) => e.field)).toContain(
        'artifact.intercept',
      );
      const text = JSON.stringify(housingArtifact());
      expectProblem(await postAsIs('as-is-bad', text, '?alias=no%20spaces'), 400, /alias/);
      const badTag = await postAsIs('as-is-bad', text, '?tag=no-colon');
      expectProblem(badTag, 400);
      expect(badTag.body.errors[0]).toMatchObject({ field: 'tag' });
      expect((await api.request('GET', '/v1/models/as-is-bad')).status).toBe(404);
    });

    it('keeps the wrapped form, with its options in the body only', async () => {
      const wrapped = await importVersion('wrapped', 1, { alias: 'staging' });
      expect(wrapped.status).toBe(201);
      expect(wrapped.body.aliases).toEqual(['staging']);
      const both = await api.request('POST', '/v1/models/wrapped/versions?alias=other', {
        artifact: housingArtifact(),
      });
      expectProblem(both, 400, /wrapped form/);
      expect(both.body.errors[0].field).toBe('querystring');
    });
  });

  describe('promotion and rollback', () => {
    beforeAll(async () => {
      for (const scale of [1, 2, 3]) await importVersion('promo', scale);
    });

    it('serves the latest ready version until production is set', async () => {
      const res = await predict('promo');
      expect(res.body.version).toBe(3);
    });

    it('serves every alias move on the very next request', async () => {
      const base = (await predict('promo', '?version=1')).body.predictions[0];
      for (const version of [2, 1, 3, 1, 2]) {
        const moved = await api.request('PUT', '/v1/models/promo/aliases/production', { version });
        expect(moved.status).toBe(200);
        const res = await predict('promo');
        expect(res.headers.get('x-model-version')).toBe(String(version));
        expect(res.body.predictions[0]).toBeCloseTo(base * version, 6);
      }
    });

    it('moves any alias name and serves it with ?alias=', async () => {
      await api.request('PUT', '/v1/models/promo/aliases/champion', { version: 3 });
      expect((await predict('promo', '?alias=champion')).body.version).toBe(3);
      const alias = await api.request('GET', '/v1/models/promo/aliases/champion');
      expect(alias.body).toMatchObject({ model: 'promo', alias: 'champion', version: 3 });
      const model = await api.request('GET', '/v1/models/promo');
      expect(model.body.aliases).toEqual({ production: 2, champion: 3 });
      const v3 = await api.request('GET', '/v1/models/promo/versions/3');
      expect(v3.body.aliases).toEqual(['champion']);
    });

    it('records every move as an event, newest first, paginated', async () => {
      const page = await api.request('GET', '/v1/models/promo/events?limit=3&offset=0');
      expect(page.body).toMatchObject({ total: 10, limit: 3, offset: 0 });
      expect(
        page.body.items.map((e: any) => [e.action, e.alias, e.fromVersion, e.toVersion]),
      ).toEqual([
        ['alias_set', 'champion', null, 3],
        ['alias_set', 'production', 1, 2],
        ['alias_set', 'production', 3, 1],
      ]);
      const oldest = await api.request('GET', '/v1/models/promo/events?limit=4&offset=6');
      expect(oldest.body.items.map((e: any) => e.action)).toEqual([
        'version_created',
        'version_created',
        'version_created',
        'model_created',
      ]);
      expect(
        oldest.body.items.every(
          (e: any) => e.actor === 'bootstrap-admin' && !Number.isNaN(Date.parse(e.createdAt)),
        ),
      ).toBe(true);
    });

    it('answers 404 for a missing model, version or alias and 400 for bad alias input', async () => {
      expectProblem(
        await api.request('PUT', '/v1/models/nope/aliases/production', { version: 1 }),
        404,
      );
      expectProblem(
        await api.request('PUT', '/v1/models/promo/aliases/production', { version: 9 }),
        404,
        /no version 9/,
      );
      expectProblem(await api.request('GET', '/v1/models/promo/aliases/canary'), 404);
      expectProblem(await api.request('DELETE', '/v1/models/promo/aliases/canary'), 404);
      expectProblem(
        await api.request('PUT', '/v1/models/promo/aliases/production', { version: 0 }),
        400,
      );
      expectProblem(await api.request('PUT', '/v1/models/promo/aliases/-bad', { version: 1 }), 400);
      expectProblem(await predict('promo', '?alias=canary'), 404);
    });
  });

  describe('archive, restore and delete', () => {
    beforeAll(async () => {
      for (const scale of [1, 2, 3]) await importVersion('life', scale);
      await api.request('PUT', '/v1/models/life/aliases/production', { version: 2 });
    });

    it('refuses to archive a version an alias points at, naming the alias', async () => {
      const res = await api.request('PATCH', '/v1/models/life/versions/2', { status: 'archived' });
      expectProblem(res, 409, /production \(v2\)/);
    });

    it('archives a version: it stops serving with a 409 that says how to fix it, and keeps its lineage', async () => {
      const res = await api.request('PATCH', '/v1/models/life/versions/3', { status: 'archived' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ version: 3, status: 'archived', format: 'modeldock/v1' });
      const served = await predict('life', '?version=3');
      expectProblem(served, 409, /Version 3 of life is archived.*"status":"ready"/);
      const listed = await api.request('GET', '/v1/models/life/versions?status=archived');
      expect(listed.body.items.map((v: any) => v.version)).toEqual([3]);
    });

    it('refuses to point an alias at an archived version', async () => {
      const res = await api.request('PUT', '/v1/models/life/aliases/staging', { version: 3 });
      expectProblem(res, 409, /archived/);
    });

    it('serves the latest ready version, skipping archived ones, when production is removed', async () => {
      await api.request('DELETE', '/v1/models/life/aliases/production');
      expect((await predict('life')).body.version).toBe(2);
      await api.request('PUT', '/v1/models/life/aliases/production', { version: 2 });
    });

    it('restores an archived version', async () => {
      const res = await api.request('PATCH', '/v1/models/life/versions/3', { status: 'ready' });
      expect(res.body.status).toBe('ready');
      expect((await predict('life', '?version=3')).status).toBe(200);
      await api.request('PATCH', '/v1/models/life/versions/3', { status: 'archived' });
    });

    it('deletes a version only when no alias points at it, and never reuses its number', async () => {
      expectProblem(await api.request('DELETE', '/v1/models/life/versions/2'), 409, /production/);
      expect((await api.request('DELETE', '/v1/models/life/versions/1')).status).toBe(204);
      expectProblem(await api.request('GET', '/v1/models/life/versions/1'), 404);
      expectProblem(await predict('life', '?version=1'), 404);
      const next = await importVersion('life', 4);
      expect(next.body.version).toBe(4);
      const events = await api.request('GET', '/v1/models/life/events?limit=3');
      expect(events.body.items.map((e: any) => [e.action, e.fromVersion, e.toVersion])).toEqual([
        ['version_created', null, 4],
        ['version_deleted', 1, null],
        ['version_archived', null, 3],
      ]);
    });

    it('edits descriptions and tags of models and versions, validated', async () => {
      const model = await api.request('PATCH', '/v1/models/life', {
        description: 'lifecycle',
        tags: { team: 'ops' },
      });
      expect(model.body).toMatchObject({ description: 'lifecycle', tags: { team: 'ops' } });
      const version = await api.request('PATCH', '/v1/models/life/versions/2', {
        description: 'the good one',
        tags: { ok: 'yes' },
      });
      expect(version.body).toMatchObject({
        description: 'the good one',
        tags: { ok: 'yes' },
        status: 'ready',
      });
      expectProblem(await api.request('PATCH', '/v1/models/life', { tags: ['a'] }), 400);
      expectProblem(await api.request('PATCH', '/v1/models/life', { tags: null }), 400);
      expectProblem(
        await api.request('PATCH', '/v1/models/life/versions/2', { status: 'deleted' }),
        400,
      );
      expectProblem(
        await api.request('PATCH', '/v1/models/life/versions/2', { artifact: {} }),
        400,
      );
      expectProblem(await api.request('PATCH', '/v1/models/nope', { description: 'x' }), 404);
      expectProblem(
        await api.request('PATCH', '/v1/models/life/versions/99', { description: 'x' }),
        404,
      );
    });

    it('deletes a model only when it has no alias, and then removes versions, aliases and events', async () => {
      expectProblem(await api.request('DELETE', '/v1/models/life'), 409, /production \(v2\)/);
      await api.request('DELETE', '/v1/models/life/aliases/production');
      expect((await api.request('DELETE', '/v1/models/life')).status).toBe(204);
      expectProblem(await api.request('GET', '/v1/models/life'), 404);
      expectProblem(await api.request('GET', '/v1/models/life/events'), 404);
      expectProblem(await predict('life'), 404);
      expectProblem(await api.request('DELETE', '/v1/models/life'), 404);

      const reborn = await importVersion('life');
      expect(reborn.body.version).toBe(1);
      const events = await api.request('GET', '/v1/models/life/events');
      expect(events.body.items.map((e: any) => e.action)).toEqual([
        'version_created',
        'model_created',
      ]);
    });
  });

  describe('listing and comparing', () => {
    beforeAll(async () => {
      await api.request('POST', '/v1/models', {
        name: 'sales-eu',
        tags: { team: 'growth', region: 'eu' },
      });
      await api.request('POST', '/v1/models', { name: 'sales-us', tags: { team: 'growth' } });
      await api.request('POST', '/v1/models', { name: 'Sales-old', tags: { team: 'legacy' } });
      await importVersion('sales-eu');
    });

    it('filters models by name prefix (case-sensitive) and by tag', async () => {
      const byPrefix = await api.request('GET', '/v1/models?prefix=sales-');
      expect(byPrefix.body.items.map((m: any) => m.name)).toEqual(['sales-eu', 'sales-us']);
      const byTag = await api.request('GET', '/v1/models?tag=team:growth');
      expect(byTag.body.items.map((m: any) => m.name)).toEqual(['sales-eu', 'sales-us']);
      const byKey = await api.request('GET', '/v1/models?tag=region');
      expect(byKey.body.items.map((m: any) => m.name)).toEqual(['sales-eu']);
      const both = await api.request('GET', '/v1/models?prefix=Sales&tag=team:legacy');
      expect(both.body).toMatchObject({ total: 1, items: [{ name: 'Sales-old' }] });
    });

    it('sorts models by last change and paginates', async () => {
      await api.request('PATCH', '/v1/models/sales-us', { description: 'touched last' });
      const recent = await api.request('GET', '/v1/models?sort=-updatedAt&limit=2');
      expect(recent.body.items.map((m: any) => m.name)).toEqual(['sales-us', 'sales-eu']);
      expect(recent.body.limit).toBe(2);
      expect(recent.body.total).toBeGreaterThan(5);
      const page = await api.request('GET', '/v1/models?sort=name&limit=1&offset=1');
      const all = await api.request('GET', '/v1/models?sort=name&limit=500');
      expect(page.body.items[0].name).toBe(all.body.items[1].name);
      expect(all.body.items.find((m: any) => m.name === 'sales-eu')).toMatchObject({
        latestVersion: 1,
        aliases: {},
      });
      expectProblem(await api.request('GET', '/v1/models?sort=size'), 400);
      expectProblem(await api.request('GET', '/v1/models?limit=501'), 400);
    });

    it('shows the full lineage of a trained version', async () => {
      const dataset = await api.request('POST', '/v1/datasets?name=housing-lineage', housingCsv, {
        'content-type': 'text/csv',
      });
      const job = await api.request('POST', '/v1/training-jobs', {
        model: 'ranked',
        dataset: dataset.body.id,
        target: 'price',
        features: ['area_m2', 'rooms', 'age_years'],
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'normal-equation' },
        validationSplit: 0.25,
        seed: 11,
        description: 'all features',
        tags: { features: 'all' },
      });
      await waitForJob(api, job.body.id);
      const version = (await api.request('GET', '/v1/models/ranked/versions/1')).body;
      expect(version).toMatchObject({
        dataset: { id: dataset.body.id, name: 'housing-lineage', checksum: dataset.body.checksum },
        trainingJob: job.body.id,
        createdBy: `training-job:${job.body.id}`,
        hyperparameters: { optimizer: 'normal-equation' },
        outputSchema: [{ name: 'price', type: 'number' }],
        description: 'all features',
        tags: { features: 'all' },
      });
      expect(Object.keys(version.metrics)).toEqual(['train', 'validation']);
      expect(version.lossHistory).toHaveLength(1);
      expect(version.sizeBytes).toBeGreaterThan(100);
    });

    it('ranks versions by a metric to find the best one', async () => {
      const dataset = (await api.request('GET', '/v1/datasets?limit=1')).body.items[0];
      for (const features of [['rooms'], ['area_m2'], ['age_years']]) {
        const job = await api.request('POST', '/v1/training-jobs', {
          model: 'ranked',
          dataset: dataset.id,
          target: 'price',
          features,
          algorithm: 'linear-regression',
          hyperparameters: { optimizer: 'normal-equation' },
          validationSplit: 0.25,
          seed: 11,
        });
        await waitForJob(api, job.body.id);
      }
      await importVersion('ranked');
      const versions = (await api.request('GET', '/v1/models/ranked/versions?limit=10')).body.items;
      const r2 = (v: any) => v.metrics.validation?.r2;
      const expected = versions
        .filter((v: any) => r2(v) !== undefined)
        .sort((a: any, b: any) => r2(b) - r2(a))
        .map((v: any) => v.version);
      expect(expected[0]).toBe(1);

      const best = await api.request(
        'GET',
        '/v1/models/ranked/versions?sort=-metric:validation.r2',
      );
      expect(best.body.items.map((v: any) => v.version)).toEqual([...expected, 5]);
      const byMse = await api.request(
        'GET',
        '/v1/models/ranked/versions?sort=metric:validation.mse&limit=1',
      );
      expect(byMse.body).toMatchObject({ total: 5, items: [{ version: expected[0] }] });
      expectProblem(
        await api.request('GET', '/v1/models/ranked/versions?sort=metric:test.r2'),
        400,
      );
    });

    it('lists versions with a summary of their loss history; the version itself has all of it', async () => {
      const list = await api.request('GET', '/v1/models/trained/versions');
      expect(list.status).toBe(200);
      expect(list.body.items.length).toBeGreaterThan(0);
      for (const item of list.body.items) {
        expect(item).not.toHaveProperty('lossHistory');
        expect(item).not.toHaveProperty('reference');
        const detail = (await api.request('GET', `/v1/models/trained/versions/${item.version}`))
          .body;
        expect(detail.lossHistory.length).toBeGreaterThan(0);
        expect(item.lossPoints).toBe(detail.lossHistory.length);
        expect(item.finalLoss).toBe(detail.lossHistory[detail.lossHistory.length - 1]);
        const { lossHistory: _history, reference: _reference, ...rest } = detail;
        expect(item).toMatchObject(rest);
      }
      // The list of a trained model costs bytes per version, not bytes per epoch.
      const fullList = JSON.stringify(
        await Promise.all(
          list.body.items.map(
            async (item: { version: number }) =>
              (await api.request('GET', `/v1/models/trained/versions/${item.version}`)).body,
          ),
        ),
      );
      expect(list.text.length).toBeLessThan(fullList.length);

      const imported = await api.request('GET', '/v1/models/imported/versions');
      expect(imported.body.items[0]).toMatchObject({ lossPoints: 0, finalLoss: null });
      expect(imported.body.items[0]).not.toHaveProperty('lossHistory');
    });
  });

  describe('version numbers', () => {
    // 9007199254740993 is above Number.MAX_SAFE_INTEGER: read as a number it becomes …992.
    const HUGE = '9007199254740993';

    beforeAll(async () => {
      await importVersion('numbered');
    });

    it.each([
      ['GET', `/v1/models/numbered/versions/${HUGE}`],
      ['PATCH', `/v1/models/numbered/versions/${HUGE}`],
      ['DELETE', `/v1/models/numbered/versions/${HUGE}`],
      ['GET', `/v1/models/numbered/versions/${HUGE}/artifact`],
      ['GET', '/v1/models/numbered/versions/2147483648'],
      ['GET', '/v1/models/numbered/versions/1e3'],
      ['GET', '/v1/models/numbered/versions/01'],
    ])('refuses %s %s with a 400 naming the version', async (method, url) => {
      const res = await api.request(method, url, method === 'PATCH' ? {} : undefined);
      expectProblem(res, 400, /is not a version number: versions are whole numbers from 1 to/);
      expect(res.body.errors).toEqual([{ field: 'version', message: expect.any(String) }]);
    });

    it('still answers 404 for the largest version number that does not exist', async () => {
      expectProblem(
        await api.request('GET', '/v1/models/numbered/versions/2147483647'),
        404,
        /no version 2147483647/,
      );
    });

    it('refuses an alias moved to a version above the largest', async () => {
      const res = await api.request(
        'PUT',
        '/v1/models/numbered/aliases/production',
        `{"version":${HUGE}}`,
        { 'content-type': 'application/json' },
      );
      expectProblem(res, 400);
      expect(res.body.errors[0].field).toBe('version');
      expect((await api.request('GET', '/v1/models/numbered/aliases/production')).status).toBe(404);
    });

    it('refuses ?version= above the largest on v1 predict, and on every v2 version route', async () => {
      for (const version of [HUGE, '2147483648']) {
        expectProblem(await predict('numbered', `?version=${version}`), 400);
      }
      const inputs = [{ name: 'input-0', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }];
      for (const version of [HUGE, '2147483648']) {
        const base = `/v2/models/numbered/versions/${version}`;
        for (const res of [
          await api.request('GET', base),
          await api.request('GET', `${base}/ready`),
          await api.request('POST', `${base}/infer`, { inputs }),
        ]) {
          expect(res.status).toBe(400);
          expect(res.body.error).toEqual(expect.any(String));
        }
      }
      expect((await predict('numbered', '?version=1')).status).toBe(200);
    });
  });

  describe('deleting a model while a job trains into it', () => {
    it('refuses with a 409 naming the job, deletes once it is cancelled, and no ghost model appears', async () => {
      await importVersion('doomed');
      const dataset = (await api.request('POST', '/v1/datasets', wideDataset(40))).body.id;
      const job = await api.request('POST', '/v1/training-jobs', {
        model: 'doomed',
        dataset,
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'gradient-descent', epochs: 1_000_000 },
      });
      expect(job.status).toBe(202);
      const jobId: string = job.body.id;

      const refused = await api.request('DELETE', '/v1/models/doomed');
      expectProblem(refused, 409, new RegExp(`training job\\(s\\) ${jobId}`));
      expect((await api.request('GET', '/v1/models/doomed')).status).toBe(200);

      const cancelled = await api.request('POST', `/v1/training-jobs/${jobId}/cancel`);
      expect(cancelled.body).toMatchObject({ status: 'cancelled', modelVersion: null });
      expect((await api.request('DELETE', '/v1/models/doomed')).status).toBe(204);

      expect(await waitForJob(api, jobId)).toMatchObject({
        status: 'cancelled',
        modelVersion: null,
      });
      expectProblem(await api.request('GET', '/v1/models/doomed'), 404);
      // Long enough for a finishing run to have registered a version, had it not been stopped.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expectProblem(await api.request('GET', '/v1/models/doomed'), 404);
      const models = (await api.request('GET', '/v1/models?prefix=doomed')).body;
      expect(models.total).toBe(0);
    });
  });

  describe('under concurrency', () => {
    it('gives 20 concurrent imports into one model versions 1..20 exactly', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => importVersion('crowd', i + 1)),
      );
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
      expect(results.map((r) => r.body.version).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });

    it('leaves one consistent final state and one event per move after 20 concurrent alias moves', async () => {
      const moves = Array.from({ length: 20 }, (_, i) => (i % 20) + 1);
      const results = await Promise.all(
        moves.map((version) =>
          api.request('PUT', '/v1/models/crowd/aliases/production', { version }),
        ),
      );
      expect(results.every((r) => r.status === 200)).toBe(true);
      const final = (await api.request('GET', '/v1/models/crowd/aliases/production')).body.version;
      const events = (
        await api.request('GET', '/v1/models/crowd/events?limit=500')
      ).body.items.filter((e: any) => e.action === 'alias_set');
      expect(events).toHaveLength(20);
      expect(events[0].toVersion).toBe(final);
      // Each move starts where the previous one ended: the events form one unbroken chain.
      const chronological = [...events].reverse();
      expect(chronological[0].fromVersion).toBeNull();
      for (let i = 1; i < chronological.length; i++) {
        expect(chronological[i].fromVersion).toBe(chronological[i - 1].toVersion);
      }
      expect((await predict('crowd')).body.version).toBe(final);
    });
  });

  describe('after a restart', () => {
    it('finds aliases, events, archived state and identical predictions', async () => {
      await api.request('PATCH', '/v1/models/promo/versions/1', { status: 'archived' });
      const before = {
        model: (await api.request('GET', '/v1/models/promo')).body,
        versions: (await api.request('GET', '/v1/models/promo/versions')).body,
        events: (await api.request('GET', '/v1/models/promo/events?limit=500')).body,
        production: (await predict('promo')).body,
        champion: (await predict('promo', '?alias=champion')).body,
      };
      await api.close();
      api = await startApp(dataDir);
      expect((await api.request('GET', '/v1/models/promo')).body).toEqual(before.model);
      expect((await api.request('GET', '/v1/models/promo/versions')).body).toEqual(before.versions);
      expect((await api.request('GET', '/v1/models/promo/events?limit=500')).body).toEqual(
        before.events,
      );
      expect((await predict('promo')).body).toEqual(before.production);
      expect((await predict('promo', '?alias=champion')).body).toEqual(before.champion);
      expectProblem(await predict('promo', '?version=1'), 409, /archived/);
    });
  });
});
