import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { consoleBuildDir } from '../src/console/console-routes';
import { buildConsole } from './support/console-build';
import { lineDataset } from './support/fixtures';
import { makeDataDir, removeDataDir, startApp, TestApp } from './support/test-app';

/**
 * The console as the server delivers it (the browser spec, console-browser.e2e-spec.ts, uses it):
 * where it lives, its headers and caching, and the two API routes written for it.
 */
describe('the web console', () => {
  let dataDir: string;
  let api: TestApp;
  let built: string;

  beforeAll(async () => {
    built = buildConsole();
    dataDir = makeDataDir();
    api = await startApp(dataDir);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
  });

  it('is built small: the build prints what a first load transfers, under 300 KiB', () => {
    const [, kib] = /first load ([\d.]+) KiB gzipped/.exec(built) ?? [];
    expect(Number(kib)).toBeGreaterThan(1);
    expect(Number(kib)).toBeLessThan(300);
  });

  it('redirects /console to console/, relative, so a path prefix in front is kept', async () => {
    const response = await fetch(`${api.baseUrl}/console`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('console/');
  });

  it('serves its page without a key, with a CSP that allows no inline script or style', async () => {
    const page = await fetch(`${api.baseUrl}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    // Assets by relative URL, so the page works under any prefix.
    expect(html).toMatch(/src="assets\/app-[A-Z0-9]+\.js"/);
    expect(html).toMatch(/href="assets\/app-[A-Z0-9]+\.css"/);
  });

  it('caches hashed assets for a year and sends them compressed to browsers that accept it', async () => {
    const script = readdirSync(path.join(consoleBuildDir()!, 'assets')).find((name) =>
      /^app-.*\.js$/.test(name),
    );
    const plain = await fetch(`${api.baseUrl}/console/assets/${script}`, {
      headers: { 'accept-encoding': 'identity' },
    });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/javascript/);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = await plain.arrayBuffer();

    const brotli = await fetch(`${api.baseUrl}/console/assets/${script}`, {
      headers: { 'accept-encoding': 'br' },
    });
    expect(brotli.headers.get('content-encoding')).toBe('br');
    // fetch decodes it: the same script.
    expect(Buffer.from(await brotli.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
  });

  it('answers a missing asset with a 404 problem, not the page', async () => {
    const response = await api.request('GET', '/console/assets/nothing.js');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
  });

  describe('GET /v1/api-keys/current', () => {
    it('tells any key its name, role and what the role grants', async () => {
      const admin = await api.request('GET', '/v1/api-keys/current');
      expect(admin.body).toEqual({
        id: null,
        name: 'bootstrap-admin',
        role: 'admin',
        permissions: ['metadata', 'read', 'predict', 'write', 'admin'],
      });
      const created = await api.request('POST', '/v1/api-keys', { name: 'dash', role: 'viewer' });
      const viewer = await api.request('GET', '/v1/api-keys/current', undefined, {
        authorization: `Bearer ${created.body.key}`,
      });
      expect(viewer.status).toBe(200);
      expect(viewer.body).toEqual({
        id: created.body.id,
        name: 'dash',
        role: 'viewer',
        permissions: ['metadata', 'read'],
      });
    });

    it('is a 401 without a key', async () => {
      const response = await api.request('GET', '/v1/api-keys/current', undefined, {
        authorization: '',
      });
      expect(response.status).toBe(401);
    });
  });

  describe('GET /v1/algorithms', () => {
    it('lists every algorithm with its optimizers, defaults and hyperparameters', async () => {
      const { status, body } = await api.request('GET', '/v1/algorithms');
      expect(status).toBe(200);
      expect(body.items.map((item: { name: string }) => item.name)).toEqual([
        'linear-regression',
        'ridge-regression',
        'logistic-regression',
      ]);
      const logistic = body.items[2];
      expect(logistic.task).toBe('classification');
      expect(logistic.optimizers).toEqual(['lbfgs', 'gradient-descent', 'adam']);
      expect(body.items.map((item: { defaultOptimizer: string }) => item.defaultOptimizer)).toEqual(
        ['gradient-descent', 'normal-equation', 'lbfgs'],
      );
      // scikit-learn's LogisticRegression defaults: C = 1, max_iter = 100, tol = 1e-4.
      expect(logistic.defaults.lbfgs).toMatchObject({ l2: 1, epochs: 100, tolerance: 1e-4 });
      expect(
        logistic.hyperparameters.find((h: { name: string }) => h.name === 'classWeight'),
      ).toMatchObject({ type: 'class-weight', values: ['none', 'balanced'] });
      const batchSize = body.items[0].hyperparameters.find(
        (h: { name: string }) => h.name === 'batchSize',
      );
      expect(batchSize).toMatchObject({ type: 'integer', minimum: 1, optimizers: ['sgd', 'adam'] });
    });

    it('states the ranges training checks: a value just past each bound is refused naming it', async () => {
      const dataset = (await api.request('POST', '/v1/datasets', lineDataset('ranges'))).body.id;
      const { body } = await api.request('GET', '/v1/algorithms');
      for (const algorithm of body.items) {
        for (const spec of algorithm.hyperparameters) {
          if (spec.type !== 'number' && spec.type !== 'integer') continue;
          const step = spec.type === 'integer' ? 1 : spec.maximum / 1000;
          const below = spec.exclusiveMinimum ? spec.minimum : spec.minimum - step;
          for (const outside of [below, spec.maximum + step]) {
            const job = await api.request('POST', '/v1/training-jobs', {
              model: 'ranges',
              dataset,
              target: 'y',
              algorithm: algorithm.name,
              hyperparameters: { [spec.name]: outside },
            });
            expect({
              spec: `${algorithm.name} ${spec.name}=${outside}`,
              status: job.status,
            }).toEqual({
              spec: `${algorithm.name} ${spec.name}=${outside}`,
              status: 400,
            });
            expect(job.body.errors.map((error: { field: string }) => error.field)).toContain(
              `hyperparameters.${spec.name}`,
            );
          }
        }
      }
    });
  });
});
