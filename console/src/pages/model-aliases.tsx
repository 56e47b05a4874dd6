// A model's aliases: what each serves (version, canary, shadow) and, for keys that may, the moves:
// promote, roll back, canary, shadow, delete. Each asks first, then tells the event it recorded.

import { useState } from 'preact/hooks';
import { del, get, Page, post, put, seg } from '../api';
import { ErrorNote, useAsync } from '../components/async';
import { ConfirmButton } from '../components/confirm';
import { num, time } from '../format';
import { href } from '../router';
import { can } from '../session';
import type { Alias, ModelEvent, ModelVersion } from '../types';
import { eventLine } from './model-events';

const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * What a successful change recorded, as its events (read back afterwards). A PUT sets the whole
 * alias, so it records again the parts it kept; `focus` names the actions the change is about.
 */
async function recorded(
  model: string,
  change: () => Promise<unknown>,
  focus?: string[],
): Promise<string> {
  const path = `v1/models/${seg(model)}/events`;
  const before = can('read') ? (await get<Page<ModelEvent>>(path, { limit: 1 })).items[0]?.id : 0;
  await change();
  if (!can('read')) return 'Done.';
  const after = await get<Page<ModelEvent>>(path, { limit: 10 });
  const fresh = after.items.filter((event) => before === undefined || event.id > before);
  const focused = focus ? fresh.filter((event) => focus.includes(event.action)) : fresh;
  const lines = (focused.length > 0 ? focused : fresh).reverse().map(eventLine);
  return lines.length > 0 ? `Recorded: ${lines.join('; ')}` : 'Done.';
}

const percent = (share: number) => `${num(share * 100, 3)}%`;

export function AliasesSection({
  name,
  aliases,
  versions,
  rollbacks,
  lastChange,
  onChanged,
  rev,
}: {
  name: string;
  aliases: Alias[];
  versions: ModelVersion[];
  /** Per alias, the version it pointed at before its last move (from the events). */
  rollbacks: Record<string, ModelEvent>;
  lastChange: string | null;
  onChanged: (outcome: string) => void;
  rev: number;
}) {
  const ready = versions
    .filter((version) => version.status !== 'archived')
    .sort((a, b) => b.version - a.version);
  return (
    <section aria-labelledby="aliases-heading">
      <h2 id="aliases-heading">Aliases</h2>
      <p class="hint">
        An alias is what clients ask for (<code>production</code> is what predict serves by
        default). A canary answers a share of its requests; a shadow also runs on a share, compared
        but never answering.
      </p>
      {/* Survives the re-render that may remove the button that made the change. */}
      <p class="last-change" role="status">
        {lastChange}
      </p>
      {aliases.length === 0 ? (
        <p class="empty">
          No aliases yet.{' '}
          {can('write')
            ? 'Create one below (e.g. production) to choose the version clients get.'
            : 'A key with the write permission can create one (e.g. production).'}
        </p>
      ) : (
        <div class="alias-list">
          {aliases.map((alias) => (
            <AliasCard
              key={alias.alias}
              name={name}
              alias={alias}
              ready={ready}
              rollback={rollbacks[alias.alias]}
              onChanged={onChanged}
              rev={rev}
            />
          ))}
        </div>
      )}
      {can('write') && (
        <NewAlias
          name={name}
          ready={ready}
          taken={aliases.map((a) => a.alias)}
          onChanged={onChanged}
        />
      )}
    </section>
  );
}

