import { useState } from 'preact/hooks';
import { ApiError, request } from '../api';
import { ErrorNote, asApiError } from '../components/async';
import { Identity, loggedOutReason, startSession } from '../session';
import { useSignal } from '../signal';

/** Logs in with an API key: checked against the API, then kept in this tab's session only. */
export function LoginPage() {
  const reason = useSignal(loggedOutReason);
  const [key, setKey] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const trimmed = key.trim();
      const who = await request<Identity>('GET', 'v1/api-keys/current', { key: trimmed });
      startSession(trimmed, who);
    } catch (failure) {
      const problem = asApiError(failure);
      setError(
        problem.status === 401
          ? new ApiError(
              401,
              'Key refused',
              'That key is unknown, revoked or expired. Check it and try again.',
            )
          : problem,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <h1>ModelDock console</h1>
      {reason && (
        <p class="notice" role="status">
          {reason}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
          required
        />
        <p class="hint" id="api-key-hint">
          A fresh installation writes an admin key to <code>data/admin.key</code>. The key is kept
          in this tab only and sent as a header with each request.
        </p>
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
