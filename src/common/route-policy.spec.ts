import 'reflect-metadata';
import { Controller, Get, Post } from '@nestjs/common';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import Fastify, { FastifyInstance } from 'fastify';
import { installAccessControl } from '../auth/access-control';
import { Access } from '../auth/access.decorator';
import type { ApiKeysService, Principal } from '../auth/api-keys.service';
import { UnauthorizedError } from './errors';
import { installRequestGate } from './request-gate';
import { applyRoutePolicies, ROUTE_POLICIES, RoutePolicy } from './route-policy';

const LIMITS = { default: 100, dataset: 300, predict: 200, model: 4096 };
const KEYS: Record<string, Principal> = {
  admin: { keyId: '1', name: 'admin-key', role: 'admin' },
  viewer: { keyId: '2', name: 'viewer-key', role: 'viewer' },
};
const keys = {
  authenticate: (key: string) => {
    const principal = KEYS[key];
    if (!principal) throw new UnauthorizedError('The API key is not valid.');
    return principal;
  },
} as unknown as ApiKeysService;

function app(metricsRequireKey = false): FastifyInstance {
  const fastify = Fastify();
  applyRoutePolicies(fastify, LIMITS);
  installRequestGate(fastify, [installAccessControl(fastify, keys, { metricsRequireKey })]);
  fastify.setErrorHandler((error: Error & { status?: number }, _request, reply) => {
    void reply.status(error.status ?? 500).send({ error: error.message });
  });
  return fastify;
}

const ok = () => ({ ok: true });
const status = async (fastify: FastifyInstance, url: string, key?: string, method = 'GET') =>
  (
    await fastify.inject({
      method: method as 'GET',
      url,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    })
  ).statusCode;

describe('route policies', () => {
  it('needs an admin key on a route that declares neither a class nor a permission (fail closed)', async () => {
    const fastify = app();
    fastify.get('/v1/new-thing', ok);
    expect(await status(fastify, '/v1/new-thing')).toBe(401);
    expect(await status(fastify, '/v1/new-thing', 'viewer')).toBe(403);
    expect(await status(fastify, '/v1/new-thing', 'admin')).toBe(200);
  });

  it('leaves a route open when its class says so, and asks the declared permission otherwise', async () => {
    const fastify = app();
    fastify.get('/v2/health/live', { config: { routeClass: 'inference-probe' } }, ok);
    fastify.get('/v2', { config: { routeClass: 'open-inference', access: 'metadata' } }, ok);
    expect(await status(fastify, '/v2/health/live')).toBe(200);
    expect(await status(fastify, '/v2')).toBe(401);
    expect(await status(fastify, '/v2', 'viewer')).toBe(200);
  });

  it('refuses at start-up a route that is open by its class yet declares a permission', () => {
    const fastify = app();
    expect(() =>
      fastify.get('/health/live', { config: { routeClass: 'probe', access: 'read' } }, ok),
    ).toThrow(/GET \/health\/live is a probe route, open to all, yet declares @Access\('read'\)/);
  });

  it('puts the scrape behind a metadata key only when METRICS_REQUIRE_KEY is set', async () => {
    for (const required of [false, true]) {
      const fastify = app(required);
      fastify.get('/metrics', { config: { routeClass: 'metrics' } }, ok);
      expect(await status(fastify, '/metrics')).toBe(required ? 401 : 200);
      expect(await status(fastify, '/metrics', 'viewer')).toBe(200);
    }
  });

  it("gives each route its class's body limit and rules, read from the route, not the URL", async () => {
    const fastify = app();
    const seen: Record<string, unknown> = {};
    fastify.addHook('onRoute', (route) => {
      seen[`${String(route.method)} ${route.url}`] = { limit: route.bodyLimit, ...route.config };
    });
    fastify.post('/anything', { config: { routeClass: 'predict', access: 'predict' } }, ok);
    fastify.post('/v1/datasets', { config: { routeClass: 'dataset-upload' } }, ok);
    fastify.get('/docs-json', ok);
    fastify.options('*', ok);
    fastify.post('/v1/models', ok);
    await fastify.ready();
    expect(seen['POST /anything']).toMatchObject({
      limit: LIMITS.predict,
      policy: ROUTE_POLICIES.predict,
    });
    expect(seen['POST /v1/datasets']).toMatchObject({ limit: LIMITS.dataset, access: 'admin' });
    expect(seen['GET /docs-json']).toMatchObject({
      routeClass: 'docs',
      policy: { headers: 'docs' },
    });
    expect(seen['OPTIONS *']).toMatchObject({ routeClass: 'preflight', policy: { key: 'open' } });
    expect(seen['POST /v1/models']).toMatchObject({
      limit: LIMITS.default,
      routeClass: 'management',
      access: 'admin',
    });
  });

  it("takes a Nest route's class from @RoutePolicy (on the method, else its controller) beside @Access", () => {
    @Controller('v2')
    @RoutePolicy('open-inference')
    class Sample {
      @Get()
      @Access('metadata')
      metadata() {}

      @Get('health/live')
      @RoutePolicy('inference-probe')
      live() {}

      @Post('upload')
      @RoutePolicy('dataset-upload')
      @Access('write')
      upload() {}
    }
    const config = (name: keyof Sample) =>
      Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Sample.prototype[name]) as unknown;
    expect(config('metadata')).toEqual({ access: 'metadata', routeClass: 'open-inference' });
    expect(config('live')).toEqual({ routeClass: 'inference-probe' });
    expect(config('upload')).toEqual({ access: 'write', routeClass: 'dataset-upload' });
  });
});
