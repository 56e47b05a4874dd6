import { registerAs } from '@nestjs/config';
import * as path from 'node:path';
import { BODY_LIMIT_SETTINGS } from '../common/route-policy';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  /** REDIS_URL: training jobs go to a BullMQ queue run by `npm run start:worker`, replicas share
   * rate limits and hear of each other's changes. Unset: everything stays in this process. */
  redis: { url: string; keyPrefix: string } | null;
  logLevel: LogLevel;
  /** Request body limits in bytes, per route class. */
  bodyLimits: { default: number; dataset: number; predict: number; model: number };
  training: {
    concurrency: number;
    progressWriteIntervalMs: number;
    /** How many workers may start a job whose worker died (1: never retried, marked failed). */
    attempts: number;
    /** A worker that has not renewed a job's lock for this long is presumed dead (BullMQ's lock). */
    workerLockMs: number;
  };
  cluster: {
    /** Safety net under Redis pub/sub: how often a replica re-reads aliases and revoked keys. */
    recheckMs: number;
  };
  prediction: {
    maxRows: number;
    /** Loaded versions kept in memory: at most this many, and at most this many artifact bytes. */
    predictorCacheSize: number;
    predictorCacheBytes: number;
  };
  onnx: {
    /** Threads one ONNX inference may use (onnxruntime's intra-op threads). */
    intraOpThreads: number;
  };
  metrics: { maxModelLabels: number };
  security: {
    /** MODELDOCK_ADMIN_KEY; unset: a key is created in DATA_DIR/admin.key on the first start. */
    adminKey: string | undefined;
    /** Whether /metrics needs a key (any role). */
    metricsRequireKey: boolean;
    /** Requests per minute per key; 0 turns a limit off. */
    rateLimits: { predictPerMinute: number; managementPerMinute: number };
    /** Allowed CORS origins; empty: CORS is off. */
    corsOrigins: string[];
  };
  overload: { maxEventLoopDelayMs: number; maxInFlight: number };
  shutdown: { graceMs: number; drainDelayMs: number };
}

export type DatabaseConfig =
  { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; schema: string | undefined };

export const MIN_ADMIN_KEY_LENGTH = 32;

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}; got "${raw}".`);
  }
  return value;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

function databaseFrom(env: Env, dataDir: string): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (!url) return { type: 'sqlite', path: path.join(dataDir, 'modeldock.sqlite') };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file)
      throw new ConfigError(
        'DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/modeldock.sqlite.',
      );
    return { type: 'sqlite', path: path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const schema = env.DATABASE_SCHEMA?.trim() || undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError(
        `DATABASE_SCHEMA must be a lower-case PostgreSQL identifier (letters, digits, _); got "${schema}".`,
      );
    }
    return { type: 'postgres', url, schema };
  }
  // Never echo credentials: keep only what follows the last @.
  throw new ConfigError(
    `DATABASE_URL must be sqlite:<path> or postgres://user:password@host:5432/database; got "${url.split('@').pop()}".`,
  );
}

function redisFrom(env: Env): AppConfig['redis'] {
  const url = env.REDIS_URL?.trim();
  if (!url) return null;
  if (!/^rediss?:\/\/[^\s]+$/.test(url)) {
    throw new ConfigError(
      `REDIS_URL must look like redis://host:6379 (or rediss:// for TLS); got "${url.split('@').pop()}".`,
    );
  }
  const keyPrefix = env.REDIS_KEY_PREFIX?.trim() || 'modeldock';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(keyPrefix)) {
    throw new ConfigError(
      `REDIS_KEY_PREFIX must be 1 to 64 letters, digits, '.', '_' or '-'; got "${keyPrefix}".`,
    );
  }
  return { url, keyPrefix };
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false; got "${env[name]}".`);
}

function adminKeyFrom(env: Env): string | undefined {
  const key = env.MODELDOCK_ADMIN_KEY;
  if (key === undefined || key === '') return undefined;
  if (key.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(key)) {
    // Never echo the key, not even a short one.
    throw new ConfigError(
      `MODELDOCK_ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters without spaces ` +
        `(it has ${key.length}); generate one with: openssl rand -base64 32`,
    );
  }
  if (/^change-?me/i.test(key)) {
    throw new ConfigError(
      'MODELDOCK_ADMIN_KEY is still the placeholder from deploy/kubernetes/secret.yaml; ' +
        'replace it with a secret of your own: openssl rand -base64 32',
    );
  }
  return key;
}

function originsFrom(env: Env): string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return [];
  const origins = raw.split(',').map((origin) => origin.trim());
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        `CORS_ORIGINS must be a comma-separated list of origins like https://app.example.com (or *); got "${origin}".`,
      );
    }
  }
  return origins;
}

