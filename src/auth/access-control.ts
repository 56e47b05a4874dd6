import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../common/errors';
import type { ApiKeysService, Principal } from './api-keys.service';
import { describeRoles, grants, Permission } from './roles';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: set by the access check on every route that needs a key. */
    actor: Principal | null;
  }
  interface FastifyContextConfig {
    /** What the route needs (see roles.ts); set with @Access() on Nest routes. */
    access?: Permission;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The key a request presents, from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) return BEARER.exec(header)?.[1] ?? '';
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}

export interface AccessControlOptions {
  /** Whether /metrics needs a key (any role). */
  metricsRequireKey: boolean;
}

/**
 * Every /v1 and /v2 route needs a key whose role grants the route's permission; a route that
 * declares none needs an admin (fail closed). Health, /metrics (unless configured) and /docs stay
 * open. A Fastify hook, not a Nest guard: it runs on the prediction hot path too.
 */
export function installAccessControl(
  fastify: FastifyInstance,
  keys: ApiKeysService,
  options: AccessControlOptions,
): void {
  fastify.decorateRequest('actor', null);
  fastify.addHook('onRoute', (route) => {
    const url = route.url;
    const config = (route.config ?? {}) as { access?: Permission };
    if (config.access) return;
    if (url.startsWith('/v1/') || url.startsWith('/v2'))
      route.config = { ...config, access: 'admin' };
    else if (url === '/metrics' && options.metricsRequireKey)
      route.config = { ...config, access: 'metadata' };
  });

  /** The error handlers answer (problem details, or the Open Inference shape on /v2). */
  const deny = (request: FastifyRequest, reply: FastifyReply, error: Error) => {
    if (error instanceof UnauthorizedError) {
      const presented = presentedKey(request) !== undefined;
      void reply.header(
        'www-authenticate',
        presented ? 'Bearer realm="modeldock", error="invalid_token"' : 'Bearer realm="modeldock"',
      );
    }
    return error;
  };

  const authorize = (request: FastifyRequest, principal: Principal, permission: Permission) => {
    if (!grants(principal.role, permission)) {
      throw new ForbiddenError(
        `This needs ${describeRoles(permission)}; the key "${principal.name}" has the ${principal.role} role.`,
      );
    }
    request.actor = principal;
  };

  fastify.addHook('onRequest', (request, reply, done) => {
    const permission = request.routeOptions.config.access;
    if (permission === undefined) return done();
    try {
      const presented = presentedKey(request);
      if (!presented) {
        throw new UnauthorizedError(
          'This needs an API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>". ' +
            'An admin creates keys with POST /v1/api-keys.',
        );
      }
      const principal = keys.authenticate(presented);
      if (!(principal instanceof Promise)) {
        authorize(request, principal, permission);
        return done();
      }
      principal
        .then((found) => authorize(request, found, permission))
        .then(
          () => done(),
          (error: Error) => done(deny(request, reply, error)),
        );
    } catch (error) {
      done(deny(request, reply, error as Error));
    }
  });
}
