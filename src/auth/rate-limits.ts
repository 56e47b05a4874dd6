import type { FastifyContextConfig, FastifyInstance, FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { AppError } from '../common/errors';
import type { RequestStep } from '../common/request-gate';

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  readonly title = 'Too many requests';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The limit that counts the route's requests (null: none), from its class's rateLimit rule. */
    keyRateLimit?: { prediction: boolean; max: number; bucket: string } | null;
  }
}

export interface RateLimitOptions {
  /** Requests per minute per key on predict/infer routes; 0: no limit. */
  predictPerMinute: number;
  /** Requests per minute per key on every other route that needs a key; 0: no limit. */
  managementPerMinute: number;
}

/** @fastify/rate-limit's stores: `incr` answers through a callback, at once for the local one. */
interface CounterStore {
  incr(
    key: string,
    callback: (error: Error | null, result: { current: number; ttl: number } | null) => void,
    timeWindowMs: number,
    max: number,
  ): void;
}
type LocalStoreClass = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cacheSize: number,
) => CounterStore;
type RedisStoreClass = new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  keyPrefix: string,
) => CounterStore;
/* eslint-disable @typescript-eslint/no-require-imports */
const LocalStore = require('@fastify/rate-limit/store/LocalStore') as LocalStoreClass;
const RedisStore = require('@fastify/rate-limit/store/RedisStore') as RedisStoreClass;
/* eslint-enable @typescript-eslint/no-require-imports */

const WINDOW_MS = 60_000;
/** Keys whose counters are kept; the least recently seen are forgotten beyond it. */
const TRACKED_KEYS = 10_000;

/**
 * Per-key rate limits by the route class's `rateLimit` rule (see route-policy.ts), counted in
 * @fastify/rate-limit's stores (fixed one-minute windows): `429` with `Retry-After` and the IETF
 * draft `RateLimit-*` headers. The plugin's own hook awaits four promises per request, which cost
 * more than a prediction here; this request-gate step (null when both limits are off) calls the
 * store's callback API, synchronous for the in-process store. It runs after the access check, so
 * the key is known. Management responses
 * always carry `RateLimit-*`; predictions only when refused, to keep the hot path's responses
 * small. With `redis`, every replica counts in the same Redis keys (the store's Lua script: one
 * round trip per request).
 */
export function installRateLimits(
  fastify: FastifyInstance,
  options: RateLimitOptions,
  redis: { client: Redis; keyPrefix: string } | null,
): RequestStep | null {
  const { predictPerMinute, managementPerMinute } = options;
  if (predictPerMinute === 0 && managementPerMinute === 0) return null;
  const store = redis
    ? new RedisStore(false, false, redis.client, `${redis.keyPrefix}:rate-limit:`)
    : new LocalStore(false, false, TRACKED_KEYS);

  // Which limit counts a route's requests is settled once per route, from its class.
  const limits = {
    predict: { prediction: true, max: predictPerMinute, bucket: 'p:' },
    management: { prediction: false, max: managementPerMinute, bucket: 'm:' },
  };
  fastify.addHook('onRoute', (route) => {
    const config = route.config as FastifyContextConfig;
    const counted = config.policy?.rateLimit ?? 'management';
    config.keyRateLimit = counted === 'none' || limits[counted].max === 0 ? null : limits[counted];
  });

  /** The store's verdict: nothing to go on, or the 429. Sets the `RateLimit-*` headers. */
  const judge = (
    reply: FastifyReply,
    limit: { prediction: boolean; max: number },
    error: Error | null,
    result: { current: number; ttl: number } | null,
  ): Error | undefined => {
    // A store that cannot count (Redis down) lets requests through rather than refuse all.
    if (error || !result) return undefined;
    const { prediction, max } = limit;
    const { current, ttl } = result;
    const resetSeconds = Math.max(1, Math.ceil(ttl / 1000));
    const exceeded = current > max;
    if (exceeded || !prediction) {
      void reply
        .header('ratelimit-limit', max)
        .header('ratelimit-remaining', Math.max(0, max - current))
        .header('ratelimit-reset', resetSeconds);
    }
    if (!exceeded) return undefined;
    void reply.header('retry-after', resetSeconds);
    return new TooManyRequestsError(
      `This key may make ${max} ${prediction ? 'prediction' : 'management'} requests per minute; ` +
        `retry after ${resetSeconds} s. An admin can raise the limit ` +
        `(${prediction ? 'RATE_LIMIT_PREDICT_PER_MINUTE' : 'RATE_LIMIT_MANAGEMENT_PER_MINUTE'}).`,
    );
  };

  const PENDING = Symbol('pending');
  return (request, reply, config) => {
    const actor = request.actor;
    if (!actor) return undefined;
    const limit = config.keyRateLimit;
    if (!limit) return undefined;
    // The in-process store calls back before incr returns: no promise on that path.
    let verdict: Error | undefined | typeof PENDING = PENDING;
    let resume: ((value: Error | undefined) => void) | undefined;
    store.incr(
      limit.bucket + (actor.keyId ?? actor.name),
      (error, result) => {
        const judged = judge(reply, limit, error, result);
        if (resume) resume(judged);
        else verdict = judged;
      },
      WINDOW_MS,
      limit.max,
    );
    if (verdict !== PENDING) return verdict;
    return new Promise<Error | undefined>((resolve) => {
      resume = resolve;
    });
  };
}
