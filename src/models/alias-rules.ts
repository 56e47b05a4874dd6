import type { Actor } from '../auth/roles';
import { ConflictError, ForbiddenError, InvalidInputError } from '../common/errors';
import type { ModelAlias } from './model-alias.entity';
import type { ModelVersion } from './model-version.entity';

/**
 * The rules of aliases, stated once:
 * - an alias points only at a ready version (an archived one does not serve);
 * - a protected alias is moved, deleted or (un)protected by an admin only;
 * - a version an alias serves (as its version, canary or shadow) is neither archived nor deleted
 *   until the alias moves or goes;
 * - a canary or shadow is another version than the alias's, with the same inputs, so every
 *   request the alias takes is one it can answer.
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

/** A canary or shadow: another version, taking exactly the inputs the alias's version takes. */
export function assertMayJoin(
  primary: ModelVersion,
  candidate: ModelVersion,
  role: 'canary' | 'shadow',
  model: string,
): void {
  if (candidate.version === primary.version) {
    throw new InvalidInputError(
      `The ${role} must be another version than the alias's own (${primary.version}).`,
      [{ field: `${role}.version`, message: `must differ from version ${primary.version}` }],
    );
  }
  const differences = signatureDifferences(primary, candidate);
  if (differences.length > 0) {
    throw new InvalidInputError(
      `Version ${candidate.version} of ${model} cannot be the ${role} of version ` +
        `${primary.version}: their inputs differ (${differences.join('; ')}). A ${role} must take ` +
        'the same requests; compare GET …/versions/{v} inputSchema.',
      [{ field: `${role}.version`, message: 'has other inputs than the alias version' }],
    );
  }
}

/** How two versions' inputs differ: names, order, types and shapes. */
function signatureDifferences(a: ModelVersion, b: ModelVersion): string[] {
  const describe = (entry: { name: string; type: string; shape?: number[] }) =>
    `${entry.name} ${entry.type}${entry.shape ? ` [${entry.shape.join(', ')}]` : ''}`;
  const left = a.inputSchema.map(describe);
  const right = b.inputSchema.map(describe);
  const differences: string[] = [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    if (left[i] !== right[i]) {
      differences.push(`input ${i + 1}: ${left[i] ?? 'none'} vs ${right[i] ?? 'none'}`);
    }
  }
  return differences;
}

/** `servedBy`: the aliases using the version, as their version, canary or shadow. */
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
  return aliases
    .map((a) => {
      const extras = [
        a.canaryVersion !== null ? `canary v${a.canaryVersion}` : '',
        a.shadowVersion !== null ? `shadow v${a.shadowVersion}` : '',
      ].filter(Boolean);
      return `${a.alias} (v${a.version}${extras.map((extra) => `, ${extra}`).join('')})`;
    })
    .join(', ');
}
