import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';

export interface Async<T> {
  data?: T;
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}

/** Loads `load()` when `deps` change; an answer to an outdated request is dropped. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => call === latest.current && setState({ data, loading: false }),
      (error: unknown) =>
        call === latest.current && setState({ error: asApiError(error), loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError
    ? error
    : new ApiError(0, 'Error', String((error as Error)?.message ?? error));
}

/** What went wrong, with the API's per-field messages; announced to screen readers. */
export function ErrorNote({ error }: { error: ApiError | undefined | null }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{error.title}</strong> {error.message}
      {error.errors.length > 0 && (
        <ul>
          {error.errors.map((item) => (
            <li key={item.field}>
              <code>{item.field}</code>: {item.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A page's data: a loading line, the error, or the content. */
export function Loaded<T>({
  state,
  children,
}: {
  state: Async<T>;
  children: (data: T) => ComponentChildren;
}) {
  if (state.error) return <ErrorNote error={state.error} />;
  if (state.data === undefined)
    return (
      <p class="muted" aria-live="polite">
        Loading…
      </p>
    );
  return <>{children(state.data)}</>;
}
