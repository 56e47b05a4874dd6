import { useMemo, useState } from 'preact/hooks';
import { num } from '../format';
import type { ColumnProfile, ModelVersion } from '../types';
import { binLabels, Histogram } from './version-charts';

type Reference = NonNullable<ModelVersion['reference']>;

/** The profile drift compares live inputs with: per-feature summary and one feature's histogram. */
export function ReferenceSection({ reference }: { reference: Reference | null | undefined }) {
  const columns = useMemo(
    () =>
      reference
        ? [...reference.features, ...(reference.predictions ? [reference.predictions] : [])]
        : [],
    [reference],
  );
  const [chosen, setChosen] = useState(0);
  if (!reference) {
    return (
      <p class="empty">
        This version has no reference profile: it was imported, not trained here. Give it one from a
        dataset that holds its features with <code>PUT /v1/models/NAME/versions/N/reference</code>{' '}
        <code>{'{"dataset": "…"}'}</code>; drift needs it.
      </p>
    );
  }
  const column = columns[Math.min(chosen, columns.length - 1)];
  const isPrediction = (profile: ColumnProfile) => profile === reference.predictions;
  return (
    <>
      <p class="hint">
        Profiled on {num(reference.rows)} rows (the training split for a version trained here).
      </p>
      <table>
        <caption class="visually-hidden">Reference profile per feature</caption>
        <thead>
          <tr>
            <th scope="col">Feature</th>
            <th scope="col">Kind</th>
            <th scope="col" class="number">
              Count
            </th>
            <th scope="col" class="number">
              Missing
            </th>
            <th scope="col" class="number">
              Min
            </th>
            <th scope="col" class="number">
              Max
            </th>
            <th scope="col" class="number">
              Mean
            </th>
            <th scope="col" class="number">
              Std
            </th>
            <th scope="col">Top categories</th>
          </tr>
        </thead>
        <tbody>
          {columns.map((profile) => (
            <tr key={`${isPrediction(profile)}-${profile.name}`}>
              <th scope="row">
                {profile.name}
                {isPrediction(profile) && <span class="badge">predictions</span>}
              </th>
              <td>{profile.kind}</td>
              <td class="number">{num(profile.count)}</td>
              <td class="number">{num(profile.missing)}</td>
              <td class="number">{num(profile.min)}</td>
              <td class="number">{num(profile.max)}</td>
              <td class="number">{num(profile.mean)}</td>
              <td class="number">{num(profile.std)}</td>
              <td>{profile.categories ? <TopCategories profile={profile} /> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="histogram-picker">
        <label>
          <span>Histogram of</span>
          <select
            value={String(chosen)}
            onChange={(event) => setChosen(Number((event.target as HTMLSelectElement).value))}
          >
            {columns.map((profile, i) => (
              <option value={String(i)} key={i}>
                {profile.name}
                {isPrediction(profile) ? ' (predictions)' : ''}
              </option>
            ))}
          </select>
        </label>
      </div>
      {column && <ProfileHistogram profile={column} />}
    </>
  );
}

function TopCategories({ profile }: { profile: ColumnProfile }) {
  const top = Object.entries(profile.categories ?? {})
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  const rest = Object.keys(profile.categories ?? {}).length - top.length;
  return (
    <>
      {top.map(([name, count]) => (
        <span class="tag" key={name}>
          {name}: {num(count)}
        </span>
      ))}
      {rest > 0 && <span class="muted small">+{rest} more</span>}
    </>
  );
}

/** Reference counts per decile bin (numbers) or per category (strings). */
function ProfileHistogram({ profile }: { profile: ColumnProfile }) {
  const { labels, values } = useMemo(() => {
    if (profile.kind === 'string') {
      const entries = Object.entries(profile.categories ?? {}).sort((a, b) => b[1] - a[1]);
      return { labels: entries.map(([name]) => name), values: entries.map(([, count]) => count) };
    }
    return { labels: binLabels(profile.edges ?? []), values: profile.counts ?? [] };
  }, [profile]);
  const series = useMemo(() => [{ label: 'Reference rows', values }], [values]);
  if (values.length === 0) return <p class="empty">No values of {profile.name} were profiled.</p>;
  return (
    <Histogram
      title={`Reference histogram of ${profile.name}`}
      labels={labels}
      series={series}
      unit="count"
      binName={profile.kind === 'string' ? 'Category' : 'Bin'}
    />
  );
}
