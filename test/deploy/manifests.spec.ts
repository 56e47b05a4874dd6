/**
 * deploy/ without a cluster or a Docker daemon:
 * - every Kubernetes document against the Kubernetes OpenAPI schemas (kubernetes-models, generated
 *   from the Kubernetes 1.33 spec; the Prometheus Operator's CRDs for the ServiceMonitor);
 * - unknown fields (a typo such as `readinesProbe`), which those schemas accept because Kubernetes'
 *   OpenAPI has no additionalProperties: false: the same models' TypeScript types, whose
 *   excess-property check rejects them (like kubeconform -strict);
 * - the rules the service relies on (probes, limits, non-root, shutdown timing, references);
 * - the Dockerfile, statically.
 * Each check is also run on a broken copy, so a check that can no longer fail fails here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

const ROOT = path.resolve(__dirname, '../..');
const K8S_DIR = path.join(ROOT, 'deploy/kubernetes');
const DOCKERFILE = path.join(ROOT, 'deploy/Dockerfile');
/** src/app.shutdown.ts FINAL_STEPS_MS: after the grace period, time to hand jobs back and close. */
const FINAL_STEPS_S = 5;

type Labels = Record<string, string>;
type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels };
  [field: string]: any;
};
type Loaded = { file: string; doc: Manifest };

/** Each kind we ship: its validating model and the TypeScript interface that describes it. */
const KINDS: Record<string, { model: new (data: any) => { validate(): void }; type: string }> = {
  'v1/ConfigMap': { model: ConfigMap, type: 'kubernetes-models/v1/ConfigMap#IConfigMap' },
  'v1/Secret': { model: Secret, type: 'kubernetes-models/v1/Secret#ISecret' },
  'v1/Service': { model: Service, type: 'kubernetes-models/v1/Service#IService' },
  'apps/v1/Deployment': {
    model: Deployment,
    type: 'kubernetes-models/apps/v1/Deployment#IDeployment',
  },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    type: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler#IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    type: 'kubernetes-models/policy/v1/PodDisruptionBudget#IPodDisruptionBudget',
  },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    type: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor#IServiceMonitor',
  },
  'monitoring.coreos.com/v1/PrometheusRule': {
    model: PrometheusRule,
    type: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule#IPrometheusRule',
  },
};

function yamlFiles(): string[] {
  return fs
    .readdirSync(K8S_DIR)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
}

function loadManifests(): Loaded[] {
  const loaded: Loaded[] = [];
  for (const file of yamlFiles().filter((name) => name !== 'kustomization.yaml')) {
    for (const parsed of parseAllDocuments(fs.readFileSync(path.join(K8S_DIR, file), 'utf8'))) {
      if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors[0].message}`);
      const doc = parsed.toJS() as Manifest | null;
      if (doc !== null) loaded.push({ file, doc });
    }
  }
  return loaded;
}

const label = (doc: Manifest) => `${doc.kind} ${doc.metadata?.name}`;

// ---- schemas ---------------------------------------------------------------------------------

function schemaErrors(doc: Manifest): string[] {
  const kind = KINDS[`${doc.apiVersion}/${doc.kind}`];
  if (!kind) return [`${label(doc)}: no schema for ${doc.apiVersion} ${doc.kind}`];
  try {
    new kind.model(doc).validate();
    return [];
  } catch (error) {
    return [`${label(doc)}: ${(error as Error).message}`];
  }
}

/** Type-checks each document as a literal of its model's interface, in memory, in one program. */
function unknownFieldErrors(docs: Manifest[]): string[] {
  const sources = new Map<string, { doc: Manifest; text: string }>();
  docs.forEach((doc, i) => {
    const kind = KINDS[`${doc.apiVersion}/${doc.kind}`];
    if (!kind) return;
    const [module, name] = kind.type.split('#');
    const text =
      `import type { ${name} } from '${module}';\n` +
      `export const manifest: ${name} = ${JSON.stringify(doc, null, 2)};\n`;
    // Beside this file, so the imports resolve from the repository's node_modules.
    sources.set(path.join(__dirname, `__manifest_${i}__.ts`), { doc, text });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (file, languageVersion, ...rest) => {
    const source = sources.get(path.resolve(file));
    return source
      ? ts.createSourceFile(file, source.text, languageVersion)
      : getSourceFile(file, languageVersion, ...rest);
  };
  host.fileExists = (file) => sources.has(path.resolve(file)) || fileExists(file);
  const program = ts.createProgram([...sources.keys()], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const source = diagnostic.file && sources.get(path.resolve(diagnostic.file.fileName));
    const where = source ? label(source.doc) : (diagnostic.file?.fileName ?? 'compiler');
    return `${where}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
  });
}