/** Reads and validates the environment once; a bad value stops start-up with a message naming it. */
export function loadAppConfig(env: Env): AppConfig {
  const dataDir = path.resolve(env.DATA_DIR?.trim() || './data');
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${logLevel}".`);
  }
  const MiB = 1024 * 1024;
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir,
    database: databaseFrom(env, dataDir),
    redis: redisFrom(env),
    logLevel,
    bodyLimits: {
      default: integer(env, BODY_LIMIT_SETTINGS.default, 1 * MiB, 1024, 1024 * MiB),
      dataset: integer(env, BODY_LIMIT_SETTINGS.dataset, 100 * MiB, 1024, 4096 * MiB),
      predict: integer(env, BODY_LIMIT_SETTINGS.predict, 16 * MiB, 1024, 1024 * MiB),
      model: integer(env, BODY_LIMIT_SETTINGS.model, 256 * MiB, 1024, 2047 * MiB),
    },
    training: {
      concurrency: integer(env, 'TRAINING_CONCURRENCY', 1, 1, 64),
      progressWriteIntervalMs: integer(env, 'TRAINING_PROGRESS_INTERVAL_MS', 500, 10, 60000),
      attempts: integer(env, 'TRAINING_JOB_ATTEMPTS', 2, 1, 10),
      workerLockMs: integer(env, 'TRAINING_WORKER_LOCK_MS', 30000, 1000, 600000),
    },
    cluster: { recheckMs: integer(env, 'CLUSTER_RECHECK_MS', 5000, 100, 600000) },
    prediction: {
      maxRows: integer(env, 'PREDICT_MAX_ROWS', 100000, 1, 10000000),
      predictorCacheSize: integer(env, 'PREDICTOR_CACHE_SIZE', 1000, 1, 1000000),
      predictorCacheBytes: integer(env, 'PREDICTOR_CACHE_BYTES', 1024 * MiB, MiB, 2 ** 50),
    },
    onnx: { intraOpThreads: integer(env, 'ONNX_INTRA_OP_THREADS', 1, 1, 256) },
    metrics: { maxModelLabels: integer(env, 'METRICS_MAX_MODEL_LABELS', 100, 1, 10000) },
    security: {
      adminKey: adminKeyFrom(env),
      metricsRequireKey: boolean(env, 'METRICS_REQUIRE_KEY', false),
      rateLimits: {
        predictPerMinute: integer(env, 'RATE_LIMIT_PREDICT_PER_MINUTE', 60000, 0, 1e9),
        managementPerMinute: integer(env, 'RATE_LIMIT_MANAGEMENT_PER_MINUTE', 600, 0, 1e9),
      },
      corsOrigins: originsFrom(env),
    },
    overload: {
      maxEventLoopDelayMs: integer(env, 'OVERLOAD_MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 600000),
      maxInFlight: integer(env, 'OVERLOAD_MAX_IN_FLIGHT', 1000, 0, 1000000),
    },
    shutdown: {
      graceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10000, 0, 3600000),
      drainDelayMs: integer(env, 'SHUTDOWN_DRAIN_DELAY_MS', 0, 0, 600000),
    },
  };
}

/** Typed injection: `@Inject(appConfig.KEY) config: AppConfig`. */
export const appConfig = registerAs('app', (): AppConfig => loadAppConfig(process.env));
