/**
 * deploy/grafana/modeldock.json against the real service: every metric a query of the dashboard
 * names must be one GET /metrics exports, every label it filters, groups or labels a legend by must
 * be one those metrics carry, and every expression must parse with Prometheus' own parser
 * (`promtool check rules`, each expression written as a recording rule). Renaming a metric or a
 * label in src/ without updating the dashboard fails here.
 *
 * promtool comes with Prometheus (Debian: apt-get install prometheus). Without it the syntax check
 * is skipped on a developer's machine and fails in CI; the name checks always run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { DriftMonitor } from '../src/drift/drift-monitor.service';
import { PredictionLogService } from '../src/monitoring/prediction-log.service';
import { housingArtifact, housingInstances, lineDataset } from './support/fixtures';
import { eventually } from './support/polling';
import { makeDataDir, removeDataDir, startApp, TestApp, waitForJob } from './support/test-app';

const DASHBOARD = path.resolve(__dirname, '../deploy/grafana/modeldock.json');

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).error
  ? null
  : 'promtool';
if (!promtool && process.env.CI) {
  throw new Error(
    'promtool is not installed; CI checks the dashboard queries with it (apt-get install prometheus)',
  );
}
if (!promtool) {
  process.stderr.write(
    'grafana-dashboard.e2e-spec: promtool checks SKIPPED, promtool is not installed (apt-get install prometheus).\n',
  );
}
const itWithPromtool = promtool ? it : it.skip;

// ---------------------------------------------------------------------------------------------
// The dashboard's PromQL

interface Query {
  /** Where it is: "panel 12 "Title" target A" or "variable model". */
  where: string;
  expr: string;
  /** The legend's {{label}} names. */
  legendLabels: string[];
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId: string; legendFormat?: string; datasource?: unknown }[];
  panels?: Panel[];
}

/** Every panel, those nested in collapsed rows included. */
function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

/** label_values(metric{…}, label) → its metric selector; query_result(expr) → expr. */
function variableExpr(query: string): string | null {
  const labelValues = /^\s*label_values\(\s*(.+?)\s*,\s*[A-Za-z_]\w*\s*\)\s*$/s.exec(query);
  if (labelValues) return labelValues[1];
  if (/^\s*label_values\(\s*[A-Za-z_]\w*\s*\)\s*$/.test(query)) return null; // label only
  const queryResult = /^\s*query_result\((.+)\)\s*$/s.exec(query);
  if (queryResult) return queryResult[1];
  if (/^\s*(label_names|metrics)\(/.test(query)) return null;
  return query;
}

function dashboardQueries(dashboard: any): Query[] {
  const queries: Query[] = [];
  for (const panel of allPanels(dashboard.panels)) {
    for (const target of panel.targets ?? []) {
      if (target.expr === undefined) continue;
      queries.push({
        where: `panel ${panel.id} "${panel.title}" target ${target.refId}`,
        expr: target.expr,
        legendLabels: [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map(
          (m) => m[1],
        ),
      });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const expr = variableExpr(query ?? '');
    if (expr !== null) queries.push({ where: `variable ${variable.name}`, expr, legendLabels: [] });
  }
  return queries;
}

/** PromQL words that are not metric names when they are not followed by "(". */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/** The expression with string literals emptied and Grafana variables blanked. */
function normalise(expr: string): string {
  return expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g, ' ');
}

/**
 * The metric names an expression reads: identifiers that are not calls (functions and
 * aggregations are followed by "("), keywords, label names (inside {} and grouping lists),
 * durations or numbers; plus `{__name__="…"}` matchers.
 */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]);
  const bare = normalise(expr)
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ');
  for (const m of bare.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*/g)) {
    const rest = bare.slice((m.index ?? 0) + m[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** The label names an expression matches on (inside {}) or groups by. */
function labelNames(expr: string): string[] {
  const text = normalise(expr);
  const names = new Set<string>();
  for (const selector of text.matchAll(/\{([^}]*)\}/g)) {
    for (const m of selector[1].matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) names.add(m[1]);
  }
  for (const grouping of text.matchAll(GROUPING)) {
    for (const label of grouping[2].split(',')) if (label.trim()) names.add(label.trim());
  }
  names.delete('__name__');
  return [...names];
}

// ---------------------------------------------------------------------------------------------
// What /metrics exports

interface Exposition {
  /** Sample names a query can read: a histogram x exports x_bucket, x_sum and x_count. */
  names: Set<string>;
  /** Sample name → label names seen on its samples (absent: no sample yet). */
  labels: Map<string, Set<string>>;
}

function parseExposition(text: string): Exposition {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)$/.exec(line);
    if (type) {
      const [, name, kind] = type;
      const suffixes: Record<string, string[]> = {
        histogram: ['_bucket', '_sum', '_count'],
        summary: ['', '_sum', '_count'],
      };
      for (const suffix of suffixes[kind] ?? ['']) names.add(name + suffix);
      continue;
    }
    const sample = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!sample) continue;
    const seen = labels.get(sample[1]) ?? new Set<string>();
    for (const m of (sample[2] ?? '').matchAll(/([A-Za-z_]\w*)="(?:[^"\\]|\\.)*"/g)) seen.add(m[1]);
    labels.set(sample[1], seen);
  }
  return { names, labels };
}

