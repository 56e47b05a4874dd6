import { get, seg } from '../api';
import { Loaded, useAsync } from '../components/async';
import { PageTitle } from '../components/layout';
import { bytes, time } from '../format';
import { href, route as currentRoute } from '../router';
import { can } from '../session';
import { useSignal } from '../signal';
import type { ModelVersion } from '../types';
import { DriftSection } from './version-drift';
import {
  Downloads,
  HyperparametersList,
  LossCurve,
  MetricsSection,
  SignatureTables,
} from './version-parts';
import { ReferenceSection } from './version-reference';
import { TryIt } from './version-try';
import './version.css';

interface Tab {
  id: string;
  label: string;
  /** Whether the key may see it (the API would refuse it otherwise). */
  allowed: () => boolean;
}

const TABS: Tab[] = [
  { id: 'overview', label: 'Overview', allowed: () => true },
  { id: 'signature', label: 'Signature', allowed: () => true },
  { id: 'training', label: 'Training', allowed: () => true },
  { id: 'reference', label: 'Reference', allowed: () => true },
  // GET …/drift needs `metadata` (every role): see the report's note on the brief.
  { id: 'drift', label: 'Drift', allowed: () => can('metadata') },
  { id: 'try', label: 'Try it', allowed: () => can('predict') },
];

/** One version: lineage, signature, metrics, loss, reference, drift, try it. */
export function VersionPage({ name, version }: { name: string; version: number }) {
  const route = useSignal(currentRoute);
  const loaded = useAsync(
    () => get<ModelVersion>(`v1/models/${seg(name)}/versions/${version}`),
    [name, version],
  );
  const tabs = TABS.filter((tab) => tab.allowed());
  const tab = tabs.find((t) => t.id === route.query.get('tab')) ?? tabs[0];
  const base = href('models', name, 'versions', version);
  return (
    <>
      <p class="crumbs small">
        <a href="#/models">Models</a> / <a href={href('models', name)}>{name}</a> / version{' '}
        {version}
      </p>
      <PageTitle>
        {name} v{version}
      </PageTitle>
      <Loaded state={loaded}>
        {(v) => (
          <>
            <p class="summary">
              <span class="badge">{v.status}</span> <span class="tag">{v.algorithm}</span>{' '}
              <span class="tag">{v.format}</span>
              {v.aliases.map((alias) => (
                <span class="badge" key={alias}>
                  {alias}
                </span>
              ))}
            </p>
            <nav class="tabs" aria-label="Version sections">
              {tabs.map((t) => (
                <a
                  key={t.id}
                  href={t === tabs[0] ? base : `${base}?tab=${t.id}`}
                  aria-current={t === tab ? 'page' : undefined}
                >
                  {t.label}
                </a>
              ))}
            </nav>
            <section aria-labelledby="tab-heading">
              <h2 id="tab-heading" class="visually-hidden">
                {tab.label}
              </h2>
              <TabContent tab={tab.id} v={v} />
            </section>
          </>
        )}
      </Loaded>
    </>
  );
}

function TabContent({ tab, v }: { tab: string; v: ModelVersion }) {
  switch (tab) {
    case 'signature':
      return <SignatureTables v={v} />;
    case 'training':
      return (
        <>
          <div class="grid-2">
            <section class="card" aria-labelledby="hp-heading">
              <h3 id="hp-heading">Hyperparameters</h3>
              <HyperparametersList v={v} />
            </section>
            <section class="card" aria-labelledby="metrics-heading">
              <h3 id="metrics-heading">Metrics</h3>
              <MetricsSection v={v} part="table" />
            </section>
          </div>
          <section class="card" aria-labelledby="loss-heading">
            <h3 id="loss-heading">Loss curve</h3>
            <LossCurve v={v} />
          </section>
          <MetricsSection v={v} part="confusion" />
        </>
      );
    case 'reference':
      return <ReferenceSection reference={v.reference} />;
    case 'drift':
      return <DriftSection name={v.model} version={v.version} hasReference={!!v.reference} />;
    case 'try':
      return <TryIt key={`${v.model}/${v.version}`} version={v} />;
    default:
      return <Overview v={v} />;
  }
}

function Overview({ v }: { v: ModelVersion }) {
  const job = v.trainingJob;
  return (
    <div class="grid-2">
      <section class="card" aria-labelledby="about-heading">
        <h3 id="about-heading">About</h3>
        <dl class="facts">
          <dt>Status</dt>
          <dd>{v.status}</dd>
          <dt>Algorithm</dt>
          <dd>{v.algorithm}</dd>
          <dt>Format</dt>
          <dd>
            <code>{v.format}</code>
          </dd>
          <dt>Aliases</dt>
          <dd>
            {v.aliases.length === 0 ? (
              <span class="muted">none point here</span>
            ) : (
              v.aliases.map((alias) => (
                <span class="badge" key={alias}>
                  {alias}
                </span>
              ))
            )}
          </dd>
          <dt>Created</dt>
          <dd>{time(v.createdAt)}</dd>
          <dt>Created by</dt>
          <dd>{v.createdBy ?? '—'}</dd>
          <dt>Size</dt>
          <dd>{bytes(v.sizeBytes)}</dd>
          <dt>Checksum</dt>
          <dd>
            <code class="hash">{v.checksum}</code>
          </dd>
          <dt>Description</dt>
          <dd>{v.description ?? <span class="muted">none</span>}</dd>
          <dt>Tags</dt>
          <dd>
            {Object.keys(v.tags).length === 0 ? (
              <span class="muted">none</span>
            ) : (
              Object.entries(v.tags).map(([key, value]) => (
                <span class="tag" key={key}>
                  {key}:{value}
                </span>
              ))
            )}
          </dd>
        </dl>
      </section>
      <div>
        <section class="card" aria-labelledby="lineage-heading">
          <h3 id="lineage-heading">Lineage</h3>
          {v.dataset || job ? (
            <dl class="facts">
              <dt>Dataset</dt>
              <dd>
                {v.dataset ? (
                  <>
                    {/* The dataset and job pages need `read`: a predictor key gets the names only. */}
                    {can('read') ? (
                      <a href={href('datasets', v.dataset.id)}>{v.dataset.name ?? v.dataset.id}</a>
                    ) : (
                      (v.dataset.name ?? v.dataset.id)
                    )}
                    <div class="small muted">
                      checksum <code class="hash">{v.dataset.checksum}</code>
                    </div>
                  </>
                ) : (
                  '—'
                )}
              </dd>
              <dt>Training job</dt>
              <dd>{job ? can('read') ? <a href={href('training', job)}>{job}</a> : job : '—'}</dd>
            </dl>
          ) : (
            <p class="muted">
              Imported from a file: no dataset or training job is recorded for this version.
            </p>
          )}
        </section>
        {can('read') && (
          <section class="card" aria-labelledby="download-heading">
            <h3 id="download-heading">Download the artifact</h3>
            <Downloads v={v} />
          </section>
        )}
      </div>
    </div>
  );
}
