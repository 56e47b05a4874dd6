import { useMemo, useState } from 'preact/hooks';
import { get, seg } from '../api';
import { ErrorNote, useAsync } from '../components/async';
import { num, time } from '../format';
import { binLabels, Histogram } from './version-charts';
import type { DriftReport, FeatureDrift } from './version-types';

const WINDOWS = [
  { label: 'Last hour', ms: 3_600_000 },
  { label: 'Last 24 hours', ms: 86_400_000 },
  { label: 'Last 7 days', ms: 7 * 86_400_000 },
];

/** Below this many live values in the window the API does not rate a feature (docs/drift.md). */
const MIN_RATED = 100;

/** Live inputs and outputs of a window against the version's reference. */
export function DriftSection({
  name,
  version,
  hasReference,
}: {
  name: string;
  version: number;
  hasReference: boolean;
}) {
  const [span, setSpan] = useState(WINDOWS[1].ms);
  // Bumped by "Refresh" so the window ends at the new now.
  const [asked, setAsked] = useState(() => Date.now());
  const drift = useAsync(async () => {
    if (!hasReference) return null;
    const to = new Date(asked);
    const from = new Date(asked - span);
    return get<DriftReport>(`v1/models/${seg(name)}/versions/${version}/drift`, {
      from: from.toISOString(),
      to: to.toISOString(),
    });
  }, [name, version, span, asked, hasReference]);

  if (!hasReference) {
    return (
      <p class="empty">
        Drift compares live requests with the version's reference profile, and this version has
        none. Set one from a dataset holding its features with{' '}
        <code>PUT /v1/models/NAME/versions/N/reference</code>.
      </p>
    );
  }
  return (
    <>
      <form class="filters drift-window" onSubmit={(event) => event.preventDefault()}>
        <fieldset>
          <legend>Window</legend>
          <div class="choices">
            {WINDOWS.map((window) => (
              <label class="choice" key={window.ms}>
                <input
                  type="radio"
                  name="drift-window"
                  checked={span === window.ms}
                  onChange={() => {
                    setSpan(window.ms);
                    setAsked(Date.now());
                  }}
                />
                <span>{window.label}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <div class="actions">
          <button type="button" onClick={() => setAsked(Date.now())} disabled={drift.loading}>
            Refresh
          </button>
        </div>
      </form>
      {drift.error && <ErrorNote error={drift.error} />}
      {drift.loading && !drift.data && (
        <p class="muted" aria-live="polite">
          Comparing the window with the reference…
        </p>
      )}
      {drift.data && <DriftReportView report={drift.data} />}
    </>
  );
}

function DriftReportView({ report }: { report: DriftReport }) {
  const rows = useMemo(
    () => [...report.features, ...(report.predictions ? [report.predictions] : [])],
    [report],
  );
  const [chosen, setChosen] = useState<string>(report.features[0]?.name ?? '');
  const selected =
    rows.find((row, i) => key(row, i >= report.features.length) === chosen) ?? rows[0];
  const unrated = report.features.filter((feature) => !feature.rated).length;
  return (
    <>
      <p role="status">
        {time(report.from)} – {time(report.to)}: <strong>{num(report.sampleSize)}</strong> logged
        rows against {num(report.referenceSize)} reference rows. Overall:{' '}
        <StatusWord feature={{ status: report.status, rated: unrated < report.features.length }} />
        {report.skippedRequests > 0 &&
          ` (${num(report.skippedRequests)} requests skipped: their tensors were logged as digests)`}
      </p>
      {report.sampleSize === 0 ? (
        <p class="empty">
          No logged requests in this window. Send predictions to this version (and check that the
          model's monitoring sample rate is above 0), or pick a longer window.
        </p>
      ) : (
        unrated > 0 && (
          <p class="notice">
            {unrated === report.features.length ? 'No feature is' : `${unrated} features are not`}{' '}
            rated: a feature needs at least {MIN_RATED} live values in the window. Widen the window
            or wait for more traffic.
          </p>
        )
      )}
      <div class="table-scroll">
        <table class="drift">
          <caption class="visually-hidden">Drift per feature and of the predictions</caption>
          <thead>
            <tr>
              <th scope="col">Feature</th>
              <th scope="col">Status</th>
              <th scope="col" class="number">
                PSI
              </th>
              <th scope="col" class="number">
                KS statistic
              </th>
              <th scope="col" class="number">
                KS p-value
              </th>
              <th scope="col" class="number">
                Wasserstein
              </th>
              <th scope="col" class="number">
                Jensen–Shannon
              </th>
              <th scope="col" class="number">
                Missing (ref / live)
              </th>
              <th scope="col" class="number">
                Values (ref / live)
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => {
              const isPrediction = i >= report.features.length;
              return (
                <tr key={key(row, isPrediction)} class={isPrediction ? 'predictions' : undefined}>
                  <th scope="row">
                    {row.name}
                    {isPrediction && <span class="badge">predictions</span>}
                  </th>
                  <td>
                    <StatusWord feature={row} />
                  </td>
                  <td class="number">{num(row.psi)}</td>
                  <td class="number">{num(row.ks?.statistic)}</td>
                  <td class="number">{num(row.ks?.pValue, 3)}</td>
                  <td class="number">{num(row.wasserstein)}</td>
                  <td class="number">{num(row.jensenShannon)}</td>
                  <td class="number">
                    {percent(row.missingRate.reference)} / {percent(row.missingRate.live)}
                  </td>
                  <td class="number">
                    {num(row.referenceSize)} / {num(row.sampleSize)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="hint">
        PSI decides the status: below 0.1 ok, from 0.1 warning, from 0.25 drift. KS and Wasserstein
        (in the feature's units) are there to read; the predictions' status is not part of the
        overall one.
      </p>
      <div class="histogram-picker">
        <label>
          <span>Live vs reference histogram of</span>
          <select
            value={selected ? key(selected, rows.indexOf(selected) >= report.features.length) : ''}
            onChange={(event) => setChosen((event.target as HTMLSelectElement).value)}
          >
            {rows.map((row, i) => {
              const value = key(row, i >= report.features.length);
              return (
                <option value={value} key={value}>
                  {row.name}
                  {i >= report.features.length ? ' (predictions)' : ''}
                </option>
              );
            })}
          </select>
        </label>
      </div>
      {selected && <LiveHistogram feature={selected} />}
    </>
  );
}

const key = (row: FeatureDrift, isPrediction: boolean) =>
  `${isPrediction ? 'prediction' : 'feature'}:${row.name}`;

const percent = (share: number) => `${num(share * 100, 3)} %`;

/** The status as a word (colour is a second cue, never the only one). */
function StatusWord({ feature }: { feature: Pick<FeatureDrift, 'status' | 'rated'> }) {
  if (!feature.rated) return <span class="muted">not rated</span>;
  return <span class={`status-${feature.status}`}>{feature.status}</span>;
}

/** Both sides as shares of their own values, so different sample sizes compare. */
function LiveHistogram({ feature }: { feature: FeatureDrift }) {
  const { labels, series } = useMemo(() => {
    if (feature.categories) {
      return {
        labels: feature.categories.map((category) => category.name),
        series: [
          { label: 'Reference', values: feature.categories.map((c) => c.reference) },
          { label: 'Live', values: feature.categories.map((c) => c.live) },
        ],
      };
    }
    const bins = feature.bins ?? { edges: [], reference: [], live: [] };
    return {
      labels: binLabels(bins.edges),
      series: [
        { label: 'Reference', values: bins.reference },
        { label: 'Live', values: bins.live },
      ],
    };
  }, [feature]);
  if (labels.length === 0) return null;
  return (
    <>
      {feature.sampleSize === 0 && (
        <p class="hint">
          No live values of {feature.name} in this window: only the reference shows.
        </p>
      )}
      <Histogram
        title={`Share of values per ${feature.categories ? 'category' : 'bin'} of ${feature.name}, reference and live`}
        labels={labels}
        series={series}
        unit="share"
        binName={feature.categories ? 'Category' : 'Bin'}
      />
    </>
  );
}
