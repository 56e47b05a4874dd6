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
  /** OBJECT_STORE: where dataset contents, artifacts and reference samples are kept. */
  objectStore: ObjectStoreConfig;
  /** REDIS_URL: training jobs go to a BullMQ queue run by `npm run start:worker`, replicas share
   * rate limits and hear of each other's changes. Unset: everything stays in this process. */
  redis: { url: string; keyPrefix: string } | null;
  logLevel: LogLevel;
  /** The per-request access lines (common/access-log.ts). */
  accessLog: {
    /** The share of successful, fast prediction requests that get a line (1: every one). */
    predictionSampleRate: number;
    /** A request that took at least this long always gets a line. */
    slowMs: number;
  };
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
  /** The drift gauges: recomputed every `intervalMs` (0: never) over the last `windowMs`. */
  drift: { intervalMs: number; windowMs: number };
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

/**
 * `file`: one file per object under `root` (DATA_DIR/objects), the default on SQLite. `database`:
 * rows of `stored_objects`, the default on PostgreSQL, whose replicas share the database and no
 * disk. `s3`: objects in an S3-compatible bucket (AWS S3, MinIO, Ceph…), credentials from the AWS
 * SDK's default chain.
 */
export type ObjectStoreConfig =
  { kind: 'file'; root: string } | { kind: 'database' } | ({ kind: 's3' } & S3StoreConfig);

export interface S3StoreConfig {
  /** S3_BUCKET */
  bucket: string;
  /** S3_ENDPOINT, for a server other than AWS; undefined: AWS's endpoint for the region. */
  endpoint: string | undefined;
  /** S3_REGION, else AWS_REGION, else us-east-1. */
  region: string;
  /** S3_PREFIX, normalised to '' or segments ending in '/': every key is stored under it. */
  prefix: string;
  /** S3_FORCE_PATH_STYLE: http://host/bucket/key instead of http://bucket.host/key. */
  forcePathStyle: boolean;
}

export const OBJECT_STORE_KINDS: readonly ObjectStoreConfig['kind'][] = ['file', 'database', 's3'];

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

function objectStoreFrom(env: Env, dataDir: string, database: DatabaseConfig): ObjectStoreConfig {
  const raw = env.OBJECT_STORE?.trim();
  const kind = raw || (database.type === 'sqlite' ? 'file' : 'database');
  if (kind === 'file') return { kind, root: path.join(dataDir, 'objects') };
  if (kind === 'database') return { kind };
  if (kind === 's3') return { kind, ...s3From(env) };
  throw new ConfigError(
    `OBJECT_STORE must be one of ${OBJECT_STORE_KINDS.join(', ')}; got "${raw}".`,
  );
}

function s3From(env: Env): S3StoreConfig {
  const bucket = env.S3_BUCKET?.trim();
  if (!bucket) {
    throw new ConfigError(
      'S3_BUCKET must name the bucket when OBJECT_STORE is s3 (e.g. S3_BUCKET=modeldock-objects).',
    );
  }
  // AWS's rules, loosened to what older buckets and other servers allow; mostly to catch a URL or
  // a path given where a bare name belongs.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      `S3_BUCKET must be a bucket name (3 to 255 letters, digits, ".", "_" or "-"; a key prefix ` +
        `goes in S3_PREFIX, a server's URL in S3_ENDPOINT); got "${bucket.split('@').pop()}".`,
    );
  }
  const endpoint = s3EndpointFrom(env);
  const region = env.S3_REGION?.trim() || env.AWS_REGION?.trim() || 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/i.test(region)) {
    throw new ConfigError(`S3_REGION must be a region name like eu-west-1; got "${region}".`);
  }
  const rawPrefix = env.S3_PREFIX?.trim() ?? '';
  const prefix = rawPrefix.replace(/^\/+|\/+$/g, '');
  if (
    prefix !== '' &&
    (prefix.length > 200 ||
      !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix) ||
      prefix.split('/').some((segment) => segment === '.' || segment === '..'))
  ) {
    throw new ConfigError(
      'S3_PREFIX must be up to 200 characters of "/"-separated segments of letters, digits, ' +
        `".", "_" and "-", none of them "." or ".." (e.g. modeldock/prod); got "${rawPrefix}".`,
    );
  }
  return {
    bucket,
    endpoint,
    region,
    prefix: prefix === '' ? '' : `${prefix}/`,
    // A server of one's own seldom has a DNS name per bucket; AWS prefers virtual-hosted style.
    forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
  };
}

function s3EndpointFrom(env: Env): string | undefined {
  const raw = env.S3_ENDPOINT?.trim();
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url?.username || url?.password) {
    // Never echo credentials: keep only what follows the last @.
    throw new ConfigError(
      'S3_ENDPOINT must not hold credentials (they come from AWS_ACCESS_KEY_ID and ' +
        `AWS_SECRET_ACCESS_KEY or another source the AWS SDK reads); got "…@${raw.split('@').pop()}".`,
    );
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    throw new ConfigError(
      `S3_ENDPOINT must be the server's URL, like http://minio:9000 or https://s3.example.com; got "${raw}".`,
    );
  }
  return raw.replace(/\/+$/, '');
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

function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(`${name} must be a number between 0 and 1; got "${raw}".`);
  }
  return value;
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
  const database = databaseFrom(env, dataDir);
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    dataDir,
    database,
    objectStore: objectStoreFrom(env, dataDir, database),
    redis: redisFrom(env),
    logLevel,
    accessLog: {
      predictionSampleRate: fraction(env, 'ACCESS_LOG_PREDICTION_SAMPLE_RATE', 0.01),
      slowMs: integer(env, 'ACCESS_LOG_SLOW_MS', 250, 0, 3600000),
    },
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
    drift: {
      intervalMs: integer(env, 'DRIFT_INTERVAL_MS', 300000, 0, 86400000),
      windowMs: integer(env, 'DRIFT_WINDOW_MS', 3600000, 60000, 30 * 86400000),
    },
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