// ---- rules -----------------------------------------------------------------------------------

const ofKind = (docs: Manifest[], kind: string) => docs.filter((doc) => doc.kind === kind);
const matches = (selector: Labels | undefined, labels: Labels | undefined) =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels?.[key] === value);

function shutdownBudgetSeconds(docs: Manifest[]): number {
  const config = ofKind(docs, 'ConfigMap').find((doc) => doc.metadata.name === 'modeldock-config');
  const drain = Number(config?.data?.SHUTDOWN_DRAIN_DELAY_MS);
  const grace = Number(config?.data?.SHUTDOWN_GRACE_MS);
  if (!Number.isFinite(drain) || !Number.isFinite(grace)) return NaN;
  return (drain + grace) / 1000;
}

function containerRules(docs: Manifest[]): string[] {
  const problems: string[] = [];
  const config = ofKind(docs, 'ConfigMap').find((doc) => doc.metadata.name === 'modeldock-config');
  const budget = shutdownBudgetSeconds(docs);
  if (Number.isNaN(budget)) problems.push('modeldock-config: SHUTDOWN_* missing or not numbers');
  for (const deployment of ofKind(docs, 'Deployment')) {
    const pod = deployment.spec?.template?.spec ?? {};
    const grace = pod.terminationGracePeriodSeconds;
    if (!(grace > budget + FINAL_STEPS_S)) {
      problems.push(
        `${label(deployment)}: terminationGracePeriodSeconds ${grace} must exceed drain + grace ` +
          `(${budget} s) + ${FINAL_STEPS_S} s of final shutdown steps`,
      );
    }
    for (const container of pod.containers ?? []) {
      const where = `${label(deployment)} container ${container.name}`;
      if (!container.livenessProbe) problems.push(`${where}: no livenessProbe`);
      if (!container.readinessProbe) problems.push(`${where}: no readinessProbe`);
      if (deployment.metadata.name === 'modeldock-api' && !container.startupProbe) {
        problems.push(`${where}: no startupProbe (migrations run at start-up)`);
      }
      for (const bound of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          if (container.resources?.[bound]?.[resource] === undefined) {
            problems.push(`${where}: no resources.${bound}.${resource}`);
          }
        }
      }
      const security = container.securityContext ?? {};
      if ((security.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) {
        problems.push(`${where}: runAsNonRoot is not true`);
      }
      const user = security.runAsUser ?? pod.securityContext?.runAsUser;
      if (user === undefined || user === 0) problems.push(`${where}: runAsUser must be non-zero`);
      if (security.readOnlyRootFilesystem !== true) {
        problems.push(`${where}: readOnlyRootFilesystem is not true`);
      }
      if (security.allowPrivilegeEscalation !== false) {
        problems.push(`${where}: allowPrivilegeEscalation is not false`);
      }
      if (!security.capabilities?.drop?.includes('ALL')) {
        problems.push(`${where}: capabilities do not drop ALL`);
      }
      // Named probe ports must exist, and the port the app listens on (PORT, env over envFrom)
      // must be the one named http.
      const portNames = new Set((container.ports ?? []).map((port: any) => port.name));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const port = container[probe]?.httpGet?.port;
        if (typeof port === 'string' && !portNames.has(port)) {
          problems.push(
            `${where}: ${probe} uses port "${port}", which the container does not name`,
          );
        }
      }
      const listen = Number(
        container.env?.find((env: any) => env.name === 'PORT')?.value ?? config?.data?.PORT,
      );
      const http = container.ports?.find((port: any) => port.name === 'http');
      if (!http || http.containerPort !== listen) {
        problems.push(`${where}: PORT ${listen} is not the containerPort named http`);
      }
    }
  }
  return problems;
}

