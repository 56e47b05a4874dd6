import cors from '@fastify/cors';
import { Logger } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { FastifyBaseLogger, FastifyInstance, FastifyReply, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { installAccessControl } from './auth/access-control';
import { API_KEY_SCHEME, BEARER_SCHEME } from './auth/access.decorator';
import { ApiKeysService } from './auth/api-keys.service';
import { installRateLimits } from './auth/rate-limits';
import { RedisService } from './cluster/redis.service';
import { PinoLoggerService } from './common/pino-logger.service';
import { PROBLEM_CONTENT_TYPE } from './common/problem-details';
import { ProblemDetailsFilter, sendProblem } from './common/problem-details.filter';
import { installResponseHeaders } from './common/response-headers';
import { classifyRoutes, routeClassOf } from './common/route-class';
import { SERVICE_VERSION } from './common/service-info';
import { installStrictJsonParser } from './common/strict-json';
import { createValidationPipe } from './common/validation.pipe';
import type { AppConfig } from './config/app.config';
import { installOverloadProtection } from './health/overload';
import { ReadinessService } from './health/readiness.service';
import { MetricsService } from './metrics/metrics.service';
import { asOpenInferenceError } from './prediction/open-inference.filter';
import { documentServingRoutes, SERVING_DOCUMENT_MODELS } from './prediction/serving.openapi';

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
      // Errors from hooks (access, limits, overload) on Open Inference routes speak its shape.
      const v2 = request.routeOptions.url?.startsWith('/v2') ?? false;
      sendProblem(reply, error, this.errorLogger, v2 ? asOpenInferenceError : undefined);
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

  // Body limits per route class: datasets are large, predictions moderate, the rest small.
  classifyRoutes(fastify);
  fastify.addHook('onRoute', (route) => {
    if (route.bodyLimit !== undefined) return;
    const routeClass = routeClassOf(route.url);
    if (routeClass === 'dataset') route.bodyLimit = config.bodyLimits.dataset;
    else if (routeClass === 'predict') route.bodyLimit = config.bodyLimits.predict;
    else route.bodyLimit = config.bodyLimits.default;
  });
  installStrictJsonParser(fastify);
  // CSV dataset uploads arrive as raw bytes; the datasets module parses them.
  fastify.addContentTypeParser(
    ['text/csv', 'application/csv'],
    { parseAs: 'buffer' },
    (_request, body, done) => done(null, body),
  );

  // Metrics and the access log live in Fastify hooks, not Nest interceptors: about 1 µs per request
  // instead of tens, and they also see requests rejected before a controller runs.
  const metrics = app.get(MetricsService);
  installResponseHeaders(fastify);
  // onRequest hooks run in this order: shed load first, then check the key, then its rate.
  const overload = await installOverloadProtection(fastify, config.overload);
  app.get(ReadinessService).watchPressure(overload.pressure);
  installAccessControl(fastify, app.get(ApiKeysService), {
    metricsRequireKey: config.security.metricsRequireKey,
  });
  // Replicas count together in Redis; alone, the counters stay in this process.
  const redis = app.get(RedisService);
  installRateLimits(
    fastify,
    config.security.rateLimits,
    redis.enabled ? { client: redis.client(), keyPrefix: redis.keyPrefix } : null,
  );
  await installCors(fastify, config);
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (log.isLevelEnabled('info')) {
      log.info(
        {
          reqId: request.id,
          method: request.method,
          route,
          url: request.url,
          statusCode: reply.statusCode,
          durationMs: reply.elapsedTime,
        },
        'request completed',
      );
    }
    done();
  });
  setupSwagger(app);
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
      allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'x-request-id'],
    });
  }
}

function setupSwagger(app: NestFastifyApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('ModelDock')
      .setDescription(
        'Datasets, training jobs, a versioned model registry with aliases, and predictions. ' +
          'Errors are RFC 9457 problem details (application/problem+json).',
      )
      .setVersion(SERVICE_VERSION)
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key: `Authorization: Bearer <key>`',
        },
        BEARER_SCHEME,
      )
      .addApiKey(
        {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-Key',
          description: 'The same key as a header',
        },
        API_KEY_SCHEME,
      )
      .build(),
    { extraModels: SERVING_DOCUMENT_MODELS },
  );
  documentServingRoutes(document);
  documentProblemDetails(document);
  documentRoles(document);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/** Swagger UI does not show `x-required-roles`; say it in each operation's description too. */
function documentRoles(document: OpenAPIObject): void {
  for (const path of Object.values(document.paths)) {
    for (const operation of Object.values(path)) {
      const roles = (operation as { 'x-required-roles'?: string[] })?.['x-required-roles'];
      if (!roles) continue;
      const line = `**Roles:** ${roles.join(', ')}.`;
      operation.description = operation.description ? `${line}\n\n${operation.description}` : line;
    }
  }
}

/**
 * Every operation can answer with the one error shape; say so once for all of them. The Open
 * Inference Protocol's routes (/v2) answer errors in its own shape instead.
 */
function documentProblemDetails(document: OpenAPIObject): void {
  document.components = document.components ?? {};
  document.components.schemas = {
    ...document.components.schemas,
    ProblemDetails: {
      type: 'object',
      description: 'RFC 9457 problem details',
      required: ['type', 'title', 'status', 'detail'],
      properties: {
        type: { type: 'string', example: 'https://modeldock.dev/problems/invalid-input' },
        title: { type: 'string', example: 'Invalid input' },
        status: { type: 'integer', example: 400 },
        detail: { type: 'string', example: 'The request has 1 invalid field(s): version.' },
        errors: {
          type: 'array',
          example: [{ field: 'version', message: 'version must not be less than 1' }],
          items: {
            type: 'object',
            properties: {
              field: { type: 'string', example: 'version' },
              message: { type: 'string' },
            },
          },
        },
      },
    },
  };
  const problem = {
    description: 'An error, as problem details (4xx: the request can be fixed as the detail says).',
    content: {
      [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ProblemDetails' } },
    },
  };
  for (const [url, path] of Object.entries(document.paths)) {
    if (url.startsWith('/v2')) continue;
    for (const operation of Object.values(path)) {
      if (typeof operation === 'object' && operation && 'responses' in operation) {
        operation.responses.default = problem;
      }
    }
  }
}
