import { applyDecorators, createParamDecorator, ExecutionContext } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtension,
  ApiForbiddenResponse,
  ApiSecurity,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { mergeRouteConfig } from '../common/route-policy';
import type { Principal } from './api-keys.service';
import { describeRoles, Permission, rolesWith } from './roles';

export const BEARER_SCHEME = 'bearer';
export const API_KEY_SCHEME = 'api-key';

/** The Swagger half of an access rule; the serving routes, not Nest's, document it by hand. */
export function accessDocumentation(permission: Permission) {
  return {
    security: [{ [BEARER_SCHEME]: [] }, { [API_KEY_SCHEME]: [] }] as Record<string, string[]>[],
    roles: rolesWith(permission),
    forbidden: `The key's role may not do this: it needs ${describeRoles(permission)}.`,
    unauthorized: 'No API key, or one that is unknown, revoked or expired.',
  };
}

/**
 * Declares what a route needs (checked by the access-control hook) and documents it: the
 * security schemes, the roles allowed (`x-required-roles`) and the 401/403 answers.
 */
export function Access(permission: Permission) {
  const docs = accessDocumentation(permission);
  return applyDecorators(
    (_target: object, _key: string | symbol, descriptor: PropertyDescriptor) =>
      mergeRouteConfig(descriptor.value as object, { access: permission }),
    ApiBearerAuth(BEARER_SCHEME),
    ApiSecurity(API_KEY_SCHEME),
    ApiExtension('x-required-roles', docs.roles),
    ApiUnauthorizedResponse({ description: docs.unauthorized }),
    ApiForbiddenResponse({ description: docs.forbidden }),
  );
}

/** The caller's identity on a route declared with @Access(). */
export const CurrentActor = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const actor = context.switchToHttp().getRequest<FastifyRequest>().actor;
    if (!actor) throw new Error('@CurrentActor() on a route without @Access()');
    return actor;
  },
);