function referenceRules(docs: Manifest[]): string[] {
  const problems: string[] = [];
  const deployments = ofKind(docs, 'Deployment');
  const podLabels = (deployment: Manifest): Labels => deployment.spec?.template?.metadata?.labels;
  const names = (kind: string) => new Set(ofKind(docs, kind).map((doc) => doc.metadata.name));
  const configMaps = names('ConfigMap');
  const secrets = names('Secret');

  for (const deployment of deployments) {
    if (!matches(deployment.spec?.selector?.matchLabels, podLabels(deployment))) {
      problems.push(`${label(deployment)}: selector does not match its own pod labels`);
    }
    for (const container of deployment.spec?.template?.spec?.containers ?? []) {
      for (const source of container.envFrom ?? []) {
        const configMap = source.configMapRef?.name;
        const secret = source.secretRef?.name;
        if (configMap && !configMaps.has(configMap)) {
          problems.push(`${label(deployment)}: envFrom ConfigMap ${configMap} does not exist`);
        }
        if (secret && !secrets.has(secret)) {
          problems.push(`${label(deployment)}: envFrom Secret ${secret} does not exist`);
        }
      }
    }
  }
  for (const service of ofKind(docs, 'Service')) {
    const target = deployments.find((d) => matches(service.spec?.selector, podLabels(d)));
    if (!target) {
      problems.push(`${label(service)}: selector matches no Deployment's pods`);
      continue;
    }
    const portNames = new Set(
      (target.spec.template.spec.containers ?? []).flatMap((c: any) =>
        (c.ports ?? []).map((p: any) => p.name),
      ),
    );
    for (const port of service.spec?.ports ?? []) {
      if (typeof port.targetPort === 'string' && !portNames.has(port.targetPort)) {
        problems.push(`${label(service)}: targetPort ${port.targetPort} is not a port of its pods`);
      }
    }
  }
  for (const hpa of ofKind(docs, 'HorizontalPodAutoscaler')) {
    const ref = hpa.spec?.scaleTargetRef ?? {};
    if (ref.kind !== 'Deployment' || !deployments.some((d) => d.metadata.name === ref.name)) {
      problems.push(`${label(hpa)}: scaleTargetRef ${ref.kind} ${ref.name} does not exist`);
    }
  }
  for (const pdb of ofKind(docs, 'PodDisruptionBudget')) {
    if (!deployments.some((d) => matches(pdb.spec?.selector?.matchLabels, podLabels(d)))) {
      problems.push(`${label(pdb)}: selector matches no Deployment's pods`);
    }
  }
  for (const monitor of ofKind(docs, 'ServiceMonitor')) {
    const services = ofKind(docs, 'Service').filter((service) =>
      matches(monitor.spec?.selector?.matchLabels, service.metadata.labels),
    );
    if (services.length === 0) problems.push(`${label(monitor)}: selects no Service`);
    for (const endpoint of monitor.spec?.endpoints ?? []) {
      for (const service of services) {
        if (!(service.spec?.ports ?? []).some((port: any) => port.name === endpoint.port)) {
          problems.push(`${label(monitor)}: ${label(service)} has no port named ${endpoint.port}`);
        }
      }
    }
  }
  return problems;
}

/** A container command that runs compiled code names a source file the build compiles. */
function entryPointRules(docs: Manifest[]): string[] {
  const problems: string[] = [];
  for (const deployment of ofKind(docs, 'Deployment')) {
    for (const container of deployment.spec.template.spec.containers) {
      for (const arg of [...(container.command ?? []), ...(container.args ?? [])]) {
        const compiled = /^dist\/(.+)\.js$/.exec(arg);
        if (compiled && !fs.existsSync(path.join(ROOT, `${compiled[1]}.ts`))) {
          problems.push(`${label(deployment)}: runs ${arg}, but ${compiled[1]}.ts does not exist`);
        }
      }
    }
  }
  return problems;
}

