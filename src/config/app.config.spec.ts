import * as path from 'node:path';
import { ConfigError, loadAppConfig, redactUrl } from './app.config';

describe('loadAppConfig', () => {
  it('defaults to port 3000 and a SQLite file under ./data', () => {
    const config = loadAppConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe(path.resolve('data'));
    expect(config.database).toEqual({
      type: 'sqlite',
      path: path.resolve('data', 'modeldock.sqlite'),
    });
  });

  it('puts the database in DATA_DIR and accepts DATABASE_URL=sqlite:<path>', () => {
    expect(loadAppConfig({ DATA_DIR: '/tmp/md' }).database).toEqual({
      type: 'sqlite',
      path: '/tmp/md/modeldock.sqlite',
    });
    expect(loadAppConfig({ DATABASE_URL: 'sqlite:/var/lib/md.db' }).database).toEqual({
      type: 'sqlite',
      path: '/var/lib/md.db',
    });
  });

  it('accepts a PostgreSQL URL and an optional schema', () => {
    const url = 'postgres://modeldock:secret@db:5432/modeldock';
    expect(loadAppConfig({ DATABASE_URL: url }).database).toEqual({
      type: 'postgres',
      url,
      schema: undefined,
    });
    expect(
      loadAppConfig({ DATABASE_URL: 'postgresql://db/md', DATABASE_SCHEMA: 'tenant_a' }).database,
    ).toEqual({ type: 'postgres', url: 'postgresql://db/md', schema: 'tenant_a' });
  });

  it('reads REDIS_URL and the settings of training at scale', () => {
    const config = loadAppConfig({ REDIS_URL: 'redis://cache:6379', TRAINING_JOB_ATTEMPTS: '1' });
    expect(config.redis).toEqual({ url: 'redis://cache:6379', keyPrefix: 'modeldock' });
    expect(
      loadAppConfig({ REDIS_URL: 'redis://cache:6379', REDIS_KEY_PREFIX: 'team-a' }).redis,
    ).toEqual({ url: 'redis://cache:6379', keyPrefix: 'team-a' });
    expect(config.training.attempts).toBe(1);
    expect(loadAppConfig({}).redis).toBeNull();
    expect(loadAppConfig({}).training).toMatchObject({ attempts: 2, workerLockMs: 30000 });
  });

  it('redacts the password of a URL', () => {
    expect(redactUrl('postgres://md:s3cret@db:5432/x')).toBe('postgres://md:***@db:5432/x');
    expect(redactUrl('redis://cache:6379')).toBe('redis://cache:6379');
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ TRAINING_CONCURRENCY: '0' }, /TRAINING_CONCURRENCY/],
    [{ DATABASE_URL: 'mysql://db/x' }, /DATABASE_URL/],
    [{ DATABASE_URL: 'postgres://db/x', DATABASE_SCHEMA: 'Robert; DROP' }, /DATABASE_SCHEMA/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL/],
    [{ REDIS_URL: 'redis://cache:6379', REDIS_KEY_PREFIX: 'a b' }, /REDIS_KEY_PREFIX/],
    [{ TRAINING_JOB_ATTEMPTS: '0' }, /TRAINING_JOB_ATTEMPTS/],
    [{ MODELDOCK_ADMIN_KEY: 'too-short' }, /MODELDOCK_ADMIN_KEY must be at least 32/],
    [
      { MODELDOCK_ADMIN_KEY: 'a key with spaces that is long enough to pass' },
      /MODELDOCK_ADMIN_KEY/,
    ],
    [
      { MODELDOCK_ADMIN_KEY: 'CHANGE-ME-to-32-or-more-characters-openssl-rand-base64-32' },
      /placeholder/,
    ],
    [{ METRICS_REQUIRE_KEY: 'maybe' }, /METRICS_REQUIRE_KEY/],
    [{ CORS_ORIGINS: 'app.example.com' }, /CORS_ORIGINS/],
    [{ RATE_LIMIT_PREDICT_PER_MINUTE: '-1' }, /RATE_LIMIT_PREDICT_PER_MINUTE/],
    [{ SHUTDOWN_GRACE_MS: 'soon' }, /SHUTDOWN_GRACE_MS/],
  ])('refuses %j with a message naming the variable', (env, pattern) => {
    expect(() => loadAppConfig(env)).toThrow(ConfigError);
    expect(() => loadAppConfig(env)).toThrow(pattern);
  });

  it('never echoes credentials from a DATABASE_URL it refuses', () => {
    expect(() => loadAppConfig({ DATABASE_URL: 'mysql://user:secret@db/x' })).toThrow(
      /^(?!.*secret)/s,
    );
  });

  it('never echoes the admin key it refuses', () => {
    expect(() => loadAppConfig({ MODELDOCK_ADMIN_KEY: 'hunter2-secret' })).toThrow(
      /^(?!.*hunter2)/s,
    );
  });

  it('reads the security settings, secure by default', () => {
    const defaults = loadAppConfig({});
    expect(defaults.security).toEqual({
      adminKey: undefined,
      metricsRequireKey: false,
      rateLimits: { predictPerMinute: 60000, managementPerMinute: 600 },
      corsOrigins: [],
    });
    expect(defaults.shutdown).toEqual({ graceMs: 10000, drainDelayMs: 0 });
    const key = 'k'.repeat(32);
    const set = loadAppConfig({
      MODELDOCK_ADMIN_KEY: key,
      METRICS_REQUIRE_KEY: 'true',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
    });
    expect(set.security.adminKey).toBe(key);
    expect(set.security.metricsRequireKey).toBe(true);
    expect(set.security.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
  });
});
