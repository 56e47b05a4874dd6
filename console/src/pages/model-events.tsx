// A model's audit trail, newest first, in sentences ("admin moved production from v3 to v4").

import { useState } from 'preact/hooks';
import { get, Page, seg } from '../api';
import { Loaded, useAsync } from '../components/async';
import { time } from '../format';
import type { ModelEvent } from '../types';
import { Pager } from './models';

const PAGE = 20;

const v = (version: number | null) => (version === null ? '—' : `v${version}`);

/** The event as the API names it: "alias_set production v3 → v4 by bootstrap-admin". */
export function eventLine(event: ModelEvent): string {
  const versions =
    event.fromVersion !== null || event.toVersion !== null
      ? ` ${event.fromVersion !== null ? v(event.fromVersion) : ''}${
          event.fromVersion !== null && event.toVersion !== null ? ' → ' : ''
        }${event.toVersion !== null ? v(event.toVersion) : ''}`
      : '';
  return `${event.action}${event.alias ? ` ${event.alias}` : ''}${versions} by ${event.actor ?? 'unknown'}`;
}

/** The event as a sentence. */
export function eventSentence(event: ModelEvent): string {
  const who = event.actor ?? 'Someone';
  const alias = event.alias ?? '?';
  const from = v(event.fromVersion);
  const to = v(event.toVersion);
  switch (event.action) {
    case 'model_created':
      return `${who} created the model`;
    case 'version_created':
      return `${who} registered ${to}`;
    case 'version_archived':
      return `${who} archived ${to}`;
    case 'version_restored':
      return `${who} restored ${to}`;
    case 'version_deleted':
      return `${who} deleted ${from}`;
    case 'alias_set':
      if (event.fromVersion === null) return `${who} pointed new alias ${alias} at ${to}`;
      if (event.fromVersion === event.toVersion) return `${who} updated ${alias}, still at ${to}`;
      return `${who} moved ${alias} from ${from} to ${to}`;
    case 'alias_deleted':
      return `${who} deleted alias ${alias} (it pointed at ${from})`;
    case 'canary_set':
      return `${who} set canary ${to} on ${alias} (version ${from})`;
    case 'canary_promoted':
      return `${who} promoted canary ${to} on ${alias}, replacing ${from}`;
    case 'canary_aborted':
      return `${who} stopped canary ${from} on ${alias}; ${to} answers everything`;
    case 'shadow_set':
      return `${who} set shadow ${to} on ${alias} (version ${from})`;
    case 'shadow_removed':
      return `${who} removed shadow ${from} from ${alias}`;
    case 'reference_set':
      return `${who} set the drift reference of ${to}`;
    case 'monitoring_set':
      return `${who} changed the monitoring settings`;
    default:
      return eventLine(event);
  }
}

/**
 * Per alias, the last event that moved it (its from-version is where a roll back goes), found in
 * the newest events given.
 */
export function lastMoves(events: ModelEvent[]): Record<string, ModelEvent> {
  const moves: Record<string, ModelEvent> = {};
  for (const event of events) {
    if (!event.alias || event.alias in moves) continue;
    if (event.action === 'alias_deleted') {
      // A deleted alias made again starts without a history to roll back to.
      moves[event.alias] = { ...event, fromVersion: null };
      continue;
    }
    const moved =
      (event.action === 'alias_set' || event.action === 'canary_promoted') &&
      event.fromVersion !== null &&
      event.fromVersion !== event.toVersion;
    if (moved) moves[event.alias] = event;
  }
  return moves;
}

export function EventsSection({ name, rev }: { name: string; rev: number }) {
  const [offset, setOffset] = useState(0);
  const events = useAsync(
    () => get<Page<ModelEvent>>(`v1/models/${seg(name)}/events`, { limit: PAGE, offset }),
    [name, offset, rev],
  );
  return (
    <section aria-labelledby="events-heading">
      <h2 id="events-heading">Events</h2>
      <Loaded state={events}>
        {(page) =>
          page.total === 0 ? (
            <p class="empty">No events yet: registering versions and moving aliases adds them.</p>
          ) : (
            <>
              <table class="events">
                <caption class="visually-hidden">Events of {name}, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">What happened</th>
                    <th scope="col">Action</th>
                    <th scope="col">Alias</th>
                    <th scope="col">From → to</th>
                    <th scope="col">Actor</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((event) => (
                    <tr key={event.id}>
                      <td class="nowrap">{time(event.createdAt)}</td>
                      <th scope="row">{eventSentence(event)}</th>
                      <td>
                        <code>{event.action}</code>
                      </td>
                      <td>{event.alias ?? '—'}</td>
                      <td class="nowrap">
                        {event.fromVersion === null && event.toVersion === null
                          ? '—'
                          : `${v(event.fromVersion)} → ${v(event.toVersion)}`}
                      </td>
                      <td>{event.actor ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager total={page.total} offset={offset} size={PAGE} onChange={setOffset} />
            </>
          )
        }
      </Loaded>
    </section>
  );
}
