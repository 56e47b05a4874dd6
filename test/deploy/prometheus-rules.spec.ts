/**
 * deploy/kubernetes/prometheus-rules.yaml with Prometheus' own tool: the PrometheusRule's `spec`
 * (a Prometheus rule file) must pass `promtool check rules`, and its drift alerts must fire as
 * `promtool test rules` says on made-up series. promtool comes with Prometheus (Debian: apt-get
 * install prometheus). Without it this file is skipped on a developer's machine and fails in CI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

const RULES = path.resolve(__dirname, '../../deploy/kubernetes/prometheus-rules.yaml');

function promtoolPath(): string | null {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return found.error ? null : 'promtool';
}

const promtool = promtoolPath();
if (!promtool && process.env.CI) {
  throw new Error(
    'promtool is not installed; CI checks the alert rules with it (apt-get install prometheus)',
  );
}
if (!promtool) {
  process.stderr.write(
    'prometheus-rules.spec: SKIPPED, promtool is not installed (apt-get install prometheus).\n',
  );
}
const describeWithPromtool = promtool ? describe : describe.skip;

function run(args: string[], cwd: string): { ok: boolean; output: string } {
  try {
    return {
      ok: true,
      output: execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: 'pipe' }),
    };
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

/** Series that hold for `minutes` at one sample a minute: "2x40" is 41 samples of 2. */
const held = (value: number, minutes: number) => `${value}x${minutes}`;

describeWithPromtool('deploy/kubernetes/prometheus-rules.yaml', () => {
  let dir: string;
  const [document] = parseAllDocuments(fs.readFileSync(RULES, 'utf8')).map((doc) => doc.toJS());

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modeldock-rules-'));
    fs.writeFileSync(path.join(dir, 'rules.yaml'), stringify(document.spec));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is a PrometheusRule whose spec passes promtool check rules', () => {
    expect(document).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
    });
    const checked = run(['check', 'rules', 'rules.yaml'], dir);
    expect(checked.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(checked.ok).toBe(true);
  });

  it('fails promtool on a broken expression (the check can fail)', () => {
    const broken = structuredClone(document.spec);
    broken.groups[0].rules[0].expr = 'max by (model (modeldock_feature_drift_status)';
    fs.writeFileSync(path.join(dir, 'broken.yaml'), stringify(broken));
    expect(run(['check', 'rules', 'broken.yaml'], dir).ok).toBe(false);
  });

  it('fires the drift alerts after 30 minutes, on the features and models that drift', () => {
    const labels = (feature: string) =>
      `{model="houses", version="3", feature="${feature}", instance="a"}`;
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            // Two of three features drift from the start; one stays fine.
            { series: `modeldock_feature_drift_status${labels('area')}`, values: held(2, 60) },
            { series: `modeldock_feature_drift_status${labels('rooms')}`, values: held(2, 60) },
            { series: `modeldock_feature_drift_status${labels('age')}`, values: held(0, 60) },
            {
              series: 'modeldock_model_drift_status{model="houses", version="3", instance="a"}',
              values: held(2, 60),
            },
            // Another replica reports the same figures: alerts must not double.
            {
              series: 'modeldock_model_drift_status{model="houses", version="3", instance="b"}',
              values: held(2, 60),
            },
          ],
          alert_rule_test: [
            { eval_time: '20m', alertname: 'ModelDockFeatureDrift', exp_alerts: [] },
            { eval_time: '20m', alertname: 'ModelDockModelInDrift', exp_alerts: [] },
            {
              eval_time: '35m',
              alertname: 'ModelDockFeatureDrift',
              exp_alerts: ['area', 'rooms'].map((feature) => ({
                exp_labels: { severity: 'critical', model: 'houses', version: '3', feature },
                exp_annotations: {
                  summary: `houses v3: feature ${feature} has drifted (PSI ≥ 0.25)`,
                  description:
                    "Drift status for 30 minutes (its PSI is modeldock_feature_drift_psi). Check the inputs' " +
                    'source, then retrain on recent data or set a new reference ' +
                    '(PUT /v1/models/houses/versions/3/reference).',
                },
              })),
            },
            { eval_time: '35m', alertname: 'ModelDockFeatureDriftWarning', exp_alerts: [] },
            {
              eval_time: '35m',
              alertname: 'ModelDockModelInDrift',
              exp_alerts: [
                {
                  exp_labels: { severity: 'critical', model: 'houses', version: '3' },
                  exp_annotations: {
                    summary: 'houses v3 is in drift: half or more of its features drifted',
                    description:
                      'Its predictions may no longer be trustworthy. Compare with GET ' +
                      '/v1/models/houses/versions/3/drift and retrain.',
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, 'rules.test.yaml'), stringify(tests));
    const tested = run(['test', 'rules', 'rules.test.yaml'], dir);
    expect(tested.output).toMatch(/SUCCESS/);
    expect(tested.ok).toBe(true);
  });
});
