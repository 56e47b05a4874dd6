import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type pino from 'pino';
import type { MetricsService } from '../metrics/metrics.service';

export interface AccessLogOptions {
  /** The share of successful, fast requests on `sampled` routes that get a line (1: every one). */
  predictionSampleRate: number;
  /** A request that took at least this long (ms) always gets a line. */
  slowMs: number;
}

/**
 * Whether a finished request gets an access line. Every request on most routes; on the
 * prediction routes (their class's `accessLog: 'sampled'`), every error and every slow answer,
 * and a sample of the rest: at thousands of predictions a second one line each cost a fifth of
 * the throughput, and Prometheus already counts and times every one.
 */
export function accessLineRate(
  sampled: boolean,
  statusCode: number,
  elapsedMs: number,
  options: AccessLogOptions,
): number {
  if (!sampled || statusCode >= 400 || elapsedMs >= options.slowMs) return 1;
  return options.predictionSampleRate;
}

/**
 * One onResponse hook for what follows every response: the HTTP request metrics, and the access
 * line at info (with the route template and the request id). A sampled line says its
 * `sampleRate`, so a log pipeline can weigh it back. Lines are written synchronously: none is
 * lost when the process dies.
 */
export function installAccessLog(
  fastify: FastifyInstance,
  log: pino.Logger,
  metrics: MetricsService,
  options: AccessLogOptions,
): void {
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    // `routeOptions` builds a new object on every read.
    const { url, config } = request.routeOptions;
    const route = url ?? 'unmatched';
    const elapsedMs = reply.elapsedTime;
    const statusCode = reply.statusCode;
    metrics.observeHttpRequest(request.method, route, statusCode, elapsedMs / 1000);
    if (!log.isLevelEnabled('info')) return done();
    const sampled = config.policy?.accessLog === 'sampled';
    const rate = accessLineRate(sampled, statusCode, elapsedMs, options);
    if (rate < 1 && (rate === 0 || Math.random() >= rate)) return done();
    log.info(
      {
        reqId: request.id,
        method: request.method,
        route,
        url: request.url,
        statusCode,
        durationMs: elapsedMs,
        ...(rate < 1 ? { sampleRate: rate } : {}),
      },
      'request completed',
    );
    done();
  });
}
