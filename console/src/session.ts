// The logged-in key lives in sessionStorage: it goes with the tab, never to disk for good, and
// never into a URL. What the key may do comes from GET /v1/api-keys/current.

import { signal } from './signal';

const KEY = 'modeldock.key';

export type Permission = 'metadata' | 'read' | 'predict' | 'write' | 'admin';

export interface Identity {
  id: string | null;
  name: string;
  role: 'admin' | 'trainer' | 'predictor' | 'viewer';
  permissions: Permission[];
}

/** Who is logged in (null: nobody), and why the last session ended. */
export const identity = signal<Identity | null>(null);
export const loggedOutReason = signal<string | null>(null);

export function sessionKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function startSession(key: string, who: Identity): void {
  sessionStorage.setItem(KEY, key);
  loggedOutReason.set(null);
  identity.set(who);
}

export function clearSession(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  loggedOutReason.set(reason);
  identity.set(null);
}

export function can(permission: Permission): boolean {
  return identity.get()?.permissions.includes(permission) ?? false;
}
