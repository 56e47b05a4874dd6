// A job's live progress over its Server-Sent Events stream, and its loss curve as chart points.
// EventSource cannot send the key, so the stream is a fetch parsed with eventsource-parser.

import { createParser } from 'eventsource-parser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, apiUrl, authHeaders, failure, seg } from '../api';
import { asApiError } from '../components/async';
import { recordedEpochs } from '../components/loss-chart';
import type { JobRecord, ProgressEvent } from './training-types';

const RECONNECT_MS = 2000;

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/**
 * Follows `GET v1/training-jobs/ID/events` while `active`: `onProgress` for each progress event,
 * `onDone` with the whole job at the end. A stream that ends early (a restart) is reopened.
 */
export function useJobEvents(
  id: string,
  active: boolean,
  onProgress: (event: ProgressEvent) => void,
  onDone: (job: JobRecord) => void,
): { state: StreamState; error: ApiError | null } {
  const [state, setState] = useState<StreamState>('closed');
  const [error, setError] = useState<ApiError | null>(null);
  // The latest callbacks, so that a re-render does not reopen the stream.
  const handlers = useRef({ onProgress, onDone });
  handlers.current = { onProgress, onDone };

  useEffect(() => {
    if (!active) return;
    const controller = new AbortController();
    let finished = false;
    let retry: ReturnType<typeof setTimeout> | undefined;

    const connect = async () => {
      setState((previous) => (previous === 'closed' ? 'connecting' : previous));
      try {
        // Each progress event then carries the curve recorded so far.
        const url = apiUrl(`v1/training-jobs/${seg(id)}/events`, { include: 'lossHistory' });
        const response = await fetch(url, {
          headers: { accept: 'text/event-stream', ...authHeaders() },
          signal: controller.signal,
        });
        if (!response.ok || !response.body) {
          setError(await failure(response));
          finished = true;
          setState('closed');
          return;
        }
        setError(null);
        setState('live');
        const parser = createParser({
          onEvent(event) {
            if (event.event === 'progress') {
              handlers.current.onProgress(JSON.parse(event.data) as ProgressEvent);
            } else if (event.event === 'done') {
              finished = true;
              handlers.current.onDone(JSON.parse(event.data) as JobRecord);
            }
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch (failed) {
        if (controller.signal.aborted) return;
        setError(asApiError(failed));
      }
      if (finished || controller.signal.aborted) {
        setState('closed');
        return;
      }
      setState('reconnecting');
      retry = setTimeout(connect, RECONNECT_MS);
    };

    void connect();
    return () => {
      controller.abort();
      clearTimeout(retry);
      setState('closed');
    };
  }, [id, active]);

  return { state, error };
}

export interface Curve {
  /** Epochs (estimated from progress while a job runs), or null when unknown. */
  x: number[] | null;
  loss: number[];
  /** Validation loss at the same epochs, when the job monitored one. */
  validation: (number | null)[] | null;
}

/** The most epochs the job may run, from its hyperparameters. */
export function plannedEpochs(job: JobRecord): number | null {
  const epochs = Number(job.hyperparameters.epochs);
  return Number.isFinite(epochs) && epochs > 0 ? epochs : null;
}

/**
 * A job's recorded loss as (epoch, loss) points. A finished run's epochs are exact (see
 * `recordedEpochs`); a live one samples over time, so its points are spread evenly over the epochs
 * done so far.
 */
export function curveOf(job: JobRecord): Curve {
  const loss = job.lossHistory;
  const n = loss.length;
  const planned = plannedEpochs(job);
  const validationHistory = job.training?.validationLossHistory ?? [];
  const validation =
    validationHistory.length > 0 ? loss.map((_, i) => validationHistory[i] ?? null) : null;
  if (n === 0) return { x: [], loss: [], validation: null };
  if (job.training) {
    const run = job.training.epochsRun;
    if (run === 0) return { x: [0], loss, validation };
    return { x: recordedEpochs(n, planned, run), loss, validation };
  }
  const done = planned ? job.progress * planned : n;
  return { x: loss.map((_, i) => round1(((i + 1) * done) / n)), loss, validation: null };
}

const round1 = (value: number) => Math.round(value * 10) / 10;
