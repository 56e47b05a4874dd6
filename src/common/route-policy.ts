import type { FastifyInstance } from 'fastify';

/**
 * What kind of route a request hit, decided once per route when it is registered: body limits,
 * rate limits and security headers differ by class, and none of them re-reads the URL per request.
 */
export type RouteClass = 'predict' | 'dataset' | 'docs' | 'probe' | 'other';

declare module 'fastify' {
  interface FastifyContextConfig {
    routeClass?: RouteClass;
  }
}

export function routeClassOf(url: string): RouteClass {
  if (url.endsWith('/predict') || url.endsWith('/infer')) return 'predict';
  if (url.startsWith('/v1/datasets')) return 'dataset';
  if (url.startsWith('/docs')) return 'docs';
  // Health probes and the metrics scrape: answered even under overload.
  if (url.startsWith('/health/') || url === '/metrics') return 'probe';
  return 'other';
}

/** Tags every route with its class (in `config.routeClass`); call before routes are registered. */
export function classifyRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    route.config = { ...route.config, routeClass: routeClassOf(route.url) };
  });
}