function AliasCard({
  name,
  alias,
  ready,
  rollback,
  onChanged,
  rev,
}: {
  name: string;
  alias: Alias;
  ready: ModelVersion[];
  rollback: ModelEvent | undefined;
  onChanged: (outcome: string) => void;
  rev: number;
}) {
  const mayChange = can('write') && (!alias.protected || can('admin'));
  const path = `v1/models/${seg(name)}/aliases/${seg(alias.alias)}`;
  const act = (change: () => Promise<unknown>, focus?: string[]) => async () => {
    const outcome = await recorded(name, change, focus);
    onChanged(`${alias.alias}: ${outcome}`);
    return outcome;
  };
  const rollbackTo = rollback?.fromVersion ?? null;
  const canRollBack =
    rollbackTo !== null &&
    rollbackTo !== alias.version &&
    ready.some((version) => version.version === rollbackTo);
  const v = (version: number) => <a href={href('models', name, 'versions', version)}>v{version}</a>;
  return (
    <article class="card alias" aria-labelledby={`alias-${alias.alias}`}>
      <h3 id={`alias-${alias.alias}`}>
        {alias.alias}
        {alias.protected && <span class="badge protected">protected</span>}
      </h3>
      <dl class="facts">
        <dt>Version</dt>
        <dd>
          {v(alias.version)}
          {alias.canary ? (
            <span class="muted"> answers {percent(1 - alias.canary.weight)} of requests</span>
          ) : (
            <span class="muted"> answers every request</span>
          )}
        </dd>
        <dt>Canary</dt>
        <dd>
          {alias.canary ? (
            <>
              {v(alias.canary.version)} answers {percent(alias.canary.weight)} of requests
            </>
          ) : (
            'none'
          )}
        </dd>
        <dt>Shadow</dt>
        <dd>
          {alias.shadow ? (
            <>
              {v(alias.shadow.version)} also runs on {percent(alias.shadow.fraction)} of requests
            </>
          ) : (
            'none'
          )}
        </dd>
        <dt>Updated</dt>
        <dd>{time(alias.updatedAt)}</dd>
      </dl>
      {alias.shadow && <ShadowReport path={path} rev={rev} />}
      {alias.protected && !mayChange && can('write') && (
        <p class="hint">Protected: only an admin key can move or delete it.</p>
      )}
      {mayChange && (
        <div class="alias-controls">
          <Promote
            alias={alias}
            ready={ready}
            act={act}
            path={path}
            rollbackTo={canRollBack ? rollbackTo : null}
            rollback={rollback}
          />
          <Canary alias={alias} ready={ready} act={act} path={path} />
          <Shadow alias={alias} ready={ready} act={act} path={path} />
          <fieldset>
            <legend>Alias</legend>
            <div class="actions">
              {can('admin') && (
                <ConfirmButton
                  label={alias.protected ? 'Unprotect' : 'Protect'}
                  question={
                    alias.protected ? (
                      <p>
                        Unprotect <strong>{alias.alias}</strong>? Any key with the write permission
                        can then move or delete it.
                      </p>
                    ) : (
                      <p>
                        Protect <strong>{alias.alias}</strong>? Only admin keys can then move or
                        delete it.
                      </p>
                    )
                  }
                  action={act(() =>
                    put(path, {
                      ...rolloutOf(alias),
                      version: alias.version,
                      protected: !alias.protected,
                    }),
                  )}
                />
              )}
              <ConfirmButton
                label="Delete alias"
                danger
                question={
                  <p>
                    Delete alias <strong>{alias.alias}</strong> (now v{alias.version}
                    {alias.canary ? `, canary v${alias.canary.version}` : ''}
                    {alias.shadow ? `, shadow v${alias.shadow.version}` : ''})?{' '}
                    {alias.alias === 'production'
                      ? 'Predict then serves the latest ready version by default.'
                      : `Requests for ?alias=${alias.alias} then fail.`}
                  </p>
                }
                action={act(() => del(path))}
              />
            </div>
          </fieldset>
        </div>
      )}
    </article>
  );
}

/** The canary and shadow as a PUT must repeat them to keep them (a PUT sets the whole alias). */
function rolloutOf(alias: Alias, without?: number) {
  return {
    ...(alias.canary && alias.canary.version !== without ? { canary: alias.canary } : {}),
    ...(alias.shadow && alias.shadow.version !== without ? { shadow: alias.shadow } : {}),
  };
}

interface ActionProps {
  alias: Alias;
  ready: ModelVersion[];
  act: (change: () => Promise<unknown>, focus?: string[]) => () => Promise<string>;
  path: string;
}

