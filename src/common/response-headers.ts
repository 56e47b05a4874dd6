import type { FastifyContextConfig, FastifyInstance } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';
import type { RequestStep } from './request-gate';

/**
 * helmet's headers for these options, computed once. @fastify/helmet rebuilds helmet's middleware
 * on every request (in two hooks, one of them async), which cost about a third of a prediction's
 * throughput here. The headers do not depend on the request, so helmet runs once at start-up.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as never, response as never, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return headers;
}

/**
 * The Swagger UI is a page: helmet's defaults, with the inline styles and data: images it needs.
 */
export const DOCS_HEADERS = helmetHeaders({
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      scriptSrc: ["'self'"],
    },
  },
});

/**
 * The console is our own page: scripts, styles, images and API calls from this origin only, no
 * inline script or style (the bundle sets styles through the DOM, which CSP allows), no framing.
 */
export const CONSOLE_HEADERS = helmetHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
});

/**
 * Everything else answers JSON or text, never a page to render: the headers OWASP's REST
 * Security Cheat Sheet asks of an API (nothing may be framed or loaded, HSTS, nosniff). helmet's
 * others only mean something to a page in a browser, and each costs on every prediction.
 */
export const API_HEADERS = helmetHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  frameguard: { action: 'deny' },
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
});

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The security headers of the route's class, picked once when the route is registered. */
    securityHeaders?: Record<string, string>;
  }
}

/** Gives every route its class's security headers; call after applyRoutePolicies. */
export function installResponseHeaders(fastify: FastifyInstance): void {
  const byClass = { api: API_HEADERS, docs: DOCS_HEADERS, console: CONSOLE_HEADERS };
  fastify.addHook('onRoute', (route) => {
    const config = route.config as FastifyContextConfig;
    config.securityHeaders = byClass[config.policy?.headers ?? 'api'];
  });
}

/** The request id and the route's security headers: the request gate's first step. */
export const writeResponseHeaders: RequestStep = (request, reply, config) => {
  // Unmatched URLs (404s) have no route config of their own: API headers.
  const headers = config.securityHeaders ?? API_HEADERS;
  void reply.header('x-request-id', request.id).headers(headers);
  return undefined;
};
