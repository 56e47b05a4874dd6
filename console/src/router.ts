// Routes live in the URL's fragment (#/models/house), so the server serves one page whatever the
// route, and a link or a reload lands where it points, behind any path prefix.

import { signal } from './signal';

export interface Route {
  /** The path after `#`, e.g. `/models/house`. */
  path: string;
  /** Its segments, decoded. */
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const raw = location.hash.replace(/^#/, '') || '/models';
  const [path, search = ''] = raw.split('?');
  return {
    path,
    parts: path.split('/').filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

export const route = signal<Route>(current());
addEventListener('hashchange', () => route.set(current()));

/** A link's href for a route given as segments (each encoded). */
export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((part) => encodeURIComponent(String(part))).join('/')}`;
}

export function navigate(target: string): void {
  location.hash = target.replace(/^#/, '');
}
