import { useRef, useState } from 'preact/hooks';
import { ApiError, del, get, Page, post, seg } from '../api';
import { asApiError, ErrorNote, Loaded, useAsync } from '../components/async';
import { ConfirmButton } from '../components/confirm';
import { PageTitle } from '../components/layout';
import { time } from '../format';
import type { ApiKey } from '../types';
import { Pager } from './models';

const ROLES = ['viewer', 'predictor', 'trainer', 'admin'] as const;
const PAGE = 50;

/** API keys (admin): create one (its secret shown once, with a copy button), revoke. */
export function KeysPage() {
  const [offset, setOffset] = useState(0);
  const keys = useAsync(() => get<Page<ApiKey>>('v1/api-keys', { limit: PAGE, offset }), [offset]);
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  // Said here, not beside the button: a revoked key's row, and its button, leave the list.
  const [revoked, setRevoked] = useState<string | null>(null);
  return (
    <>
      <PageTitle>API keys</PageTitle>
      <CreateKeyForm
        onCreated={(key) => {
          setCreated(key);
          keys.reload();
        }}
      />
      {created && <NewSecret created={created} onDismiss={() => setCreated(null)} />}
      <h2>Active keys</h2>
      <p class="outcome" role="status">
        {revoked}
      </p>
      <Loaded state={keys}>
        {(page) => (
          <>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((key) => (
                  <tr key={key.id}>
                    <th scope="row">{key.name}</th>
                    <td>
                      <span class="badge">{key.role}</span>
                    </td>
                    <td>
                      <code>{key.prefix}</code>
                    </td>
                    <td>
                      {time(key.createdAt)}
                      {key.createdBy && <div class="muted small">by {key.createdBy}</div>}
                    </td>
                    <td>{time(key.lastUsedAt)}</td>
                    <td>{key.expiresAt ? time(key.expiresAt) : 'never'}</td>
                    <td>
                      <ConfirmButton
                        label={`Revoke ${key.name}`}
                        danger
                        question={
                          <p>
                            Revoke <strong>{key.name}</strong> ({key.role},{' '}
                            <code>{key.prefix}…</code>)? Every request with it is refused from now
                            on, on every replica. This cannot be undone.
                          </p>
                        }
                        action={async () => {
                          await del(`v1/api-keys/${seg(key.id)}`);
                          setRevoked(`Revoked ${key.name} (${key.prefix}…).`);
                          keys.reload();
                        }}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager total={page.total} offset={offset} size={PAGE} onChange={setOffset} />
            <p class="hint">
              The bootstrap key in <code>data/admin.key</code> is not listed: it lives in that file,
              not in the database.
            </p>
          </>
        )}
      </Loaded>
    </>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (key: ApiKey & { key: string }) => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<(typeof ROLES)[number]>('viewer');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        name: name.trim(),
        role,
        ...(expires ? { expiresAt: new Date(`${expires}T00:00:00Z`).toISOString() } : {}),
      };
      onCreated(await post<ApiKey & { key: string }>('v1/api-keys', body));
      setName('');
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card filters" onSubmit={submit} aria-labelledby="new-key">
      <h2 id="new-key" class="visually-hidden">
        Create a key
      </h2>
      <label>
        <span>Name (who or what it is for)</span>
        <input
          value={name}
          required
          maxLength={128}
          onInput={(event) => setName((event.target as HTMLInputElement).value)}
        />
      </label>
      <label>
        <span>Role</span>
        <select
          value={role}
          onChange={(event) =>
            setRole((event.target as HTMLSelectElement).value as (typeof ROLES)[number])
          }
        >
          {ROLES.map((item) => (
            <option key={item} value={item}>
              {item}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Expires (optional, UTC midnight)</span>
        <input
          type="date"
          value={expires}
          onInput={(event) => setExpires((event.target as HTMLInputElement).value)}
        />
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
          Create key
        </button>
      </div>
      <ErrorNote error={error} />
    </form>
  );
}

/** The new key's secret: shown this once, with a copy button. */
function NewSecret({
  created,
  onDismiss,
}: {
  created: ApiKey & { key: string };
  onDismiss: () => void;
}) {
  const [copied, setCopied] = useState<string | null>(null);
  const secret = useRef<HTMLElement>(null);
  // The clipboard API exists only in secure contexts (https, localhost); elsewhere the key is
  // selected for the user to copy.
  const copy = async () => {
    if (navigator.clipboard) {
      await navigator.clipboard.writeText(created.key);
      setCopied('Copied.');
      return;
    }
    const range = document.createRange();
    range.selectNodeContents(secret.current!);
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    setCopied('Selected: press Ctrl+C (or ⌘C) to copy.');
  };
  return (
    <section class="card" aria-labelledby="new-secret">
      <h2 id="new-secret">
        Key for {created.name} ({created.role})
      </h2>
      <p>Copy it now: it is stored only as a hash and will not be shown again.</p>
      <div class="secret">
        <code ref={secret} data-testid="new-key">
          {created.key}
        </code>
        <button type="button" onClick={copy}>
          Copy
        </button>
        {copied && <span role="status">{copied}</span>}
      </div>
      <div class="actions">
        <button type="button" onClick={onDismiss}>
          I have kept it
        </button>
      </div>
    </section>
  );
}