function labelRules(docs: Manifest[]): string[] {
  const problems: string[] = [];
  const perComponent = ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'];
  for (const doc of docs) {
    const labels = doc.metadata?.labels ?? {};
    if (labels['app.kubernetes.io/name'] !== 'modeldock') {
      problems.push(`${label(doc)}: label app.kubernetes.io/name is not modeldock`);
    }
    if (
      perComponent.includes(doc.kind) &&
      !['api', 'worker'].includes(labels['app.kubernetes.io/component'])
    ) {
      problems.push(`${label(doc)}: label app.kubernetes.io/component is not api or worker`);
    }
    if (doc.metadata?.namespace !== undefined) {
      problems.push(`${label(doc)}: has a namespace; the user picks one with -n`);
    }
  }
  return problems;
}

// ---- Dockerfile ------------------------------------------------------------------------------

type Instruction = { op: string; args: string };

function parseDockerfile(text: string): Instruction[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
      return { op: op.toUpperCase(), args };
    });
}

/** What `npm run build` compiles and bundles (nest build: src, migrations; the console). */
const BUILD_SOURCES = ['src', 'migrations', 'console'];

function dockerfileRules(text: string): string[] {
  const problems: string[] = [];
  const stages: { name?: string; body: Instruction[] }[] = [];
  for (const instruction of parseDockerfile(text)) {
    if (instruction.op === 'FROM') {
      stages.push({ name: /\sAS\s+(\S+)/i.exec(instruction.args)?.[1], body: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].body.push(instruction);
    }
  }
  if (stages.length < 2)
    problems.push(`${stages.length} FROM stage(s); a multi-stage build has 2+`);
  const runs = stages.flatMap((stage) => stage.body.filter((i) => i.op === 'RUN'));
  if (runs.some((run) => /\bnpm\s+(install|i|add)\b/.test(run.args))) {
    problems.push('uses npm install; the lockfile is honoured only by npm ci');
  }
  if (!runs.some((run) => /\bnpm\s+ci\b/.test(run.args))) problems.push('never runs npm ci');

  // The stage that runs `npm run build` has every folder the build reads (or the whole context).
  const builder = stages.find((stage) =>
    stage.body.some((i) => i.op === 'RUN' && /\bnpm\s+run\s+build\b/.test(i.args)),
  );
  const copied = (builder?.body ?? [])
    .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  if (builder && !copied.includes('.')) {
    for (const folder of BUILD_SOURCES) {
      if (!copied.includes(folder)) {
        problems.push(`the build stage does not copy ${folder}/ (npm run build reads it)`);
      }
    }
  }

  const runtime = stages[stages.length - 1];
  if (!runtime) return problems;
  const users = runtime.body.filter((i) => i.op === 'USER');
  const user = users[users.length - 1]?.args.split(':')[0];
  if (user === undefined || user === 'root' || user === '0') {
    problems.push('the runtime stage runs as root (no USER, or USER root/0)');
  }
  const healthcheck = runtime.body.find((i) => i.op === 'HEALTHCHECK');
  if (!healthcheck || /^NONE\b/i.test(healthcheck.args)) problems.push('no HEALTHCHECK');
  else if (!healthcheck.args.includes('/health/live')) {
    problems.push('HEALTHCHECK does not call /health/live');
  }
  // The runtime's node_modules must come from a stage that dropped dev dependencies.
  const withoutDev = (body: Instruction[]) =>
    body.some((i) => i.op === 'RUN' && /\bnpm\s+(prune|ci)\b[^&;|]*--omit[= ]dev\b/.test(i.args));
  const copiedModules = runtime.body.find(
    (i) => i.op === 'COPY' && /\bnode_modules\b/.test(i.args),
  );
  const from = copiedModules && /--from=(\S+)/.exec(copiedModules.args)?.[1];
  const source = from ? stages.find((stage) => stage.name === from) : runtime;
  if (!source || !withoutDev(source.body)) {
    problems.push('the runtime stage has dev dependencies (no npm prune/ci --omit=dev)');
  }
  const cmd = runtime.body.find((i) => i.op === 'CMD');
  if (!cmd || !/^\[\s*"node",\s*"dist\/src\/main\.js"\s*\]$/.test(cmd.args)) {
    problems.push('CMD is not ["node", "dist/src/main.js"] in exec form');
  }
  return problems;
}

// ---- tests -----------------------------------------------------------------------------------

describe('deploy/kubernetes', () => {
  const loaded = loadManifests();
  const docs = loaded.map(({ doc }) => doc);
  const api = () => structuredClone(docs.find((d) => d.metadata.name === 'modeldock-api')!);
  const replace = (all: Manifest[], doc: Manifest) =>
    all.map((d) => (d.kind === doc.kind && d.metadata.name === doc.metadata.name ? doc : d));

  it('ships the expected objects', () => {
    expect(docs.map((doc) => `${doc.kind}/${doc.metadata.name}`).sort()).toEqual([
      'ConfigMap/modeldock-config',
      'Deployment/modeldock-api',
      'Deployment/modeldock-worker',
      'HorizontalPodAutoscaler/modeldock-api',
      'PodDisruptionBudget/modeldock-api',
      'PodDisruptionBudget/modeldock-worker',
      'PrometheusRule/modeldock',
      'Secret/modeldock-secrets',
      'Service/modeldock-api',
      'Service/modeldock-worker',
      'ServiceMonitor/modeldock',
    ]);
  });

  it.each(loaded.map(({ file, doc }) => [`${file}: ${label(doc)}`, doc] as const))(
    'validates against the schema: %s',
    (_name, doc) => {
      expect(schemaErrors(doc)).toEqual([]);
    },
  );

  it('rejects a manifest that breaks the schema', () => {
    const replicas = api();
    replicas.spec.replicas = 'two';
    expect(schemaErrors(replicas).join()).toMatch(/\/spec\/replicas must be integer/);

    const probePort = api();
    probePort.spec.template.spec.containers[0].livenessProbe.httpGet.port = { number: 3000 };
    expect(schemaErrors(probePort).join()).toMatch(/livenessProbe\/httpGet\/port/);

    expect(schemaErrors({ ...api(), apiVersion: 'apps/v1beta1' })).not.toEqual([]);
  });

  it('has no unknown fields', () => {
    expect(unknownFieldErrors(docs)).toEqual([]);
  });

  it('rejects an unknown field, which the schemas alone let through', () => {
    const typo = api();
    const container = typo.spec.template.spec.containers[0];
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    expect(schemaErrors(typo)).toEqual([]);
    expect(unknownFieldErrors([typo]).join()).toMatch(/readinesProbe/);
  });

  it('gives every container probes, requests, limits and a non-root, locked-down context', () => {
    expect(containerRules(docs)).toEqual([]);
  });

  it('outlasts a graceful shutdown: terminationGracePeriodSeconds > drain + grace', () => {
    expect(shutdownBudgetSeconds(docs)).toBe(15);
    for (const deployment of ofKind(docs, 'Deployment')) {
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(
        shutdownBudgetSeconds(docs) + FINAL_STEPS_S,
      );
    }
  });

  it('flags containers and pods that break the rules', () => {
    const broken = api();
    const pod = broken.spec.template.spec;
    pod.terminationGracePeriodSeconds = 10;
    delete pod.containers[0].readinessProbe;
    delete pod.containers[0].startupProbe;
    delete pod.containers[0].resources.limits;
    pod.containers[0].securityContext.runAsUser = 0;
    pod.containers[0].livenessProbe.httpGet.port = 'web';
    const problems = containerRules(replace(docs, broken)).join('\n');
    expect(problems).toMatch(/terminationGracePeriodSeconds 10/);
    expect(problems).toMatch(/no readinessProbe/);
    expect(problems).toMatch(/no startupProbe/);
    expect(problems).toMatch(/no resources\.limits\.cpu/);
    expect(problems).toMatch(/runAsUser must be non-zero/);
    expect(problems).toMatch(/livenessProbe uses port "web"/);
  });

  it('references only objects that exist: Services, HPA, PDBs, envFrom, ServiceMonitor', () => {
    expect(referenceRules(docs)).toEqual([]);
  });

  it('flags dangling references', () => {
    const deployment = api();
    deployment.spec.template.metadata.labels['app.kubernetes.io/component'] = 'web';
    deployment.spec.template.spec.containers[0].envFrom[0].configMapRef.name = 'missing';
    const hpa = structuredClone(ofKind(docs, 'HorizontalPodAutoscaler')[0]);
    hpa.spec.scaleTargetRef.name = 'modeldock-web';
    const problems = referenceRules(replace(replace(docs, deployment), hpa)).join('\n');
    expect(problems).toMatch(/Deployment modeldock-api: selector does not match/);
    expect(problems).toMatch(/Service modeldock-api: selector matches no Deployment/);
    expect(problems).toMatch(/PodDisruptionBudget modeldock-api: selector matches no/);
    expect(problems).toMatch(/scaleTargetRef Deployment modeldock-web does not exist/);
    expect(problems).toMatch(/envFrom ConfigMap missing does not exist/);
  });

  it('runs entry points that exist in src/ (the worker process after a rename too)', () => {
    expect(entryPointRules(docs)).toEqual([]);
    const worker = structuredClone(
      ofKind(docs, 'Deployment').find((d) => d.metadata.name === 'modeldock-worker')!,
    );
    worker.spec.template.spec.containers[0].command = ['node', 'dist/src/worker.js'];
    expect(entryPointRules(replace(docs, worker))).toEqual([
      'Deployment modeldock-worker: runs dist/src/worker.js, but src/worker.ts does not exist',
    ]);
  });

  it('labels every object and leaves the namespace to the user', () => {
    expect(labelRules(docs)).toEqual([]);
    expect(labelRules([{ ...api(), metadata: { name: 'x', namespace: 'prod' } }])).toHaveLength(3);
  });

  it('lists every manifest in kustomization.yaml, and only those', () => {
    const kustomization = parseAllDocuments(
      fs.readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8'),
    )[0].toJS();
    expect(kustomization).toMatchObject({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
    });
    expect(kustomization.namespace).toBeUndefined();
    expect([...kustomization.resources].sort()).toEqual(
      yamlFiles().filter((name) => name !== 'kustomization.yaml'),
    );
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = fs.readFileSync(DOCKERFILE, 'utf8');

  it('is multi-stage, runs npm ci, ships no dev dependencies, runs as non-root with a HEALTHCHECK', () => {
    expect(dockerfileRules(dockerfile)).toEqual([]);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production DATA_DIR=\/data$/m);
    expect(dockerfile).toMatch(/^EXPOSE 3000$/m);
  });

  it('flags a single-stage root image built with npm install', () => {
    const broken = [
      'FROM node:20-bookworm-slim',
      'WORKDIR /app',
      'COPY . .',
      'RUN npm install && npm run build',
      'CMD npm start',
    ].join('\n');
    expect(dockerfileRules(broken)).toEqual([
      '1 FROM stage(s); a multi-stage build has 2+',
      'uses npm install; the lockfile is honoured only by npm ci',
      'never runs npm ci',
      'the runtime stage runs as root (no USER, or USER root/0)',
      'no HEALTHCHECK',
      'the runtime stage has dev dependencies (no npm prune/ci --omit=dev)',
      'CMD is not ["node", "dist/src/main.js"] in exec form',
    ]);
  });

  it('flags a build stage that leaves out a folder the build reads', () => {
    const broken = dockerfile.replace(/^COPY console \S+\n/m, '');
    expect(broken).not.toEqual(dockerfile);
    expect(dockerfileRules(broken)).toEqual([
      'the build stage does not copy console/ (npm run build reads it)',
    ]);
  });

  it('flags a runtime stage that copies node_modules from a stage with dev dependencies', () => {
    const broken = dockerfile.replace(/npm prune --omit=dev/, 'npm prune');
    expect(dockerfileRules(broken)).toEqual([
      'the runtime stage has dev dependencies (no npm prune/ci --omit=dev)',
    ]);
  });
});
