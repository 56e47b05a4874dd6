import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter, NEST_APP_OPTIONS } from '../../src/app.setup';
import { appConfig } from '../../src/config/app.config';
import { databaseEnv } from './test-database';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApp {
  app: NestFastifyApplication;
  baseUrl: string;
  dataDir: string;
  request<T = any>(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

/** The admin key every test app starts with (MODELDOCK_ADMIN_KEY); requests send it unless told otherwise. */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';

/** Headers that authenticate as `key` (the bootstrap admin key by default). */
export function authHeaders(key: string = TEST_ADMIN_KEY): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export function makeDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'modeldock-e2e-'));
}

export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Boots the real AppModule on `dataDir`'s database (a SQLite file there, or its own schema in the
 * e2e-postgres project) and listens on a free port.
 */
export async function startApp(
  dataDir: string,
  extraEnv: Record<string, string> = {},
): Promise<TestApp> {
  const env = { ...(await databaseEnv(dataDir)), ...extraEnv };
  Object.assign(process.env, {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    MODELDOCK_ADMIN_KEY: TEST_ADMIN_KEY,
    ...env,
  });
  const config = appConfig();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createFastifyAdapter(config),
    NEST_APP_OPTIONS,
  );
  await configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  for (const key of ['MODELDOCK_ADMIN_KEY', ...Object.keys(env)]) delete process.env[key];

  const request = async (
    method: string,
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    // The admin key unless the caller authenticates itself (or sends `authorization: ''` for none).
    const credentials = 'authorization' in headers || 'x-api-key' in headers ? {} : authHeaders();
    const given = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== ''));
    const response = await fetch(baseUrl + url, {
      method,
      headers: {
        ...credentials,
        ...(body === undefined || isRaw ? {} : { 'content-type': 'application/json' }),
        ...given,
      },
      body: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if (/json/.test(response.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as any, text };
  };
  return { app, baseUrl, dataDir, request, close: () => app.close() };
}

/**
 * Polls a training job until it leaves queued/running. A 503 (overload shedding, e.g. while a
 * just-started app's first event-loop sample still holds its start-up) is retried, as a client would.
 */
export async function waitForJob(app: TestApp, id: string, timeoutMs = 30000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await app.request('GET', `/v1/training-jobs/${id}`);
    if (status !== 503 && !['queued', 'running'].includes(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(
        `job ${id} still ${status === 503 ? 'shed (503)' : body.status} after ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
