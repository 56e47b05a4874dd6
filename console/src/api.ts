// The console's one way to the API: the key from the session, problem details turned into errors,
// a 401 back to the login page. URLs are relative to the page, so a path prefix (an ingress) works.

import { clearSession, sessionKey } from './session';

/** The service's root: the console lives at `<root>console/`. */
export const serviceRoot = new URL('../', document.baseURI);

export function apiUrl(path: string, query?: Record<string, string | number | undefined>): URL {
  const url = new URL(path.replace(/^\//, ''), serviceRoot);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  }
  return url;
}

/** An RFC 9457 problem the API answered, or a failure to reach it (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors: { field: string; message: string }[] = [],
  ) {
    super(detail);
  }
}

export function authHeaders(key = sessionKey()): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Turns a non-2xx answer into an ApiError; a 401 also ends the session (the key is gone). */
export async function failure(response: Response): Promise<ApiError> {
  let problem: { title?: string; detail?: string; errors?: { field: string; message: string }[] } =
    {};
  try {
    problem = await response.json();
  } catch {
    // Not JSON (a proxy's page): the status line says enough.
  }
  if (response.status === 401)
    clearSession('Your key was refused (expired or revoked?): log in again.');
  return new ApiError(
    response.status,
    problem.title ?? response.statusText,
    problem.detail ?? `${response.status} ${response.statusText}`,
    problem.errors,
  );
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** A key other than the session's (the login form checks one before keeping it). */
  key?: string;
}

export async function request<T>(
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...authHeaders(options.key),
  };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new ApiError(
      0,
      'Network error',
      `The service did not answer: ${(error as Error).message}`,
    );
  }
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: RequestOptions['query']) =>
  request<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body });
export const put = <T>(path: string, body?: unknown) => request<T>('PUT', path, { body });
export const del = <T = void>(path: string) => request<T>('DELETE', path);

/** Every page of a list, for the few lists the console shows whole (at most `cap` items). */
export async function all<T>(
  path: string,
  query: Record<string, string | number> = {},
  cap = 2000,
): Promise<T[]> {
  const items: T[] = [];
  for (;;) {
    const page = await get<Page<T>>(path, { ...query, limit: 500, offset: items.length });
    items.push(...page.items);
    if (page.items.length === 0 || items.length >= page.total || items.length >= cap) return items;
  }
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** Path segments are names the API validated; encode them anyway. */
export const seg = encodeURIComponent;
