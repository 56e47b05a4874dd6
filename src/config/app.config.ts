import { registerAs } from '@nestjs/config';
import * as path from 'node:path';

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
  database: { type: 'sqlite'; path: string };
  logLevel: LogLevel;
  /** Request body limits in bytes, per route class. */
  bodyLimits: { default: number; dataset: number; predict: number };
  training: { concurrency: number; progressWriteIntervalMs: number };
  prediction: { maxRows: number; predictorCacheSize: number };
  metrics: { maxModelLabels: number };
}

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

function databaseFrom(env: Env, dataDir: string): AppConfig['database'] {
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
  throw new ConfigError(
    `DATABASE_URL must be sqlite:<path> (PostgreSQL support is not available yet); got "${url.split('@').pop()}".`,
  );
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
    logLevel,
    bodyLimits: {
      default: integer(env, 'BODY_LIMIT_BYTES', 1 * MiB, 1024, 1024 * MiB),
      dataset: integer(env, 'DATASET_BODY_LIMIT_BYTES', 100 * MiB, 1024, 4096 * MiB),
      predict: integer(env, 'PREDICT_BODY_LIMIT_BYTES', 16 * MiB, 1024, 1024 * MiB),
    },
    training: {
      concurrency: integer(env, 'TRAINING_CONCURRENCY', 1, 1, 64),
      progressWriteIntervalMs: integer(env, 'TRAINING_PROGRESS_INTERVAL_MS', 500, 10, 60000),
    },
    prediction: {
      maxRows: integer(env, 'PREDICT_MAX_ROWS', 100000, 1, 10000000),
      predictorCacheSize: integer(env, 'PREDICTOR_CACHE_SIZE', 1000, 1, 1000000),
    },
    metrics: { maxModelLabels: integer(env, 'METRICS_MAX_MODEL_LABELS', 100, 1, 10000) },
  };
}

/** Typed injection: `@Inject(appConfig.KEY) config: AppConfig`. */
export const appConfig = registerAs('app', (): AppConfig => loadAppConfig(process.env));
