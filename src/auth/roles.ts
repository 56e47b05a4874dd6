/** The four roles a key can have, from most to least powerful. */
export const ROLES = ['admin', 'trainer', 'predictor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs. `metadata`: read model metadata (any key); `read`: read everything;
 * `predict`: predict and infer; `write`: datasets, training, registration, alias moves;
 * `admin`: keys, deletions and protected aliases.
 */
export const PERMISSIONS = ['metadata', 'read', 'predict', 'write', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  trainer: ['metadata', 'read', 'predict', 'write'],
  predictor: ['metadata', 'predict'],
  viewer: ['metadata', 'read'],
};

export function grants(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** The roles that may do what `permission` allows, most powerful first: for 403s and Swagger. */
export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((role) => grants(role, permission));
}

/** "the trainer or admin role" — in the words a 403 and the docs use. */
export function describeRoles(permission: Permission): string {
  const roles = rolesWith(permission).reverse();
  const listed =
    roles.length === 1 ? roles[0] : `${roles.slice(0, -1).join(', ')} or ${roles.at(-1)}`;
  return `the ${listed} role`;
}

/** Who made a request: recorded in the audit trail and on training jobs. */
export interface Actor {
  /** The key's name (never the key). */
  name: string;
  role: Role;
}
