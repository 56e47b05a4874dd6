import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnService } from './support/service-process';
import { makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';

describe('service endpoints', () => {
  let dataDir: string;
  let api: TestApp;

  beforeAll(async () => {
    dataDir = makeDataDir();
    api = await startApp(dataDir);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('reports liveness', async () => {
    const res = await api.request('GET', '/health/live');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  it('reports readiness with the database and migrations checked', async () => {
    const res = await api.request('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.details).toEqual({
      database: { status: 'up' },
      migrations: { status: 'up' },
      load: { status: 'up' },
    });
  });

  it('exposes Prometheus metrics labelled by route template, not raw URL', async () => {
    await api.request('GET', '/v1/models/some-model');
    const res = await api.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain('process_cpu_user_seconds_total');
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/v1\/models\/:name",status_code="404"\} 1/,
    );
    expect(res.text).not.toContain('some-model');
  });

  it('writes metrics that follow the Prometheus naming rules promtool checks', async () => {
    const { text } = await api.request('GET', '/metrics');
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({
      name,
      type,
    }));
    expect(types.length).toBeGreaterThan(10);
    for (const { name, type } of types) {
      expect(`${name} ${type}`).toMatch(
        type === 'counter' ? /_total counter$/ : /(?<!_total) \w+$/,
      );
      expect(text).toContain(`# HELP ${name} `);
    }
    // The real linter, where the machine has it (Debian package `prometheus`).
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (!promtool.error) expect(promtool.stdout + promtool.stderr).toBe('');
  });

  it('echoes a client request id and makes one up otherwise', async () => {
    const given = await api.request('GET', '/health/live', undefined, {
      'x-request-id': 'trace-123',
    });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await api.request('GET', '/health/live');
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the OpenAPI document with every route and the Swagger UI', async () => {
    const doc = await api.request('GET', '/docs-json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths).sort()).toEqual(
      [
        '/health/live',
        '/health/ready',
        '/metrics',
        '/v1/algorithms',
        '/v1/api-keys',
        '/v1/api-keys/current',
        '/v1/api-keys/{id}',
        '/v1/datasets',
        '/v1/datasets/{id}',
        '/v1/datasets/{id}/rows',
        '/v1/models',
        '/v1/models/{name}',
        '/v1/models/{name}/aliases/{alias}',
        '/v1/models/{name}/aliases/{alias}/canary',
        '/v1/models/{name}/aliases/{alias}/canary/promote',
        '/v1/models/{name}/aliases/{alias}/shadow',
        '/v1/models/{name}/events',
        '/v1/models/{name}/monitoring',
        '/v1/models/{name}/predict',
        '/v1/models/{name}/predictions',
        '/v1/models/{name}/versions',
        '/v1/models/{name}/versions/{version}',
        '/v1/models/{name}/versions/{version}/artifact',
        '/v1/models/{name}/versions/{version}/drift',
        '/v1/models/{name}/versions/{version}/reference',
        '/v1/training-jobs',
        '/v1/training-jobs/{id}',
        '/v1/training-jobs/{id}/cancel',
        '/v1/training-jobs/{id}/events',
        '/v2',
        '/v2/health/live',
        '/v2/health/ready',
        '/v2/models/{name}',
        '/v2/models/{name}/infer',
        '/v2/models/{name}/ready',
        '/v2/models/{name}/versions/{version}',
        '/v2/models/{name}/versions/{version}/infer',
        '/v2/models/{name}/versions/{version}/ready',
      ].sort(),
    );
    // The Swagger plugin documents DTO properties from their types.
    expect(doc.body.components.schemas.TrainingJobResponse.properties.lossHistory.type).toBe(
      'array',
    );
    expect(
      doc.body.paths['/v1/models/{name}/predict'].post.responses.default.content,
    ).toHaveProperty(
      ['application/problem+json', 'schema', '$ref'],
      '#/components/schemas/ProblemDetails',
    );
    // Every request and response property carries an example (nested objects through their own schema).
    const withoutExample = Object.entries(doc.body.components.schemas).flatMap(
      ([name, schema]: [string, any]) =>
        Object.entries(schema.properties ?? {})
          .filter(
            ([, property]: [string, any]) =>
              property.example === undefined &&
              !property.$ref &&
              !property.allOf &&
              !property.items?.$ref,
          )
          .map(([property]) => `${name}.${property}`),
    );
    expect(withoutExample).toEqual([]);
    const ui = await api.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('service: start-up output', () => {
  /** The JSON log lines of a service started on `dataDir` without MODELDOCK_ADMIN_KEY. */
  const startAndRead = async (dataDir: string, level: string) => {
    const service = await spawnService(dataDir, {
      captureStdout: true,
      env: { LOG_LEVEL: level, MODELDOCK_ADMIN_KEY: '' },
    });
    try {
      // The last line is written just after the port opens.
      for (let i = 0; i < 100 && !/listening on/.test(service.stdout()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const text = service.stdout();
      const lines = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      return { text, lines, baseUrl: service.baseUrl };
    } finally {
      await service.kill();
    }
  };

  it('shows a newcomer where the admin key is and how to use it, never the key, and maps routes only at debug', async () => {
    const dataDir = makeDataDir();
    try {
      const first = await startAndRead(dataDir, 'info');
      const file = path.join(dataDir, 'admin.key');
      const key = readFileSync(file, 'utf8').trim();
      expect(first.text).not.toContain(key);
      expect(first.text).not.toMatch(/Mapped \{/);
      expect(first.lines.length).toBeLessThan(10);
      const notice = first.lines.find((line) => line.msg.includes('admin.key'));
      expect(notice).toMatchObject({ level: 40 }); // warn: shown at any usual level
      expect(notice?.msg).toContain(`export MODELDOCK_KEY=$(cat ${file})`);
      expect(notice?.msg).toMatch(
        /curl -H 'Authorization: Bearer '\$MODELDOCK_KEY http:\/\/127\.0\.0\.1:\d+\/v1\/models$/,
      );

      // The line pastes into a shell as it is and reaches the API with the key (the old port).
      const paste = notice!.msg.slice(notice!.msg.indexOf('export MODELDOCK_KEY'));
      const again = await spawnService(dataDir, { env: { MODELDOCK_ADMIN_KEY: '' } });
      try {
        const curl = spawnSync('sh', ['-c', paste.replace(/http:\/\/[^/]+/, again.baseUrl)], {
          encoding: 'utf8',
        });
        if (!curl.error) expect(JSON.parse(curl.stdout)).toMatchObject({ items: [] });
      } finally {
        await again.kill();
      }

      // Later starts say where the key is, still without it; route mapping is there at debug.
      const later = await startAndRead(dataDir, 'debug');
      expect(later.text).not.toContain(key);
      expect(later.text).toMatch(/Mapped \{\/v1\/models, GET\} route/);
      expect(later.lines.find((line) => line.msg.includes('admin.key'))?.msg).toContain(
        `The admin API key is in ${file}. Use it: export MODELDOCK_KEY=$(cat ${file})`,
      );
    } finally {
      removeDataDir(dataDir);
    }
  });
});