function VersionSelect({
  label,
  value,
  options,
  onChange,
  inputsOf,
}: {
  label: string;
  value: number | undefined;
  options: ModelVersion[];
  onChange: (version: number) => void;
  /** Marks the options whose inputs differ from this version's (a canary or shadow must match). */
  inputsOf?: ModelVersion;
}) {
  return (
    <label>
      <span>{label}</span>
      <select
        value={value ?? ''}
        disabled={options.length === 0}
        onChange={(event) => onChange(Number((event.target as HTMLSelectElement).value))}
      >
        {options.length === 0 && <option value="">No other ready version</option>}
        {options.map((option) => (
          <option key={option.version} value={option.version}>
            {`v${option.version}`}
            {inputsOf && JSON.stringify(option.inputSchema) !== JSON.stringify(inputsOf.inputSchema)
              ? ' (other inputs)'
              : ''}
            {` · ${option.algorithm}`}
            {option.description ? ` · ${option.description}` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Whether two versions take the same inputs (a canary or shadow must). */
function sameInputs(ready: ModelVersion[], a: number, b: number): boolean {
  const find = (n: number) => ready.find((version) => version.version === n)?.inputSchema;
  return JSON.stringify(find(a)) === JSON.stringify(find(b));
}

/** What else changes when the alias's version moves to `target`. */
function keptRollout(alias: Alias, target: number, ready: ModelVersion[]) {
  const notes: string[] = [];
  for (const [part, kept] of [
    ['canary', alias.canary],
    ['shadow', alias.shadow],
  ] as const) {
    if (kept && kept.version !== target && !sameInputs(ready, kept.version, target))
      notes.push(
        `Refused as it stands: ${part} v${kept.version} takes other inputs than v${target}; stop the ${part} first.`,
      );
  }
  if (alias.canary)
    notes.push(
      alias.canary.version === target
        ? `Canary v${target} stops (it becomes the version).`
        : `Canary v${alias.canary.version} keeps ${percent(alias.canary.weight)} of requests.`,
    );
  if (alias.shadow)
    notes.push(
      alias.shadow.version === target
        ? `Shadow v${target} stops (it becomes the version).`
        : `Shadow v${alias.shadow.version} keeps running on ${percent(alias.shadow.fraction)}.`,
    );
  return notes.join(' ');
}

function Promote({
  alias,
  ready,
  act,
  path,
  rollbackTo,
  rollback,
}: ActionProps & { rollbackTo: number | null; rollback: ModelEvent | undefined }) {
  const options = ready.filter((version) => version.version !== alias.version);
  const [picked, setPicked] = useState<number | undefined>(undefined);
  const target = options.some((o) => o.version === picked) ? picked : options[0]?.version;
  return (
    <fieldset>
      <legend>Promote or roll back</legend>
      <VersionSelect label="Version" value={target} options={options} onChange={setPicked} />
      <div class="actions">
        {target !== undefined && (
          <ConfirmButton
            label={`Promote v${target}`}
            question={
              <>
                <p>
                  Point <strong>{alias.alias}</strong> at <strong>v{target}</strong> (now v
                  {alias.version})?
                </p>
                <p class="hint">
                  The next request to {alias.alias} is answered by v{target}.{' '}
                  {keptRollout(alias, target, ready)}
                </p>
              </>
            }
            action={act(
              () => put(path, { version: target, ...rolloutOf(alias, target) }),
              ['alias_set', 'canary_aborted', 'shadow_removed'],
            )}
          />
        )}
        {rollbackTo !== null && (
          <ConfirmButton
            label={`Roll back to v${rollbackTo}`}
            question={
              <>
                <p>
                  Roll <strong>{alias.alias}</strong> back to <strong>v{rollbackTo}</strong> (now v
                  {alias.version})?
                </p>
                <p class="hint">
                  v{rollbackTo} is what it served before {rollback?.actor ?? 'someone'} moved it on{' '}
                  {time(rollback?.createdAt)}. {keptRollout(alias, rollbackTo, ready)}
                </p>
              </>
            }
            action={act(
              () => put(path, { version: rollbackTo, ...rolloutOf(alias, rollbackTo) }),
              ['alias_set', 'canary_aborted', 'shadow_removed'],
            )}
          />
        )}
      </div>
    </fieldset>
  );
}

/** A share typed as a number between 0 and 1, with the percentage it means next to it. */
function ShareInput({
  label,
  value,
  onInput,
  max,
  valid,
}: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  max: number;
  valid: boolean;
}) {
  const share = Number(value);
  return (
    <label>
      <span>{label}</span>
      <span class="share">
        <input
          type="number"
          min={0.01}
          max={max}
          step={0.01}
          value={value}
          aria-invalid={!valid}
          onInput={(event) => onInput((event.target as HTMLInputElement).value)}
        />
        <span class="muted" aria-hidden="true">
          {valid
            ? `= ${percent(share)} of requests`
            : max < 1
              ? 'above 0, below 1'
              : 'above 0, at most 1'}
        </span>
      </span>
    </label>
  );
}

function Canary({ alias, ready, act, path }: ActionProps) {
  const options = ready.filter((version) => version.version !== alias.version);
  const [picked, setPicked] = useState<number | undefined>(alias.canary?.version);
  // A canary must take the alias version's inputs: offer such a version first.
  const fallback =
    options.find((o) => sameInputs(ready, o.version, alias.version))?.version ??
    options[0]?.version;
  const [weight, setWeight] = useState(String(alias.canary?.weight ?? 0.1));
  const target = options.some((o) => o.version === picked) ? picked : fallback;
  const share = Number(weight);
  const valid = weight !== '' && share > 0 && share < 1;
  const canary = alias.canary;
  return (
    <fieldset>
      <legend>Canary</legend>
      <VersionSelect
        label="Canary version"
        value={target}
        options={options}
        onChange={setPicked}
        inputsOf={ready.find((version) => version.version === alias.version)}
      />
      <ShareInput
        label="Weight (share of requests, 0–1)"
        value={weight}
        onInput={setWeight}
        max={0.99}
        valid={valid}
      />
      <div class="actions">
        {target !== undefined && (
          <ConfirmButton
            label={canary ? 'Change canary' : 'Start canary'}
            disabled={!valid}
            question={
              <>
                <p>
                  {canary ? (
                    <>
                      Change the canary of <strong>{alias.alias}</strong> from v{canary.version} at{' '}
                      {percent(canary.weight)} to <strong>v{target}</strong> at{' '}
                      <strong>{percent(share)}</strong>?
                    </>
                  ) : (
                    <>
                      Send <strong>{percent(share)}</strong> of <strong>{alias.alias}</strong>'s
                      requests to <strong>v{target}</strong> (v{alias.version} answers the rest)?
                    </>
                  )}
                </p>
                <p class="hint">
                  The canary must take the same inputs as v{alias.version}. Requests with the same{' '}
                  <code>X-Routing-Key</code> stay on the same side.
                </p>
              </>
            }
            action={act(
              () =>
                put(path, {
                  version: alias.version,
                  canary: { version: target, weight: share },
                  ...(alias.shadow ? { shadow: alias.shadow } : {}),
                }),
              ['canary_set'],
            )}
          />
        )}
        {canary && (
          <>
            <ConfirmButton
              label={`Promote canary v${canary.version}`}
              question={
                <p>
                  Make canary <strong>v{canary.version}</strong> the version of{' '}
                  <strong>{alias.alias}</strong> (now v{alias.version}), answering every request?
                </p>
              }
              action={act(() => post(`${path}/canary/promote`))}
            />
            <ConfirmButton
              label="Abort canary"
              question={
                <p>
                  Stop canary <strong>v{canary.version}</strong> on <strong>{alias.alias}</strong>?
                  v{alias.version} answers every request again.
                </p>
              }
              action={act(() => del(`${path}/canary`))}
            />
          </>
        )}
      </div>
    </fieldset>
  );
}

function Shadow({ alias, ready, act, path }: ActionProps) {
  const options = ready.filter((version) => version.version !== alias.version);
  const [picked, setPicked] = useState<number | undefined>(alias.shadow?.version);
  // A shadow must take the alias version's inputs: offer such a version first.
  const fallback =
    options.find((o) => sameInputs(ready, o.version, alias.version))?.version ??
    options[0]?.version;
  const [fraction, setFraction] = useState(String(alias.shadow?.fraction ?? 0.5));
  const target = options.some((o) => o.version === picked) ? picked : fallback;
  const share = Number(fraction);
  const valid = fraction !== '' && share > 0 && share <= 1;
  const shadow = alias.shadow;
  return (
    <fieldset>
      <legend>Shadow</legend>
      <VersionSelect
        label="Shadow version"
        value={target}
        options={options}
        onChange={setPicked}
        inputsOf={ready.find((version) => version.version === alias.version)}
      />
      <ShareInput
        label="Fraction (share of requests, 0–1)"
        value={fraction}
        onInput={setFraction}
        max={1}
        valid={valid}
      />
      <div class="actions">
        {target !== undefined && (
          <ConfirmButton
            label={shadow ? 'Change shadow' : 'Start shadow'}
            disabled={!valid}
            question={
              <>
                <p>
                  {shadow ? (
                    <>
                      Change the shadow of <strong>{alias.alias}</strong> from v{shadow.version} on{' '}
                      {percent(shadow.fraction)} to <strong>v{target}</strong> on{' '}
                      <strong>{percent(share)}</strong>?
                    </>
                  ) : (
                    <>
                      Also run <strong>v{target}</strong> on <strong>{percent(share)}</strong> of{' '}
                      <strong>{alias.alias}</strong>'s requests, compared with v{alias.version} but
                      never answering?
                    </>
                  )}
                </p>
                {shadow?.version !== target && (
                  <p class="hint">The comparison starts again, for v{target}.</p>
                )}
              </>
            }
            action={act(
              () =>
                put(path, {
                  version: alias.version,
                  ...(alias.canary ? { canary: alias.canary } : {}),
                  shadow: { version: target, fraction: share },
                }),
              ['shadow_set'],
            )}
          />
        )}
        {shadow && (
          <ConfirmButton
            label="Remove shadow"
            question={
              <p>
                Stop running <strong>v{shadow.version}</strong> as the shadow of{' '}
                <strong>{alias.alias}</strong>? Its comparison so far is kept until a new shadow.
              </p>
            }
            action={act(() => del(`${path}/shadow`))}
          />
        )}
      </div>
    </fieldset>
  );
}

interface ShadowSummary {
  version: number;
  shadowVersion: number;
  fraction: number | null;
  active: boolean;
  since: string;
  count: number;
  errors: number;
  dropped: number;
  mismatched: number;
  agreement: number | null;
  difference: { meanAbsolute: number; maxAbsolute: number; meanRelative: number } | null;
  probabilityDifference: { meanAbsolute: number; maxAbsolute: number } | null;
  latencyMs: {
    primary: { mean: number | null; p99: number | null };
    shadow: { mean: number | null; p99: number | null };
  };
}

/** How the shadow's answers compare with the ones sent, so far (this replica's count). */
function ShadowReport({ path, rev }: { path: string; rev: number }) {
  const [tick, setTick] = useState(0);
  const report = useAsync(() => get<ShadowSummary>(`${path}/shadow`), [path, rev, tick]);
  const data = report.data;
  return (
    <div class="shadow-report">
      <h4>Shadow comparison{data && `: v${data.shadowVersion} against v${data.version}`}</h4>
      <ErrorNote error={report.error} />
      {data &&
        (data.count === 0 ? (
          <p class="hint">
            No request compared yet (since {time(data.since)}). Send predictions to this alias.
          </p>
        ) : (
          <table class="compact">
            <caption class="visually-hidden">Shadow comparison figures</caption>
            <tbody>
              <tr>
                <th scope="row">Requests compared</th>
                <td class="number">{num(data.count)}</td>
                <td class="muted small">since {time(data.since)}</td>
              </tr>
              {data.agreement !== null && (
                <tr>
                  <th scope="row">Same label</th>
                  <td class="number">{percent(data.agreement)}</td>
                  <td />
                </tr>
              )}
              {data.difference && (
                <tr>
                  <th scope="row">Difference (mean / max)</th>
                  <td class="number">
                    {num(data.difference.meanAbsolute)} / {num(data.difference.maxAbsolute)}
                  </td>
                  <td class="muted small">relative mean {percent(data.difference.meanRelative)}</td>
                </tr>
              )}
              {data.probabilityDifference && (
                <tr>
                  <th scope="row">Probability difference (mean / max)</th>
                  <td class="number">
                    {num(data.probabilityDifference.meanAbsolute)} /{' '}
                    {num(data.probabilityDifference.maxAbsolute)}
                  </td>
                  <td />
                </tr>
              )}
              <tr>
                <th scope="row">Shadow errors</th>
                <td class={data.errors > 0 ? 'number status-failed' : 'number'}>
                  {num(data.errors)}
                </td>
                <td class="muted small">
                  dropped {num(data.dropped)}, not comparable {num(data.mismatched)}
                </td>
              </tr>
              <tr>
                <th scope="row">Shadow v{data.shadowVersion} latency, ms (mean / p99)</th>
                <td class="number">
                  {num(data.latencyMs.shadow.mean, 3)} / {num(data.latencyMs.shadow.p99, 3)}
                </td>
                <td />
              </tr>
              <tr>
                <th scope="row">Version v{data.version} latency, ms (mean / p99)</th>
                <td class="number">
                  {num(data.latencyMs.primary.mean, 3)} / {num(data.latencyMs.primary.p99, 3)}
                </td>
                <td />
              </tr>
            </tbody>
          </table>
        ))}
      <button type="button" class="small-button" onClick={() => setTick((n) => n + 1)}>
        {report.loading ? 'Refreshing…' : 'Refresh comparison'}
      </button>
    </div>
  );
}

function NewAlias({
  name,
  ready,
  taken,
  onChanged,
}: {
  name: string;
  ready: ModelVersion[];
  taken: string[];
  onChanged: (outcome: string) => void;
}) {
  const [alias, setAlias] = useState(taken.includes('production') ? '' : 'production');
  const [picked, setPicked] = useState<number | undefined>(undefined);
  const target = ready.some((o) => o.version === picked) ? picked : ready[0]?.version;
  const exists = taken.includes(alias);
  const validName = ALIAS_NAME.test(alias);
  return (
    <form class="card new-alias" onSubmit={(event) => event.preventDefault()}>
      <fieldset>
        <legend>New alias</legend>
        <div class="row">
          <label>
            <span>Name</span>
            <input
              value={alias}
              placeholder="e.g. staging"
              aria-invalid={alias !== '' && (!validName || exists)}
              aria-describedby="new-alias-hint"
              onInput={(event) => setAlias((event.target as HTMLInputElement).value.trim())}
            />
          </label>
          <VersionSelect label="Version" value={target} options={ready} onChange={setPicked} />
        </div>
        <p class="hint" id="new-alias-hint">
          {exists
            ? `${alias} exists: move it with Promote in its card.`
            : alias && !validName
              ? 'Letters, digits, ".", "_" and "-", starting with a letter or digit.'
              : 'Letters, digits, ".", "_" and "-".'}
        </p>
        <div class="actions">
          <ConfirmButton
            label="Create alias"
            disabled={!validName || exists || target === undefined}
            question={
              <p>
                Create alias <strong>{alias}</strong> pointing at <strong>v{target}</strong>?
                {alias === 'production' && ' Predict serves it by default from now on.'}
              </p>
            }
            action={async () => {
              const outcome = await recorded(name, () =>
                put(`v1/models/${seg(name)}/aliases/${seg(alias)}`, { version: target }),
              );
              onChanged(`${alias}: ${outcome}`);
              setAlias('');
              return outcome;
            }}
          />
        </div>
      </fieldset>
    </form>
  );
}
