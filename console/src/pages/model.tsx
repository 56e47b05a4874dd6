import { useState } from 'preact/hooks';
import { all, get, Page, seg } from '../api';
import { ErrorNote, Loaded, useAsync } from '../components/async';
import { PageTitle } from '../components/layout';
import { time } from '../format';
import { can } from '../session';
import type { Alias, Model, ModelEvent, ModelVersion } from '../types';
import { AliasesSection } from './model-aliases';
import { EventsSection, lastMoves } from './model-events';
import { VersionsSection } from './model-versions';
import './model.css';

/** The newest events read to find where each alias was before its last move (for roll back). */
const HISTORY = 500;

/** One model: versions, a metric across versions, aliases and rollouts, events. */
export function ModelPage({ name }: { name: string }) {
  // Bumped after every change: everything on the page is read again.
  const [rev, setRev] = useState(0);
  const [lastChange, setLastChange] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const path = `v1/models/${seg(name)}`;

  const model = useAsync(async () => {
    const found = await get<Model>(path);
    // No list of aliases in the API: the model names them, each is read for its rollout.
    const aliases = await Promise.all(
      Object.keys(found.aliases).map((alias) => get<Alias>(`${path}/aliases/${seg(alias)}`)),
    );
    aliases.sort(
      (a, b) =>
        Number(b.alias === 'production') - Number(a.alias === 'production') ||
        a.alias.localeCompare(b.alias),
    );
    return { model: found, aliases };
  }, [name, rev]);
  const versions = useAsync(() => all<ModelVersion>(`${path}/versions`), [name, rev]);
  const history = useAsync(
    async () =>
      can('read')
        ? lastMoves((await get<Page<ModelEvent>>(`${path}/events`, { limit: HISTORY })).items)
        : {},
    [name, rev],
  );

  const changed = (outcome: string) => {
    setLastChange(outcome);
    setRev((n) => n + 1);
  };

  return (
    <>
      <PageTitle>
        <span class="muted">Model</span> {name}
      </PageTitle>
      <Loaded state={model}>
        {({ model: found, aliases }) => (
          <>
            <ModelHeader model={found} />
            <Loaded state={versions}>
              {(list) => (
                <>
                  <VersionsSection
                    name={name}
                    versions={list}
                    status={status}
                    onStatus={setStatus}
                  />
                  <ErrorNote error={history.error} />
                  <AliasesSection
                    name={name}
                    aliases={aliases}
                    versions={list}
                    rollbacks={history.data ?? {}}
                    lastChange={lastChange}
                    onChanged={changed}
                    rev={rev}
                  />
                </>
              )}
            </Loaded>
            {can('read') ? (
              <EventsSection name={name} rev={rev} />
            ) : (
              <section aria-labelledby="events-heading">
                <h2 id="events-heading">Events</h2>
                <p class="empty">
                  This key cannot read the events (they need the read permission).
                </p>
              </section>
            )}
          </>
        )}
      </Loaded>
    </>
  );
}

function ModelHeader({ model }: { model: Model }) {
  const tags = Object.entries(model.tags);
  return (
    <div class="card model-header">
      <p class="description">{model.description ?? <span class="muted">No description.</span>}</p>
      <dl class="facts">
        <dt>Tags</dt>
        <dd>
          {tags.length === 0
            ? '—'
            : tags.map(([key, value]) => (
                <span class="tag" key={key}>
                  {key}:{value}
                </span>
              ))}
        </dd>
        <dt>Latest version</dt>
        <dd>{model.latestVersion === null ? '—' : `v${model.latestVersion}`}</dd>
        <dt>Created</dt>
        <dd>{time(model.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>{time(model.updatedAt)}</dd>
      </dl>
    </div>
  );
}