/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

/** "where: name" for every metric a query names that /metrics does not export. */
function unexported(queries: Query[], exposition: Exposition): string[] {
  return queries.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((name) => !exposition.names.has(name))
      .map((name) => `${where}: ${name}`),
  );
}

/**
 * "where: label" for every label a query matches, groups or labels its legend by that none of its
 * metrics carries. Queries none of whose metrics has a sample in this run are returned apart.
 */
function unknownLabels(queries: Query[], exposition: Exposition) {
  const problems: string[] = [];
  const unsampled: string[] = [];
  for (const { where, expr, legendLabels } of queries) {
    const metrics = metricNames(expr).filter((name) => exposition.labels.has(name));
    if (metrics.length === 0) {
      unsampled.push(...metricNames(expr));
      continue;
    }
    const carried = new Set([
      ...TARGET_LABELS,
      ...metrics.flatMap((m) => [...exposition.labels.get(m)!]),
    ]);
    for (const label of new Set([...labelNames(expr), ...legendLabels])) {
      if (!carried.has(label)) problems.push(`${where}: ${label}`);
    }
  }
  return { problems, unsampled: [...new Set(unsampled)].sort() };
}

// ---------------------------------------------------------------------------------------------

function promtoolCheck(queries: Query[], dir: string): { ok: boolean; output: string } {
  const rules = queries.map(({ where, expr }, i) => ({
    record: `grafana:query_${i}`,
    expr: expr
      .replace(/\$\{?__(rate_interval|interval|range)\}?/g, '5m')
      .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, '.*'),
    labels: { where: where.replace(/"/g, "'") },
  }));
  const file = path.join(dir, `rules-${Date.now()}.yaml`);
  fs.writeFileSync(file, stringify({ groups: [{ name: 'grafana-dashboard', rules }] }));
  try {
    const output = execFileSync('promtool', ['check', 'rules', file], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { ok: true, output };
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

describe('deploy/grafana/modeldock.json', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
  const queries = dashboardQueries(dashboard);
  let dataDir: string;
  let api: TestApp;
  let exposition: Exposition;
  let tmp: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modeldock-grafana-'));
    dataDir = makeDataDir();
    // The drift gauges are refreshed by the test itself.
    api = await startApp(dataDir, { DRIFT_INTERVAL_MS: '0' });
    const ok = async (method: string, url: string, body: unknown, status: number) => {
      const res = await api.request(method, url, body);
      expect({ url, status: res.status, body: res.body }).toMatchObject({ status });
      return res.body;
    };

    // Serving and shadow series: v1 answers, v2 shadows every request. A classifier, so the
    // shadow's label agreement is measured as well as its output difference.
    const classifier = (weight: number) => ({
      format: 'modeldock/v2',
      algorithm: 'logistic-regression',
      inputs: [{ name: 'x', type: 'number' }],
      output: { name: 'positive', type: 'number' },
      preprocessing: [{ impute: 0, mean: 0, scale: 1 }],
      classes: [0, 1],
      weights: [[weight]],
      intercepts: [0],
    });
    await ok('POST', '/v1/models/flags/versions', { artifact: classifier(1) }, 201);
    await ok('POST', '/v1/models/flags/versions', { artifact: classifier(-1) }, 201);
    const shadow = { version: 1, shadow: { version: 2, fraction: 1 } };
    await ok('PUT', '/v1/models/flags/aliases/production', shadow, 200);
    for (let i = 0; i < 5; i++) {
      await ok('POST', '/v1/models/flags/predict', { instances: [[1], [-2], [3]] }, 200);
    }
    // A regression model with a shadow, for the output difference, and a failure series.
    const row = housingInstances()[0];
    await ok('POST', '/v1/models/houses/versions', { artifact: housingArtifact(1) }, 201);
    await ok('POST', '/v1/models/houses/versions', { artifact: housingArtifact(1.5) }, 201);
    await ok('PUT', '/v1/models/houses/aliases/production', shadow, 200);
    await ok('POST', '/v1/models/houses/predict', { instances: [row, row] }, 200);
    await ok('POST', '/v1/models/nothing-here/predict', { instances: [row] }, 404);

    // Training series, and a version trained here has a reference to rate drift against.
    await ok('POST', '/v1/datasets', lineDataset('line'), 201);
    const job = await ok(
      'POST',
      '/v1/training-jobs',
      {
        model: 'line',
        dataset: 'line',
        target: 'y',
        algorithm: 'linear-regression',
        hyperparameters: { optimizer: 'normal-equation' },
        validationSplit: 0.25,
        seed: 3,
        alias: 'production',
      },
      202,
    );
    expect(await waitForJob(api, job.id)).toMatchObject({ status: 'succeeded' });

    // Prediction log and drift series: every request of `line` logged, then the gauges computed.
    await ok('PUT', '/v1/models/line/versions/1/reference', { dataset: 'line' }, 200);
    await ok('PUT', '/v1/models/line/monitoring', { sampleRate: 1 }, 200);
    const instances = Array.from({ length: 200 }, (_, i) => [i % 7, (i * 3) % 5]);
    for (let i = 0; i < 3; i++) await ok('POST', '/v1/models/line/predict', { instances }, 200);
    // Entries are offered once the answer is sent: flush until all three are in.
    const log = api.app.get(PredictionLogService);
    await eventually(async () => {
      await log.flush();
      expect((await api.request('GET', '/v1/models/line/predictions?limit=1')).body.total).toBe(3);
    });
    await api.app.get(DriftMonitor).refresh();

    // Shadows run after the answer: wait until their comparisons are in.
    let text = '';
    await eventually(async () => {
      text = (await api.request('GET', '/metrics')).text;
      expect(text).toMatch(
        /modeldock_shadow_requests_total\{model="flags",[^}]*outcome="compared"\} 5\n/,
      );
      expect(text).toMatch(
        /modeldock_shadow_requests_total\{model="houses",[^}]*outcome="compared"\} 1\n/,
      );
    });
    exposition = parseExposition(text);
  });

  afterAll(async () => {
    await api?.close();
    removeDataDir(dataDir);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is a dashboard Grafana imports: uid, title, schema, unique ids, every panel placed', () => {
    expect(dashboard).toMatchObject({ uid: expect.any(String), title: expect.any(String) });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(38);
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((panel) => panel.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect({ id: panel.id, gridPos: panel.gridPos }).toEqual({
        id: panel.id,
        gridPos: {
          h: expect.any(Number),
          w: expect.any(Number),
          x: expect.any(Number),
          y: expect.any(Number),
        },
      });
      expect(panel.gridPos!.x + panel.gridPos!.w).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') {
        expect({ id: panel.id, description: typeof (panel as any).description }).toEqual({
          id: panel.id,
          description: 'string',
        });
      }
    }
    // Panels at the top level do not overlap.
    const cells = new Map<string, number>();
    for (const panel of dashboard.panels as Panel[]) {
      const { h, w, x, y } = panel.gridPos!;
      for (let dy = 0; dy < h; dy++) {
        for (let dx = 0; dx < w; dx++) {
          const cell = `${x + dx},${y + dy}`;
          expect({ cell, panels: [cells.get(cell), panel.id] }).toEqual({
            cell,
            panels: [undefined, panel.id],
          });
          cells.set(cell, panel.id);
        }
      }
    }
  });

  it('takes its data source from a variable, with a model variable of the served models', () => {
    const variables = dashboard.templating.list;
    expect(variables.find((v: any) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    expect(variables.find((v: any) => v.name === 'model')).toMatchObject({
      type: 'query',
      datasource: { type: 'prometheus', uid: '${datasource}' },
      multi: true,
      includeAll: true,
      query: { query: 'label_values(modeldock_predictions_total, model)' },
    });
    // No data source UID other than the variable (Grafana's built-in annotations aside).
    const uids = [...JSON.stringify(dashboard).matchAll(/"uid":\s*"([^"]*)"/g)]
      .map((m) => m[1])
      .filter((uid) => uid !== dashboard.uid && uid !== '-- Grafana --');
    expect(new Set(uids)).toEqual(new Set(['${datasource}']));
    expect(queries.length).toBeGreaterThan(30);
  });

  it('reads metric names out of PromQL (not functions, keywords, labels or variables)', () => {
    const expr =
      'sum by (model, version) (rate(a_total{model=~"$model", x="rate(b)"}[$__rate_interval])) ' +
      '/ ignoring (version) group_left sum without (le) (increase(b_bucket[5m] offset 1h)) ' +
      '> bool 0.5e3 and on () histogram_quantile(0.9, c:rule) or {__name__="d"} * ${x} + inf';
    expect(metricNames(expr).sort()).toEqual(['a_total', 'b_bucket', 'c:rule', 'd']);
    expect(labelNames(expr).sort()).toEqual(['le', 'model', 'version', 'x']);
    expect(variableExpr('label_values(m{a="b"}, model)')).toBe('m{a="b"}');
    expect(variableExpr('label_values(model)')).toBeNull();
  });

  it('queries only metrics GET /metrics exports', () => {
    expect(exposition.names.has('modeldock_predictions_total')).toBe(true);
    expect(unexported(queries, exposition)).toEqual([]);
  });

  it('catches a metric renamed in the service or misspelt in the dashboard', () => {
    const renamed = {
      ...exposition,
      names: new Set(
        [...exposition.names].map((n) =>
          n === 'modeldock_shadow_agreement_ratio' ? 'modeldock_shadow_agreement' : n,
        ),
      ),
    };
    expect(unexported(queries, renamed)).toEqual([
      expect.stringMatching(/"Shadow agreement ratio" target A: modeldock_shadow_agreement_ratio$/),
    ]);
    // A histogram is read through its _bucket/_sum/_count series, never by its own name.
    const bare = [
      { where: 'bare', expr: 'rate(modeldock_prediction_duration_seconds[5m])', legendLabels: [] },
    ];
    expect(unexported(bare, exposition)).toEqual(['bare: modeldock_prediction_duration_seconds']);
  });

  it('matches, groups and names legends only by labels its metrics carry', () => {
    const { problems, unsampled } = unknownLabels(queries, exposition);
    expect(problems).toEqual([]);
    // Every other metric has series in this run: the dynamic batching histograms need an ONNX
    // version that batches, and prediction log drops a full buffer or a failing database.
    expect(unsampled).toEqual([
      'modeldock_batch_queue_delay_seconds_bucket',
      'modeldock_batch_requests_bucket',
      'modeldock_batch_size_bucket',
      'modeldock_prediction_log_dropped_total',
    ]);
    const wrong = [
      { where: 'w', expr: 'sum by (modle) (modeldock_predictions_total)', legendLabels: [] },
    ];
    expect(unknownLabels(wrong, exposition).problems).toEqual(['w: modle']);
  });

  itWithPromtool('has expressions that Prometheus parses (promtool check rules)', () => {
    const checked = promtoolCheck(queries, tmp);
    expect(checked.output).toMatch(new RegExp(`SUCCESS: ${queries.length} rules found`));
    expect(checked.ok).toBe(true);
    const broken = promtoolCheck(
      [{ where: 'broken', expr: 'sum by (model (rate(x_total[5m]))', legendLabels: [] }],
      tmp,
    );
    expect(broken.ok).toBe(false);
  });
});
