import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiUrl, authHeaders, failure } from '../api';
import { ErrorNote } from '../components/async';
import { bytes } from '../format';
import { href, navigate } from '../router';
import { NAME_PATTERN, nameFromFile, type DatasetRecord } from './datasets-types';

type Phase =
  | { kind: 'idle' }
  | { kind: 'sending'; loaded: number; total: number }
  | { kind: 'reading' }
  | { kind: 'cancelled' };

/**
 * Uploads a CSV file with XMLHttpRequest, the one browser API that reports upload progress, then
 * opens the new dataset. A bad CSV answers 400 naming the line; that shows as the error.
 */
export function UploadForm() {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [error, setError] = useState<ApiError | null>(null);
  const xhr = useRef<XMLHttpRequest | null>(null);

  // Leaving the page ends an upload in flight rather than let it finish unseen.
  useEffect(() => () => xhr.current?.abort(), []);

  const busy = phase.kind === 'sending' || phase.kind === 'reading';

  const upload = (event: Event) => {
    event.preventDefault();
    if (!file || busy) return;
    setError(null);
    const request = new XMLHttpRequest();
    xhr.current = request;
    request.open('POST', apiUrl('v1/datasets', { name }));
    request.setRequestHeader('content-type', 'text/csv');
    request.setRequestHeader('accept', 'application/json');
    for (const [header, value] of Object.entries(authHeaders())) {
      request.setRequestHeader(header, value);
    }
    request.upload.onprogress = (progress) =>
      setPhase({
        kind: 'sending',
        loaded: progress.loaded,
        total: progress.lengthComputable ? progress.total : file.size,
      });
    // All bytes sent: the service still parses and stores the table before it answers.
    request.upload.onload = () => setPhase({ kind: 'reading' });
    request.onload = async () => {
      xhr.current = null;
      if (request.status >= 200 && request.status < 300) {
        const dataset = JSON.parse(request.responseText) as DatasetRecord;
        navigate(href('datasets', dataset.id));
        return;
      }
      setPhase({ kind: 'idle' });
      // Through failure(), so that a 401 ends the session as everywhere else.
      const problem = await failure(
        new Response(request.responseText, {
          status: request.status,
          statusText: request.statusText,
          headers: { 'content-type': request.getResponseHeader('content-type') ?? 'text/plain' },
        }),
      );
      // A CSV problem repeats its detail as one field error ("line 4"): show it once.
      const repeated = problem.errors.every((item) => item.message === problem.message);
      setError(repeated ? new ApiError(problem.status, problem.title, problem.message) : problem);
    };
    request.onerror = () => {
      xhr.current = null;
      setPhase({ kind: 'idle' });
      setError(new ApiError(0, 'Network error', 'The upload did not reach the service.'));
    };
    request.onabort = () => {
      xhr.current = null;
      setPhase({ kind: 'cancelled' });
    };
    setPhase({ kind: 'sending', loaded: 0, total: file.size });
    request.send(file);
  };

  return (
    <form class="stack card upload" onSubmit={upload} aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a CSV</h2>
      <p class="hint">
        A header row first, one row per line; column types (number or text) are inferred, empty
        fields are missing values.
      </p>
      <label>
        <span>CSV file</span>
        <input
          type="file"
          accept=".csv,text/csv,text/plain"
          required
          disabled={busy}
          onChange={(event) => {
            const chosen = (event.target as HTMLInputElement).files?.[0] ?? null;
            setFile(chosen);
            setError(null);
            setPhase({ kind: 'idle' });
            if (chosen) setName(nameFromFile(chosen.name));
          }}
        />
      </label>
      <div class="field">
        <label>
          <span>Name</span>
          <input
            type="text"
            value={name}
            required
            pattern={NAME_PATTERN}
            aria-describedby="upload-name-hint"
            disabled={busy}
            onInput={(event) => setName((event.target as HTMLInputElement).value)}
          />
        </label>
        <span class="hint" id="upload-name-hint">
          Letters, digits, <code>.</code>, <code>_</code> and <code>-</code>, starting with a letter
          or digit. A job given this name trains on the newest dataset of that name.
        </span>
      </div>
      {phase.kind === 'sending' && <UploadProgress loaded={phase.loaded} total={phase.total} />}
      <div role="status" class="upload-status">
        {phase.kind === 'reading' && 'Uploaded; the service is reading and storing the table…'}
        {phase.kind === 'cancelled' && 'Upload cancelled; nothing was stored.'}
      </div>
      <ErrorNote error={error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={!file || busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
        {busy && (
          <button type="button" onClick={() => xhr.current?.abort()}>
            Cancel upload
          </button>
        )}
        {file && !busy && <span class="muted small">{bytes(file.size)}</span>}
      </div>
    </form>
  );
}

function UploadProgress({ loaded, total }: { loaded: number; total: number }) {
  const percent = total > 0 ? Math.floor((loaded / total) * 100) : 0;
  return (
    <div class="upload-progress">
      <progress max={total || 1} value={loaded} aria-labelledby="upload-progress-text" />
      <span id="upload-progress-text">
        Uploading: {percent}% ({bytes(loaded)} of {bytes(total)})
      </span>
    </div>
  );
}
