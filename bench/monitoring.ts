// npm run bench:monitoring — what watching and rolling out cost on the hot path, as ratios to a
// baseline measured in the same service in the same run. Three models, each the bench's 10-feature
// linear model as versions 1 (production) and 2: `plain` with the prediction log off; `watched`
// with the log at its default sampling and a 10% canary; `shadowed` with the log off and a shadow
// taking every request. wrk drives one-row v1 predicts with an API key at 32 connections; the
// models take turns, round after round. Drift's own figure is `bench/drift.ts`'s.
import { BENCH_MODEL, linearArtifact, predictRows } from './bare-fastify-server';
import { AUTH_HEADERS, call, progress, Service, startService } from './support';
import {
  cleanUp,
  clean,
  fmt,
  measureRounds,
  median,
  ratioRow,
  render,
  ROUNDS,
  Row,
  SECONDS,
  TABLE_HEADER,
  Target,
  verdict,
  verdictLine,
  WARM_UP_SECONDS,
} from './wrk';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PORT = Number(process.env.BENCH_PORT ?? 3500);
const TARGETS = { watched: 0.95, shadowP99: 1.2 };
const ROW = BENCH_MODEL.coefficients.map((_, j) => (j + 1) / 10);

/** Version 2 predicts twice what version 1 does: answers show which version computed them. */
const VERSIONS = [1, 2].map((scale) => ({
  coefficients: BENCH_MODEL.coefficients.map((c) => c * scale),
  intercept: BENCH_MODEL.intercept * scale,
}));

/** Registers the two versions under `model` and sets its alias (and log); `call` throws on a non-2xx. */
async function setUp(service: Service, model: string, alias: object, sampleRate?: number) {
  for (const [i, version] of VERSIONS.entries()) {
    const body = { artifact: linearArtifact(version), ...(i === 0 ? { alias: 'production' } : {}) };
    await call(service.baseUrl, 'POST', `/v1/models/${model}/versions`, body);
  }
  await call(service.baseUrl, 'PUT', `/v1/models/${model}/aliases/production`, alias);
  if (sampleRate !== undefined) {
    await call(service.baseUrl, 'PUT', `/v1/models/${model}/monitoring`, { sampleRate });
  }
}

function predict(service: Service, model: string, versions: number[]): Target {
  const expected = versions.map((v) => predictRows(VERSIONS[v - 1], [ROW])[0]);
  return {
    name: model,
    url: `${service.baseUrl}/v1/models/${model}/predict`,
    body: Buffer.from(JSON.stringify({ instances: [ROW] })),
    headers: { ...AUTH_HEADERS, 'content-type': 'application/json' },
    connections: CONNECTIONS,
    pid: service.pid,
    check: async (response) => {
      const answer = (await response.json()) as { version: number; predictions: number[] };
      const want = expected[versions.indexOf(answer.version)];
      const ok = want !== undefined && Math.abs(answer.predictions[0] - want) < 1e-9;
      return ok ? undefined : `answer ${JSON.stringify(answer)}`;
    },
  };
}

async function runBench(service: Service): Promise<Row[]> {
  progress('setting up plain (log off), watched (default log + 10% canary), shadowed (shadow 1.0)');
  await setUp(service, 'plain', { version: 1 }, 0);
  await setUp(service, 'watched', { version: 1, canary: { version: 2, weight: 0.1 } });
  await setUp(service, 'shadowed', { version: 1, shadow: { version: 2, fraction: 1 } }, 0);
  const [plain, watched, shadowed] = await measureRounds([
    predict(service, 'plain', [1]),
    predict(service, 'watched', [1, 2]),
    predict(service, 'shadowed', [1]),
  ]);
  const p99Ratio = median(shadowed.map((r, i) => r.p99 / plain[i].p99));
  const p99Pass = verdict(p99Ratio <= TARGETS.shadowP99 && clean(shadowed, plain));
  const shadow = await call<{ count: number; dropped: number; errors: number }>(
    service.baseUrl,
    'GET',
    '/v1/models/shadowed/aliases/production/shadow',
  );
  const mirrored = shadow.count + shadow.dropped + shadow.errors;
  const logged = await call<{ total: number }>(
    service.baseUrl,
    'GET',
    '/v1/models/watched/predictions?limit=1',
  );
  const label = `1 row, ${CONNECTIONS} connections`;
  return [
    [`plain: log off, no canary, ${label}`, plain, 'baseline', '', ''],
    ratioRow(
      `watched: log at its default sampling + a 10% canary, ${label}`,
      watched,
      plain,
      'plain',
      TARGETS.watched,
    ),
    ['↳ entries the log kept for watched', undefined, fmt(logged.total), '', 'INFO'],
    ratioRow(`shadowed: shadow at fraction 1, ${label}`, shadowed, plain, 'plain'),
    [
      '↳ shadowed p99 vs plain p99',
      undefined,
      `${fmt(p99Ratio, 2)}×`,
      `≤ ${TARGETS.shadowP99}×`,
      p99Pass,
    ],
    [
      '↳ mirrored requests compared / dropped (queue full)',
      undefined,
      `${fmt(shadow.count)} / ${fmt(shadow.dropped)} of ${fmt(mirrored)}`,
      '',
      'INFO',
    ],
  ];
}

async function main(): Promise<void> {
  let service: Service | undefined;
  try {
    service = await startService(PORT);
    const rows = await runBench(service);
    const lines = [
      `ModelDock monitoring and rollout cost: wrk -t1, ${ROUNDS} rounds, the models in turn ` +
        `(${WARM_UP_SECONDS} s warm-up + ${SECONDS} s); figures are medians over the rounds, ` +
        "ratios the median of each round's.",
      '',
      ...TABLE_HEADER,
      ...rows.map(render),
      '',
      verdictLine(rows),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    process.exitCode = rows.some((row) => row[4] === 'FAIL') ? 1 : 0;
  } finally {
    await service?.stop();
    service?.removeData();
    cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:monitoring failed: ${error instanceof Error ? error.stack : error}\n`,
  );
  process.exit(1);
});
