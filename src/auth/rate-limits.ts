import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../common/errors';

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  readonly title = 'Too many requests';
}

export interface RateLimitOptions {
  /** Requests per minute per key on predict/infer routes; 0: no limit. */
  predictPerMinute: number;
  /** Requests per minute per key on every other route that needs a key; 0: no limit. */
  managementPerMinute: number;
}

const WINDOW_MS = 60_000;

function isPrediction(url: string): boolean {
  return url.endsWith('/predict') || url.endsWith('/infer');
}

/**
 * Per-key rate limits by route class, with @fastify/rate-limit: `429` with `Retry-After` and the
 * IETF draft `RateLimit-*` headers. Installed after the access check, so the key is known; the
 * counters live in this process (a Redis store shares them between replicas).
 */
export async function installRateLimits(
  fastify: FastifyInstance,
  options: RateLimitOptions,
): Promise<void> {
  await fastify.register(rateLimit, {
    global: false,
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) =>
      new TooManyRequestsError(
        `This key may make ${context.max} such requests per minute; retry after ${context.after}. ` +
          'An admin can raise the limit (RATE_LIMIT_PREDICT_PER_MINUTE, RATE_LIMIT_MANAGEMENT_PER_MINUTE).',
      ),
  });
  const limiter = (routeClass: string, max: number) =>
    max > 0
      ? fastify.rateLimit({
          max,
          timeWindow: WINDOW_MS,
          keyGenerator: (request: FastifyRequest) =>
            `${routeClass}:${request.actor?.keyId ?? request.actor?.name ?? request.ip}`,
        })
      : null;
  const predict = limiter('predict', options.predictPerMinute);
  const management = limiter('management', options.managementPerMinute);
  if (!predict && !management) return;

  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    const url = request.routeOptions.url;
    if (!request.actor || url === undefined) return done();
    const limit = isPrediction(url) ? predict : management;
    if (!limit) return done();
    limit.call(fastify, request, reply).then(() => done(), done);
  });
}
