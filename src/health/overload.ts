import underPressure from '@fastify/under-pressure';
import type { FastifyContextConfig, FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../common/errors';
import type { RequestStep } from '../common/request-gate';
import { writeResponseHeaders } from '../common/response-headers';

/** 503 with Retry-After: the service sheds load rather than queue without limit. */
export class OverloadedError extends AppError {
  readonly status = 503;
  readonly title = 'Service overloaded';
}

/** Seconds a client is told to wait after a 503. */
const RETRY_AFTER_SECONDS = 1;

export interface OverloadOptions {
  /** Mean event-loop delay over a sample (1 s) above which new requests are shed; 0: off. */
  maxEventLoopDelayMs: number;
  /** Requests being handled at once above which new ones are shed; 0: off. */
  maxInFlight: number;
}

/**
 * Routes whose class is exempt (probes, the scrape: see route-policy.ts) are answered even under
 * pressure, so Kubernetes and Prometheus see it, and so are unmatched URLs (a 404 costs nothing).
 */
function isExempt(config: FastifyContextConfig): boolean {
  const policy = config.policy;
  return policy === undefined || policy.overloadExempt;
}

/**
 * Overload shedding: event-loop delay through @fastify/under-pressure (its own onRequest hook, the
 * first), and a bound on requests in flight, a step of the request gate (`inFlightStep`; null
 * when off). `pressure()` says why the service is shedding, for /health/ready.
 */
export async function installOverloadProtection(
  fastify: FastifyInstance,
  options: OverloadOptions,
): Promise<{ pressure: () => string | null; inFlightStep: RequestStep | null }> {
  let inFlight = 0;

  /** The error handlers answer it, in the shape the route's class speaks. */
  const shed = (reply: FastifyReply, reason: string) => {
    void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return new OverloadedError(
      `The service is overloaded (${reason}) and sheds new requests; retry after ${RETRY_AFTER_SECONDS} s.`,
    );
  };

  if (options.maxEventLoopDelayMs > 0) {
    await fastify.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      retryAfter: RETRY_AFTER_SECONDS,
      // Returning nothing lets the request through; a rejected promise sheds it. This hook runs
      // before the request gate, so a shed answer gets its headers here.
      pressureHandler: (request, reply, type, value) => {
        const config = request.routeOptions.config;
        if (isExempt(config)) return;
        writeResponseHeaders(request, reply, config);
        return Promise.reject(shed(reply, `${type} ${Math.round(Number(value))} ms`));
      },
    });
  }

  // 'close' comes once per response, answered or aborted ('on', one shared listener: no wrapper
  // or closure per request).
  const finished = () => {
    inFlight--;
  };
  const inFlightStep: RequestStep = (_request, reply, config) => {
    if (isExempt(config)) return undefined;
    if (inFlight >= options.maxInFlight) {
      return shed(reply, `${inFlight} requests in flight, at most ${options.maxInFlight}`);
    }
    inFlight++;
    reply.raw.on('close', finished);
    return undefined;
  };

  return {
    inFlightStep: options.maxInFlight > 0 ? inFlightStep : null,
    pressure: () => {
      if (options.maxInFlight > 0 && inFlight >= options.maxInFlight) {
        return `${inFlight} requests in flight (at most ${options.maxInFlight})`;
      }
      if (options.maxEventLoopDelayMs > 0 && fastify.isUnderPressure()) {
        return `event loop delay above ${options.maxEventLoopDelayMs} ms`;
      }
      return null;
    },
  };
}
