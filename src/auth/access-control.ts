import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../common/errors';
import type { RequestStep } from '../common/request-gate';
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
 * Each route needs what its class's `key` rule says (see route-policy.ts): a key whose role grants
 * the route's permission (declared with @Access(); admin when it declares none: fail closed), or
 * none. A step of the request gate (common/request-gate.ts), not a Nest guard: it runs on the
 * prediction hot path too.
 */
export function installAccessControl(
  fastify: FastifyInstance,
  keys: ApiKeysService,
  options: AccessControlOptions,
): RequestStep {
  fastify.decorateRequest('actor', null);
  // After applyRoutePolicies: the route's class is known, and its permission is settled here once.
  fastify.addHook('onRoute', (route) => {
    const config = (route.config ??= {}) as FastifyContextConfig;
    const rule = config.policy?.key ?? 'required';
    if (rule === 'open' || (rule === 'configurable' && !options.metricsRequireKey)) {
      if (config.access) {
        throw new Error(
          `${String(route.method)} ${route.url} is a ${config.routeClass} route, open to all, ` +
            `yet declares @Access('${config.access}')`,
        );
      }
      return;
    }
    config.access ??= rule === 'configurable' ? 'metadata' : 'admin';
  });

  /** The error handlers answer, in the shape the route's class speaks. */
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

  /** The request gate's step: answers at once when the key is cached, else once it is looked up. */
  return (request, reply, config) => {
    const permission = config.access;
    if (permission === undefined) return undefined;
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
        return undefined;
      }
      return principal.then(
        (found) => {
          try {
            authorize(request, found, permission);
            return undefined;
          } catch (error) {
            return deny(request, reply, error as Error);
          }
        },
        (error: Error) => deny(request, reply, error),
      );
    } catch (error) {
      return deny(request, reply, error as Error);
    }
  };
}
