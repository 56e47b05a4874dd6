import cors from '@fastify/cors';
import { Logger } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyBaseLogger, FastifyInstance, FastifyReply, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { installAccessControl } from './auth/access-control';
import { ApiKeysService } from './auth/api-keys.service';
import { installRateLimits } from './auth/rate-limits';
import { RedisService } from './cluster/redis.service';
import { PinoLoggerService } from './common/pino-logger.service';
import { ProblemDetailsFilter, sendProblem } from './common/problem-details.filter';
import { setupOpenApiDocument } from './common/openapi-document';
import { installResponseHeaders, writeResponseHeaders } from './common/response-headers';
import { installRequestGate, RequestStep } from './common/request-gate';
import { installAccessLog } from './common/access-log';
import { applyRoutePolicies } from './common/route-policy';
import { installBodyReaders } from './common/body-readers';
import { installStrictJsonParser } from './common/strict-json';
import { installDatasetBodyParsers } from './datasets/dataset-uploads';
import { installModelUploads } from './models/model-uploads';
import { createValidationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/app.config';
import { installConsole } from './console/console-routes';
import { installOverloadProtection } from './health/overload';
import { ReadinessService } from './health/readiness.service';
import { MetricsService } from './metrics/metrics.service';
import { asOpenInferenceError } from './prediction/open-inference.filter';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids shaped like UUIDs: a random prefix per process and a counter, unique without drawing
 * random bytes for every request (randomUUID costs more than the rest of the id handling).
 */
const REQUEST_ID_PREFIX = randomUUID().slice(0, 24);
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 2 ** 48;
  return REQUEST_ID_PREFIX + requestCounter.toString(16).padStart(12, '0');
}

/**
 * Nest installs a Fastify error handler that flattens Fastify's own errors (malformed JSON, body
 * too large, schema validation) into bare HttpExceptions, losing their codes and field lists.
 * This adapter answers them with the same problem details as every other error instead.
 */
class ProblemDetailsFastifyAdapter extends FastifyAdapter {
  private readonly errorLogger = new Logger('Http');

  override setErrorHandler(): FastifyInstance {
    return this.getInstance().setErrorHandler((error, request, reply: FastifyReply) => {
      // Errors from hooks (access, limits, overload) speak the shape of the route's class.
      const shape = request.routeOptions.config.policy?.errors;
      const render = shape === 'open-inference' ? asOpenInferenceError : undefined;
      sendProblem(reply, error, this.errorLogger, render);
    }) as unknown as FastifyInstance;
  }
}

/**
 * Options for NestFactory.create / createNestApplication. Fastify's own JSON parser, not Nest's
 * wrapper around it (which buffers the body and builds a parser per request): the errors and
 * limits are the same, the prediction hot path is cheaper.
 */
export const NEST_APP_OPTIONS = { bodyParser: false } as const;

/** Fastify with pino JSON logs and request ids (a client's X-Request-Id is kept when sane). */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  return new ProblemDetailsFastifyAdapter({
    // No Nest middleware is used; without @fastify/middie no request pays for its hook.
    skipMiddie: true,
    loggerInstance: pino({ level: config.logLevel }),
    // One line per request is written by the onResponse hook below, with the route template and
    // the request id. No pino child per request: creating one costs more than a prediction.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    bodyLimit: Math.max(
      config.bodyLimits.default,
      config.bodyLimits.dataset,
      config.bodyLimits.predict,
    ),
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : nextRequestId();
    },
  });
}

/** Everything main.ts and the e2e tests share; call before `init()`/`listen()`. */
export async function configureApp(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const log = fastify.log as unknown as pino.Logger;
  app.useLogger(new PinoLoggerService(log));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(createValidationPipe());

  // Each route's class decides its key, body limit, rate limit, headers, overload exemption and
  // error shape (common/route-policy.ts); the hooks below read it from the route.
  applyRoutePolicies(fastify, config.bodyLimits);
  installStrictJsonParser(fastify);
  installBodyReaders(fastify);
  installDatasetBodyParsers(fastify);
  installModelUploads(fastify, config.dataDir, config.bodyLimits.model);

  // Metrics and the access log live in Fastify hooks, not Nest interceptors: about 1 µs per request
  // instead of tens, and they also see requests rejected before a controller runs.
  const metrics = app.get(MetricsService);
  installResponseHeaders(fastify);
  // Event-loop delay shedding runs first (its own hook); then one onRequest hook, the request gate:
  // headers, the in-flight bound, the key, its rate.
  const overload = await installOverloadProtection(fastify, config.overload);
  app.get(ReadinessService).watchPressure(overload.pressure);
  const checkAccess = installAccessControl(fastify, app.get(ApiKeysService), {
    metricsRequireKey: config.security.metricsRequireKey,
  });
  // Replicas count together in Redis; alone, the counters stay in this process.
  const redis = app.get(RedisService);
  const countRate = installRateLimits(
    fastify,
    config.security.rateLimits,
    redis.enabled ? { client: redis.client(), keyPrefix: redis.keyPrefix } : null,
  );
  installRequestGate(
    fastify,
    [writeResponseHeaders, overload.inFlightStep, checkAccess, countRate].filter(
      (step): step is RequestStep => step !== null,
    ),
  );
  await installCors(fastify, config);
  installAccessLog(fastify, log, metrics, config.accessLog);
  setupOpenApiDocument(app);
  await installConsole(fastify);
}

/** CORS only for the origins configured. */
async function installCors(fastify: FastifyInstance, config: AppConfig): Promise<void> {
  if (config.security.corsOrigins.length > 0) {
    await fastify.register(cors, {
      origin: config.security.corsOrigins.includes('*') ? '*' : config.security.corsOrigins,
      exposedHeaders: [
        'x-request-id',
        'x-model-version',
        'retry-after',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
      ],
      allowedHeaders: [
        'authorization',
        'x-api-key',
        'content-type',
        'x-request-id',
        'x-routing-key',
      ],
    });
  }
}
