import type { Actor } from '../auth/roles';
import { ConflictError, ForbiddenError } from '../common/errors';
import type { ModelAlias } from './model-alias.entity';
import type { ModelVersion } from './model-version.entity';

/**
 * The rules of aliases, stated once:
 * - an alias points only at a ready version (an archived one does not serve);
 * - a protected alias is moved, deleted or (un)protected by an admin only;
 * - a version an alias serves is neither archived nor deleted until the alias moves or goes.
 */

export function assertMayPointAt(target: ModelVersion, alias: string, model: string): void {
  if (target.status !== 'ready') {
    throw new ConflictError(
      `Version ${target.version} of ${model} is archived, so alias ${alias} cannot point at it. ` +
        `Restore it first (PATCH /v1/models/${model}/versions/${target.version} {"status":"ready"}).`,
    );
  }
}

export function assertMayProtect(actor: Actor): void {
  if (actor.role !== 'admin') {
    throw new ForbiddenError(
      `Protecting or unprotecting an alias needs the admin role; the key "${actor.name}" has the ${actor.role} role.`,
    );
  }
}

export function assertMayChange(alias: ModelAlias, actor: Actor, model: string): void {
  if (alias.protected && actor.role !== 'admin') {
    throw new ForbiddenError(
      `Alias ${alias.alias} of ${model} is protected: moving or deleting it needs the admin role; ` +
        `the key "${actor.name}" has the ${actor.role} role.`,
    );
  }
}

/** `servedBy`: the aliases pointing at the version. */
export function assertNotServed(
  servedBy: ModelAlias[],
  model: string,
  version: number,
  action: 'archiving' | 'deleting',
): void {
  if (servedBy.length > 0) {
    throw new ConflictError(
      `Version ${version} of ${model} is served by alias(es) ${describeAliases(servedBy)}; ` +
        `move or delete them before ${action} it.`,
    );
  }
}

/** A model with aliases is not deleted: each alias is a deliberate choice of what serves. */
export function assertNoAliases(aliases: ModelAlias[], model: string): void {
  if (aliases.length > 0) {
    throw new ConflictError(
      `Model ${model} still has alias(es) ${describeAliases(aliases)}; delete them first ` +
        `(DELETE /v1/models/${model}/aliases/{alias}).`,
    );
  }
}

function describeAliases(aliases: ModelAlias[]): string {
  return aliases.map((a) => `${a.alias} (v${a.version})`).join(', ');
}
