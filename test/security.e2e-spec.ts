import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { housingArtifact, housingInstances, lineDataset } from './support/fixtures';
import { databaseText } from './support/test-database';
import {
  authHeaders,
  makeDataDir,
  removeDataDir,
  startApp,
  TEST_ADMIN_KEY,
  TestApp,
  waitForJob,
} from './support/test-app';

const ROLES = ['admin', 'trainer', 'predictor', 'viewer'] as const;
type Role = (typeof ROLES)[number];
const MISSING_ID = '00000000-0000-4000-8000-000000000000';
/** Probes open to all (Kubernetes and KServe call them without a key), like /health/*. */
const OPEN_V2_PROBES = ['/v2/health/live', '/v2/health/ready'];

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
}

describe('security', () => {
  let dataDir: string;
  let api: TestApp;
  const keys = {} as Record<Role, string>;

  const createKey = async (role: Role, extra: Record<string, unknown> = {}) => {
    const res = await api.request('POST', '/v1/api-keys', { name: `${role}-key`, role, ...extra });
    expect(res.status).toBe(201);
    return res.body;
  };

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
    for (const role of ROLES) keys[role] = (await createKey(role)).key;
    await api.request('POST', '/v1/models/house/versions', { artifact: housingArtifact() });
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  describe('the role matrix, route by route from the OpenAPI document', () => {
    let operations: { method: string; url: string; roles: Role[] }[];

    beforeAll(async () => {
      const doc = (await api.request('GET', '/docs-json')).body;
      operations = [];
      for (const [template, item] of Object.entries<any>(doc.paths)) {
        if (!/^\/v[12]/.test(template) || OPEN_V2_PROBES.includes(template)) continue;
        for (const [method, operation] of Object.entries<any>(item)) {
          // Path parameters that name nothing: an allowed request is a 4xx, never a change.
          const url = template
            .replace('{id}', MISSING_ID)
            .replace('{version}', '999')
            .replace(/\{\w+\}/g, 'no-such-thing');
          operations.push({
            method: method.toUpperCase(),
            url,
            roles: operation['x-required-roles'],
          });
        }
      }
    });

    it('documents the roles and the security schemes of every /v1 and /v2 route', async () => {
      const doc = (await api.request('GET', '/docs-json')).body;
      expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['api-key', 'bearer']);
      expect(operations.length).toBeGreaterThan(30);
      for (const operation of operations) {
        expect(operation.roles?.length).toBeGreaterThan(0);
        expect(operation.roles).toContain('admin');
      }
      // Swagger UI shows the roles in each operation's description.
      const predict = doc.paths['/v1/models/{name}/predict'].post;
      expect(predict.description).toMatch(/^\*\*Roles:\*\* admin, trainer, predictor\./);
      expect(doc.paths['/v1/api-keys'].post.description).toMatch(/^\*\*Roles:\*\* admin\./);
    });

    it('answers 401 without a key and with an unknown key, with WWW-Authenticate: Bearer', async () => {
      for (const { method, url } of operations) {
        const none = await api.request(method, url, undefined, { authorization: '' });
        expect([method, url, none.status]).toEqual([method, url, 401]);
        expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const wrong = await api.request(method, url, undefined, authHeaders(`${keys.admin}x`));
        expect([method, url, wrong.status]).toEqual([method, url, 401]);
        expect(wrong.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
      }
    });

    it("answers 403 naming the role needed when the key's role lacks the right, and lets it through otherwise", async () => {
      for (const { method, url, roles } of operations) {
        for (const role of ROLES) {
          const res = await api.request(method, url, undefined, authHeaders(keys[role]));
          const allowed = roles.includes(role);
          if (allowed) {
            expect([method, url, role, res.status]).not.toContainEqual(401);
            expect([method, url, role, res.status === 403]).toEqual([method, url, role, false]);
          } else {
            expect([method, url, role, res.status]).toEqual([method, url, role, 403]);
            expect(res.text).toMatch(/admin role/);
            expect(res.text).toContain(`the ${role} role`);
          }
        }
      }
    });

    it('speaks the Open Inference error shape on /v2 and problem details on /v1', async () => {
      const v2 = await api.request('POST', '/v2/models/house/infer', {}, { authorization: '' });
      expect(v2.status).toBe(401);
      expect(Object.keys(v2.body)).toEqual(['error']);
      const v1 = await api.request(
        'POST',
        '/v1/models/house/predict',
        {},
        authHeaders(keys.viewer),
      );
      expectProblem(v1, 403);
      expect(v1.body.detail).toMatch(/needs the predictor, trainer or admin role/);
    });

    it('leaves /health, /v2/health, /metrics and /docs open', async () => {
      const open = ['/health/live', '/health/ready', ...OPEN_V2_PROBES, '/metrics', '/docs'];
      for (const url of [...open, '/docs-json']) {
        expect([
          url,
          (await api.request('GET', url, undefined, { authorization: '' })).status,
        ]).toEqual([url, 200]);
      }
      const none = { authorization: '' };
      expect((await api.request('GET', '/v2/health/live', undefined, none)).body).toEqual({
        live: true,
      });
      expect((await api.request('GET', '/v2/health/ready', undefined, none)).body).toEqual({
        ready: true,
      });
      // The document says so: no security scheme, no roles.
      const doc = (await api.request('GET', '/docs-json')).body;
      for (const url of OPEN_V2_PROBES) {
        expect(doc.paths[url].get.security).toBeUndefined();
        expect(doc.paths[url].get['x-required-roles']).toBeUndefined();
      }
    });

    it('takes the key as X-API-Key as well as Authorization: Bearer', async () => {
      const res = await api.request(
        'POST',
        '/v1/models/house/predict',
        { instances: housingInstances().slice(0, 1) },
        { 'x-api-key': keys.predictor },
      );
      expect(res.status).toBe(200);
    });
  });

  describe('keys', () => {
    it('shows a new key once, lists it without its secret, and stores only its hash', async () => {
      const created = await createKey('viewer', { name: 'dashboards' });
      expect(created.key).toMatch(/^mdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      expect(created.key.startsWith(created.prefix)).toBe(true);
      expect(created).toMatchObject({
        name: 'dashboards',
        role: 'viewer',
        createdBy: 'bootstrap-admin',
      });

      expect(
        (await api.request('GET', '/v1/datasets', undefined, authHeaders(created.key))).status,
      ).toBe(200);
      const listed = await api.request('GET', '/v1/api-keys?limit=500');
      expect(listed.text).not.toContain(created.key);
      expect(listed.text).not.toContain(createHash('sha256').update(created.key).digest('hex'));
      const item = listed.body.items.find((key: any) => key.id === created.id);
      expect(Object.keys(item).sort()).toEqual(
        [
          'createdAt',
          'createdBy',
          'expiresAt',
          'id',
          'lastUsedAt',
          'name',
          'prefix',
          'role',
        ].sort(),
      );
      expect(Date.parse(item.lastUsedAt)).toBeGreaterThan(Date.parse(item.createdAt) - 1000);

      const stored = await databaseText(dataDir);
      expect(stored).not.toContain(created.key);
      expect(stored).not.toContain(created.key.slice(17));
      expect(stored).toContain(createHash('sha256').update(created.key).digest('hex'));
    });

    it('revokes a key at once: the next request with it is 401', async () => {
      const created = await createKey('trainer', { name: 'short-lived' });
      const use = () => api.request('GET', '/v1/datasets', undefined, authHeaders(created.key));
      expect((await use()).status).toBe(200);
      expect((await api.request('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(204);
      const after = await use();
      expectProblem(after, 401);
      expect(after.body.detail).toMatch(/revoked/);
      expect((await api.request('DELETE', `/v1/api-keys/${created.id}`)).status).toBe(404);
    });

    it('refuses an expired key', async () => {
      const created = await createKey('viewer', {
        name: 'expiring',
        expiresAt: new Date(Date.now() + 1000).toISOString(),
      });
      const use = () => api.request('GET', '/v1/datasets', undefined, authHeaders(created.key));
      expect((await use()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const after = await use();
      expectProblem(after, 401);
      expect(after.body.detail).toMatch(/expired at/);
    });

    it('refuses bad key requests with 400', async () => {
      expectProblem(await api.request('POST', '/v1/api-keys', { name: 'x', role: 'root' }), 400);
      expectProblem(
        await api.request('POST', '/v1/api-keys', { name: '../x', role: 'viewer' }),
        400,
      );
      expectProblem(
        await api.request('POST', '/v1/api-keys', {
          name: 'past',
          role: 'viewer',
          expiresAt: '2001-01-01T00:00:00Z',
        }),
        400,
      );
    });
  });

  describe('roles in the registry', () => {
    it('records the key name on events and on training jobs', async () => {
      const trainer = authHeaders(keys.trainer);
      const dataset = await api.request('POST', '/v1/datasets', lineDataset('audit'), trainer);
      const job = await api.request(
        'POST',
        '/v1/training-jobs',
        {
          model: 'audited',
          dataset: dataset.body.id,
          target: 'y',
          algorithm: 'linear-regression',
          hyperparameters: { optimizer: 'normal-equation' },
          validationSplit: 0,
          alias: 'staging',
        },
        trainer,
      );
      expect(job.body.createdBy).toBe('trainer-key');
      expect((await waitForJob(api, job.body.id)).status).toBe('succeeded');
      const events = (await api.request('GET', '/v1/models/audited/events')).body.items;
      expect(events.map((e: any) => [e.action, e.actor])).toEqual([
        ['alias_set', 'trainer-key'],
        ['version_created', 'trainer-key'],
        ['model_created', 'trainer-key'],
      ]);
    });

    it('lets only an admin protect an alias, and then move or delete it', async () => {
      const trainer = authHeaders(keys.trainer);
      await api.request('POST', '/v1/models/house/versions', { artifact: housingArtifact(2) });
      const protect = { version: 1, protected: true };
      expectProblem(
        await api.request('PUT', '/v1/models/house/aliases/production', protect, trainer),
        403,
      );
      const set = await api.request('PUT', '/v1/models/house/aliases/production', protect);
      expect(set.body).toMatchObject({ version: 1, protected: true });

      const move = await api.request(
        'PUT',
        '/v1/models/house/aliases/production',
        { version: 2 },
        trainer,
      );
      expectProblem(move, 403);
      expect(move.body.detail).toMatch(/production of house is protected.*admin role/);
      expectProblem(
        await api.request('DELETE', '/v1/models/house/aliases/production', undefined, trainer),
        403,
      );
      const datasetId = (await api.request('POST', '/v1/datasets', lineDataset('p'), trainer)).body
        .id;
      const job = await api.request(
        'POST',
        '/v1/training-jobs',
        {
          model: 'house',
          dataset: datasetId,
          target: 'y',
          algorithm: 'linear-regression',
          alias: 'production',
        },
        trainer,
      );
      expectProblem(job, 403);

      // Unprotected aliases stay the trainer's to move; the admin's move keeps the protection.
      expect(
        (await api.request('PUT', '/v1/models/house/aliases/canary', { version: 2 }, trainer))
          .status,
      ).toBe(200);
      const admin = await api.request('PUT', '/v1/models/house/aliases/production', { version: 2 });
      expect(admin.body).toMatchObject({ version: 2, protected: true });
    });
  });

  describe('strict JSON and hardening', () => {
    it('refuses duplicate keys and prototype-pollution keys with 400', async () => {
      const send = (text: string) =>
        api.request('POST', '/v1/models', text, { 'content-type': 'application/json' });
      const duplicate = await send('{"name":"a","name":"b"}');
      expectProblem(duplicate, 400);
      expect(duplicate.body.detail).toMatch(/"name" twice/);
      expectProblem(await send('{"name":"a","__proto__":{"admin":true}}'), 400);
      expectProblem(await send('{"name":"a","constructor":{"prototype":{"x":1}}}'), 400);
      const predict = await api.request(
        'POST',
        '/v1/models/house/predict',
        '{"instances":[{"a":1,"a":2}]}',
        { 'content-type': 'application/json' },
      );
      expectProblem(predict, 400);
      expect((await api.request('GET', '/v1/models/a')).status).toBe(404);
    });

    it('sets security headers on API responses and on the Swagger UI, and no CORS by default', async () => {
      // The API: nothing may be framed or loaded from its responses.
      for (const url of ['/v1/models', '/health/live', '/no-such-route']) {
        const res = await api.request('GET', url, undefined, { origin: 'https://evil.example' });
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toBe(
          "default-src 'none';frame-ancestors 'none'",
        );
        expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
        expect(res.headers.get('x-frame-options')).toBe('DENY');
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
      }
      // The Swagger UI page: helmet's page defaults.
      const page = await api.request('GET', '/docs');
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      // Swagger UI loads only same-origin scripts, which the policy allows.
      const ui = await api.request('GET', '/docs');
      const scripts = [...ui.text.matchAll(/<script[^>]*src="([^"]+)"/g)].map((m) => m[1]);
      expect(scripts.length).toBeGreaterThan(0);
      for (const src of scripts) {
        expect(src).not.toMatch(/^https?:/);
        const asset = new URL(src, `${api.baseUrl}/docs`).pathname;
        expect((await api.request('GET', asset)).status).toBe(200);
      }
    });

    it('never answers with a stack trace or SQL', async () => {
      const res = await api.request('GET', `/v1/datasets/${MISSING_ID}/rows?limit=abc`);
      expect(res.text).not.toMatch(/at .*\.(ts|js):\d+|SELECT|SQLITE/);
    });
  });
});

describe('security: bootstrap', () => {
  it('creates an admin key in DATA_DIR/admin.key (0600) on the first start and reuses it', async () => {
    const dataDir = makeDataDir();
    try {
      let api = await startApp(dataDir, { MODELDOCK_ADMIN_KEY: '' });
      const file = path.join(dataDir, 'admin.key');
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const key = readFileSync(file, 'utf8').trim();
      expect(key.length).toBeGreaterThanOrEqual(32);
      expect((await api.request('GET', '/v1/api-keys', undefined, authHeaders(key))).status).toBe(
        200,
      );
      expect((await api.request('GET', '/v1/api-keys')).status).toBe(401);
      await api.close();

      api = await startApp(dataDir, { MODELDOCK_ADMIN_KEY: '' });
      expect(readFileSync(file, 'utf8').trim()).toBe(key);
      expect((await api.request('GET', '/v1/api-keys', undefined, authHeaders(key))).status).toBe(
        200,
      );
      await api.close();

      // MODELDOCK_ADMIN_KEY takes over; the file's key no longer works.
      api = await startApp(dataDir);
      expect((await api.request('GET', '/v1/api-keys')).status).toBe(200);
      expect((await api.request('GET', '/v1/api-keys', undefined, authHeaders(key))).status).toBe(
        401,
      );
      await api.close();
    } finally {
      removeDataDir(dataDir);
    }
  });
});

describe('security: limits', () => {
  let dataDir: string;
  let api: TestApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir, {
      RATE_LIMIT_MANAGEMENT_PER_MINUTE: '40',
      RATE_LIMIT_PREDICT_PER_MINUTE: '3',
      OVERLOAD_MAX_IN_FLIGHT: '3',
      BODY_LIMIT_BYTES: '2048',
      PREDICT_BODY_LIMIT_BYTES: '8192',
      DATASET_BODY_LIMIT_BYTES: '65536',
      CORS_ORIGINS: 'https://app.example.com',
      METRICS_REQUIRE_KEY: 'true',
    });
    await api.request('POST', '/v1/models/house/versions', { artifact: housingArtifact() });
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('answers 429 with Retry-After and RateLimit headers once a key has used its predictions', async () => {
    const body = { instances: housingInstances().slice(0, 1) };
    const statuses: number[] = [];
    let last: any;
    for (let i = 0; i < 4; i++) {
      last = await api.request('POST', '/v1/models/house/predict', body);
      statuses.push(last.status);
      // Predictions carry the RateLimit headers only when refused (small hot-path responses).
      if (i === 0) expect(last.headers.get('ratelimit-limit')).toBeNull();
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expectProblem(last, 429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.headers.get('ratelimit-limit')).toBe('3');
    expect(last.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(last.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    // The V2 route shares the class and speaks its own error shape.
    const v2 = await api.request('POST', '/v2/models/house/infer', { inputs: [] });
    expect(v2.status).toBe(429);
    expect(Object.keys(v2.body)).toEqual(['error']);
    // Per key and per class: another key predicts, and management routes still answer.
    const other = (await api.request('POST', '/v1/api-keys', { name: 'p2', role: 'predictor' }))
      .body.key;
    expect(
      (await api.request('POST', '/v1/models/house/predict', body, authHeaders(other))).status,
    ).toBe(200);
    const management = await api.request('GET', '/v1/models');
    expect(management.status).toBe(200);
    expect(management.headers.get('ratelimit-limit')).toBe('40');
    expect(Number(management.headers.get('ratelimit-remaining'))).toBeLessThan(40);
  });

  it('counts management requests per key and answers 429 beyond the limit', async () => {
    const key = (await api.request('POST', '/v1/api-keys', { name: 'busy', role: 'viewer' })).body
      .key;
    const statuses: number[] = [];
    for (let i = 0; i < 41; i++) {
      statuses.push((await api.request('GET', '/v1/models', undefined, authHeaders(key))).status);
    }
    expect(statuses.slice(0, 40).every((status) => status === 200)).toBe(true);
    expect(statuses[40]).toBe(429);
  });

  it('answers 413 by route class: small bodies by default, moderate for predict, large for datasets', async () => {
    const padding = 'x'.repeat(4000);
    const big = await api.request('POST', '/v1/models', { name: 'big', description: padding });
    expectProblem(big, 413);
    expect(big.body.detail).toMatch(
      /limit of \d+ bytes; send a smaller body, or raise BODY_LIMIT_BYTES/,
    );
    const rows = Array.from({ length: 400 }, (_, i) => [i, 2 * i, 3 * i]);
    const dataset = await api.request('POST', '/v1/datasets', {
      name: 'mid',
      columns: ['a', 'b', 'y'],
      rows,
    });
    expect(dataset.status).toBe(201);
    const many = { instances: Array.from({ length: 800 }, () => housingInstances()[0]) };
    const other = (await api.request('POST', '/v1/api-keys', { name: 'p3', role: 'predictor' }))
      .body.key;
    const tooMany = await api.request('POST', '/v1/models/house/predict', many, authHeaders(other));
    expectProblem(tooMany, 413);
    expect(tooMany.body.detail).toMatch(
      /limit of \d+ bytes; split the batch, or raise PREDICT_BODY_LIMIT_BYTES/,
    );
    const huge = Array.from({ length: 6000 }, (_, i) => [i, 2 * i, 3 * i]);
    const hugeDataset = await api.request('POST', '/v1/datasets', {
      name: 'huge',
      columns: ['a', 'b', 'y'],
      rows: huge,
    });
    expectProblem(hugeDataset, 413);
    expect(hugeDataset.body.detail).toMatch(/raise DATASET_BODY_LIMIT_BYTES/);
  });

  it('puts /metrics behind a key when METRICS_REQUIRE_KEY is set, and leaves health open', async () => {
    expect((await api.request('GET', '/metrics', undefined, { authorization: '' })).status).toBe(
      401,
    );
    const viewer = (await api.request('POST', '/v1/api-keys', { name: 'prom', role: 'viewer' }))
      .body.key;
    expect((await api.request('GET', '/metrics', undefined, authHeaders(viewer))).status).toBe(200);
    expect(
      (await api.request('GET', '/health/ready', undefined, { authorization: '' })).status,
    ).toBe(200);
  });

  it('allows the configured CORS origin only', async () => {
    const allowed = await api.request('GET', '/v1/models', undefined, {
      origin: 'https://app.example.com',
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await api.request('GET', '/v1/models', undefined, {
      origin: 'https://evil.example',
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A browser's preflight carries no key; it is answered before any key is asked for.
    const preflight = await api.request('OPTIONS', '/v1/models', undefined, {
      authorization: '',
      origin: 'https://app.example.com',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('sheds requests beyond the in-flight bound with 503 and Retry-After; liveness stays 200', async () => {
    const url = new URL(api.baseUrl);
    // Requests whose bodies never finish arriving stay in flight.
    const held = Array.from({ length: 3 }, () => {
      const request = http.request({
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/v1/datasets?name=slow',
        headers: {
          ...authHeaders(TEST_ADMIN_KEY),
          'content-type': 'text/csv',
          'content-length': '1000',
        },
      });
      request.on('error', () => undefined);
      request.write('a,b,y\n');
      return request;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const shed = await api.request('GET', '/v1/models');
    expectProblem(shed, 503);
    expect(shed.headers.get('retry-after')).toBe('1');
    // A shed answer carries the headers of any other.
    expect(shed.headers.get('x-request-id')).toMatch(/\S/);
    expect(shed.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await api.request('GET', '/health/live')).status).toBe(200);
    const ready = await api.request('GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.load.message).toMatch(/3 requests in flight/);
    // The Open Inference probes are exempt too, open, and say the same in the protocol's shape.
    const v2Ready = await api.request('GET', '/v2/health/ready', undefined, { authorization: '' });
    expect(v2Ready.status).toBe(503);
    expect(Object.keys(v2Ready.body)).toEqual(['error']);
    expect(
      (await api.request('GET', '/v2/health/live', undefined, { authorization: '' })).status,
    ).toBe(200);

    for (const request of held) request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await api.request('GET', '/v1/models')).status).toBe(200);
    expect((await api.request('GET', '/health/ready')).status).toBe(200);
    expect(
      (await api.request('GET', '/v2/health/ready', undefined, { authorization: '' })).status,
    ).toBe(200);
  });
});
