import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api';
import { asApiError, ErrorNote } from './async';

export interface ConfirmButtonProps {
  /** The button's label. */
  label: string;
  /** What the dialog asks, naming exactly what will change. */
  question: ComponentChildren;
  /** The action; its resolved text is shown as the outcome (e.g. the event it recorded). */
  action: () => Promise<string | void>;
  danger?: boolean;
  disabled?: boolean;
}

/**
 * A button that asks before it acts, in a modal <dialog> (focus moves into it and Escape cancels,
 * as the platform does), then shows what happened or what failed.
 */
export function ConfirmButton({ label, question, action, danger, disabled }: ConfirmButtonProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const done = await action();
      setOutcome(done || `${label}: done.`);
      dialog.current?.close();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button
        type="button"
        class={danger ? 'danger' : undefined}
        disabled={disabled}
        onClick={() => {
          setOutcome(null);
          setError(null);
          dialog.current?.showModal();
        }}
      >
        {label}
      </button>
      {outcome && (
        <span class="outcome" role="status">
          {outcome}
        </span>
      )}
      <dialog ref={dialog} aria-label={label}>
        <div class="dialog-body">{question}</div>
        <ErrorNote error={error} />
        <div class="actions">
          <button
            type="button"
            class={danger ? 'danger' : 'primary'}
            disabled={busy}
            onClick={confirm}
          >
            {busy ? 'Working…' : label}
          </button>
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}
