import { PATH_METADATA } from '@nestjs/common/constants';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyContextConfig, FastifyInstance } from 'fastify';

/**
 * The kinds of route the service has. A route declares its class: `@RoutePolicy()` on a Nest
 * route, `config.routeClass` on one registered on Fastify directly. A route that declares none is
 * `management`, which needs an admin key: a new route fails closed.
 */
export type RouteClass =
  | 'management'
  | 'dataset-upload'
  | 'model-upload'
  | 'predict'
  | 'infer'
  | 'open-inference'
  | 'probe'
  | 'inference-probe'
  | 'metrics'
  | 'docs'
  | 'console'
  | 'preflight';

export type BodyLimitClass = 'default' | 'dataset' | 'predict' | 'model';

/** The environment variable that raises each body limit (config/app.config.ts reads them). */
export const BODY_LIMIT_SETTINGS: Readonly<Record<BodyLimitClass, string>> = {
  default: 'BODY_LIMIT_BYTES',
  dataset: 'DATASET_BODY_LIMIT_BYTES',
  predict: 'PREDICT_BODY_LIMIT_BYTES',
  model: 'MODEL_BODY_LIMIT_BYTES',
};

/** What applies to every route of a class. */
export interface RouteRules {
  /**
   * `required`: a key whose role grants the route's permission (its `@Access()`, else admin);
   * `open`: no key; `configurable`: required (metadata) when METRICS_REQUIRE_KEY is set.
   */
  readonly key: 'required' | 'open' | 'configurable';
  /** Which configured body limit (BODY_LIMIT_SETTINGS names the setting of each). */
  readonly bodyLimit: BodyLimitClass;
  /** The limit of a file streamed in (not buffered), where the route takes one. */
  readonly fileLimit?: BodyLimitClass;
  /** Which per-key limit counts the route's requests (requests without a key are not counted). */
  readonly rateLimit: 'predict' | 'management' | 'none';
  /**
   * `api`: nothing may be framed or rendered; `docs`: what the Swagger UI page needs; `console`:
   * a page of our own scripts and styles only (common/response-headers.ts).
   */
  readonly headers: 'api' | 'docs' | 'console';
  /** Answered under overload too, so Kubernetes and Prometheus still see the service. */
  readonly overloadExempt: boolean;
  /** The shape of errors raised before a handler runs (access, rate limit, overload, body). */
  readonly errors: 'problem' | 'open-inference';
  /**
   * `every`: each request gets an access line; `sampled`: errors and slow requests do, fast
   * successful ones by ACCESS_LOG_PREDICTION_SAMPLE_RATE (common/access-log.ts).
   */
  readonly accessLog: 'every' | 'sampled';
}

const MANAGEMENT: RouteRules = {
  key: 'required',
  bodyLimit: 'default',
  rateLimit: 'management',
  headers: 'api',
  overloadExempt: false,
  errors: 'problem',
  accessLog: 'every',
};
const OPEN: RouteRules = { ...MANAGEMENT, key: 'open', rateLimit: 'none' };
const PROBE: RouteRules = { ...OPEN, overloadExempt: true };

/** The one place that says what applies to each class of route. */
export const ROUTE_POLICIES: Readonly<Record<RouteClass, RouteRules>> = {
  management: MANAGEMENT,
  'dataset-upload': { ...MANAGEMENT, bodyLimit: 'dataset' },
  // JSON artifacts within the default limit; an ONNX file streams in within the model limit.
  'model-upload': { ...MANAGEMENT, fileLimit: 'model' },
  // Predictions are the traffic: Prometheus counts each, the access log samples them.
  predict: { ...MANAGEMENT, bodyLimit: 'predict', rateLimit: 'predict', accessLog: 'sampled' },
  infer: {
    ...MANAGEMENT,
    bodyLimit: 'predict',
    rateLimit: 'predict',
    errors: 'open-inference',
    accessLog: 'sampled',
  },
  'open-inference': { ...MANAGEMENT, errors: 'open-inference' },
  // Health probes: Kubernetes (and KServe's /v2/health/*) call them without a key.
  probe: PROBE,
  'inference-probe': { ...PROBE, errors: 'open-inference' },
  metrics: { ...PROBE, key: 'configurable', rateLimit: 'management' },
  docs: { ...OPEN, headers: 'docs' },
  // The console's page and assets are open; every API call it makes carries the user's key.
  console: { ...OPEN, headers: 'console' },
  // CORS preflights carry no credentials; @fastify/cors answers them in its hook.
  preflight: OPEN,
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Declared by the route; `management` when it declares none. */
    routeClass?: RouteClass;
    /** Its class's rules, set when the route is registered: hooks read them, never the URL. */
    policy?: RouteRules;
  }
}

/** Where SwaggerModule mounts the UI and the document (`/docs`, `/docs-json`). */
export const DOCS_PATH = 'docs';

/** Where the web console is served (console/console-routes.ts). */
export const CONSOLE_PATH = 'console';

/**
 * Routes that plugins register carry no declaration: the Swagger UI's (its pages, assets and
 * document, all under DOCS_PATH) and @fastify/cors's catch-all preflight route.
 */
function pluginRouteClass(method: string | string[], url: string): RouteClass | undefined {
  if (url.startsWith(`/${DOCS_PATH}`)) return 'docs';
  if (url === `/${CONSOLE_PATH}` || url.startsWith(`/${CONSOLE_PATH}/`)) return 'console';
  if (url === '*' && method === 'OPTIONS') return 'preflight';
  return undefined;
}

/**
 * Gives every route its class's rules (in `config.policy`) and body limit as it is registered;
 * call before any route is. Hooks that run per request then read one property of the route.
 */
export function applyRoutePolicies(
  fastify: FastifyInstance,
  bodyLimits: Record<BodyLimitClass, number>,
): void {
  fastify.addHook('onRoute', (route) => {
    const declared = route.config as FastifyContextConfig | undefined;
    const routeClass =
      declared?.routeClass ?? pluginRouteClass(route.method, route.url) ?? 'management';
    const policy = ROUTE_POLICIES[routeClass];
    route.config = { ...declared, routeClass, policy };
    route.bodyLimit = bodyLimits[policy.bodyLimit];
  });
}

/**
 * Adds to the Fastify route config of a Nest handler. @nestjs/platform-fastify's `RouteConfig()`
 * replaces the whole config, so `@Access()` and `@RoutePolicy()` on one route could not both set it.
 */
export function mergeRouteConfig(handler: object, config: FastifyContextConfig): void {
  const current = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as
    FastifyContextConfig | undefined;
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...current, ...config }, handler);
}

/**
 * Declares the class of a Nest route; on a controller, of each of its routes that declares none
 * itself (method decorators run before the class's).
 */
export function RoutePolicy(routeClass: RouteClass): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) return mergeRouteConfig(descriptor.value as object, { routeClass });
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function' || !Reflect.hasMetadata(PATH_METADATA, handler)) continue;
      const config = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as
        FastifyContextConfig | undefined;
      if (config?.routeClass === undefined) mergeRouteConfig(handler, { routeClass });
    }
  };
}
