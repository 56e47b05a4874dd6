// Drift end to end: GET …/versions/{v}/drift over 100,000 logged rows of 20 features, as a client
// sees it (the request until its last byte). The service runs in this process on a fresh data
// directory (SQLite, or PostgreSQL with BENCH_DATABASE_URL); the log is filled straight through
// its entity, in two shapes: 1,000 requests of 100 rows and 100,000 requests of one row.
// CPU is the process's (service and client, the drift thread and SQLite's threads too); "event
// loop" is the main thread's busy time (event-loop utilisation): what the drift keeps from
// predictions. Last, the p99 of single-row predictions (200 a second, same app) while drift
// requests run back to back, against the same with the service idle.
//
//   npm run bench:drift
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:drift
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/app.module';
import { configureApp, createFastifyAdapter, NEST_APP_OPTIONS } from '../src/app.setup';
import { appConfig } from '../src/config/app.config';
import { Random } from '../src/ml';
import { PredictionLogEntry } from '../src/monitoring/prediction-log.entity';

const FEATURES = 20;
const LOGGED_ROWS = Number(process.env.BENCH_LOGGED_ROWS ?? 100_000);
const REFERENCE_ROWS = 5_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TARGET_MS = 1_000;
/** Predictions measured at least (idle, and during drift for as long as DRIFTS_DURING take). */
const PREDICTIONS = Number(process.env.BENCH_PREDICTIONS ?? 400);
const PREDICT_INTERVAL_MS = 5;
const DRIFTS_DURING = 3;
const KEY = `bench-admin-${randomUUID()}`;

const random = new Random(7);
const uniform = () => (random.nextUint32() + 0.5) / 4294967296;
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
const names = Array.from({ length: FEATURES }, (_, j) => `f${j}`);
const row = (shift: number) => names.map((_, j) => (j === 0 ? shift : 0) + normal() * (1 + j / 10));

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-drift-'));
  const schema = `bench_drift_${Date.now()}`;
  const postgres = process.env.BENCH_DATABASE_URL;
  Object.assign(process.env, {
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    MODELDOCK_ADMIN_KEY: KEY,
    DRIFT_INTERVAL_MS: '0',
    // The log is filled from this process's event loop; the service must not shed meanwhile.
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    RATE_LIMIT_MANAGEMENT_PER_MINUTE: '0',
    ...(postgres ? { DATABASE_URL: postgres, DATABASE_SCHEMA: schema } : {}),
  });
  if (postgres) {
    const admin = new DataSource({ type: 'postgres', url: postgres });
    await admin.initialize();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.destroy();
  }
  const config = appConfig();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createFastifyAdapter(config),
    { ...NEST_APP_OPTIONS, logger: ['warn', 'error'] },
  );
  await configureApp(app, config);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const call = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
    return text;
  };

  try {
    const artifact = {
      format: 'modeldock/v1',
      algorithm: 'linear-regression',
      inputs: names.map((name) => ({ name, type: 'number' })),
      output: { name: 'y', type: 'number' },
      coefficients: names.map((_, j) => j / 10),
      intercept: 1,
    };
    await call('POST', '/v1/models/bench/versions', artifact);
    const reference = Array.from({ length: REFERENCE_ROWS }, () => row(0));
    await call('POST', '/v1/datasets', {
      name: 'bench-reference',
      columns: names,
      rows: reference,
    });
    await call('PUT', '/v1/models/bench/versions/1/reference', { dataset: 'bench-reference' });
    // The bench's own predictions stay out of the log drift reads.
    await call('PUT', '/v1/models/bench/monitoring', { sampleRate: 0 });

    const dataSource = app.get(DataSource);
    const [{ id: modelId }] = await dataSource.query(
      `SELECT id FROM registered_models WHERE name = ${postgres ? '$1' : '?'}`,
      ['bench'],
    );
    const now = Date.now();
    const shapes = [
      { label: '1,000 requests × 100 rows', perRequest: 100 },
      { label: '100,000 requests × 1 row', perRequest: 1 },
    ];
    for (const shape of shapes) {
      await dataSource.query('DELETE FROM prediction_log');
      const started = performance.now();
      const entries: Partial<PredictionLogEntry>[] = [];
      for (let i = 0; i < LOGGED_ROWS / shape.perRequest; i++) {
        const instances = Array.from({ length: shape.perRequest }, () => row(0.5));
        entries.push({
          modelId,
          version: 1,
          alias: 'production',
          requestId: randomUUID(),
          route: 'v1',
          apiKeyId: null,
          rows: shape.perRequest,
          latencyMs: 1,
          inputs: JSON.stringify({ instances }),
          outputs: JSON.stringify({ predictions: instances.map((x) => x[0]) }),
          createdAt: new Date(now - 60_000 + (i % 60_000)),
        });
        if (entries.length === 1000) {
          await dataSource.getRepository(PredictionLogEntry).insert(entries.splice(0));
        }
      }
      if (entries.length > 0) await dataSource.getRepository(PredictionLogEntry).insert(entries);
      process.stderr.write(
        `[bench] ${shape.label}: logged in ${Math.round(performance.now() - started)} ms\n`,
      );

      const times: number[] = [];
      const cpu: number[] = [];
      const loop: number[] = [];
      let sampleSize = 0;
      for (let run = 0; run <= RUNS; run++) {
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const elu0 = performance.eventLoopUtilization();
        const body = JSON.parse(await call('GET', '/v1/models/bench/versions/1/drift')) as {
          sampleSize: number;
        };
        // The first run warms the JIT and the database's cache; it is not counted.
        if (run > 0) {
          times.push(performance.now() - t0);
          // CPU of this process (service and client; SQLite's thread too): what a shared,
          // busy machine's wall clock hides.
          const used = process.cpuUsage(cpu0);
          cpu.push((used.user + used.system) / 1000);
          loop.push(performance.eventLoopUtilization(elu0).active);
        }
        sampleSize = body.sampleSize;
      }
      console.log(
        `drift, ${postgres ? 'PostgreSQL' : 'SQLite'}, ${shape.label} × ${FEATURES} features ` +
          `(sampleSize ${sampleSize}): median ${median(times)} ms wall, ${median(cpu)} ms CPU, ` +
          `${median(loop)} ms event loop over ${RUNS} runs ` +
          `(target ≤ ${TARGET_MS} ms: ${median(times) <= TARGET_MS ? 'met' : 'MISSED'})`,
      );
    }

    // Single-row predictions at a fixed rate (open loop: each one's latency counts from when it
    // was due, so a held event loop shows in every request it delays, not only the one it met):
    // idle, then while drift requests run back to back.
    const predictions = async (enough: () => boolean) => {
      const latencies: number[] = [];
      const sent: Promise<void>[] = [];
      const started = performance.now();
      for (let i = 0; i < PREDICTIONS || !enough(); i++) {
        const due = started + i * PREDICT_INTERVAL_MS;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        sent.push(
          call('POST', '/v1/models/bench/predict?version=1', { instances: [row(0)] }).then(() => {
            latencies.push(performance.now() - due);
          }),
        );
      }
      await Promise.all(sent);
      return latencies;
    };
    await predictions(() => true); // warm-up
    const idle = await predictions(() => true);
    let drifts = 0;
    let drifting = true;
    const driftLoop = (async () => {
      while (drifting) {
        await call('GET', '/v1/models/bench/versions/1/drift');
        drifts++;
      }
    })();
    const during = await predictions(() => drifts >= DRIFTS_DURING);
    drifting = false;
    await driftLoop;
    const p99 = { idle: percentile(idle, 0.99), during: percentile(during, 0.99) };
    console.log(
      `predict, ${postgres ? 'PostgreSQL' : 'SQLite'}: 1 row every ${PREDICT_INTERVAL_MS} ms; ` +
        `idle (${idle.length}) p50 ${percentile(idle, 0.5).toFixed(1)} ms p99 ${p99.idle.toFixed(1)} ms; ` +
        `during ${drifts} drift requests (${during.length}) p50 ${percentile(during, 0.5).toFixed(1)} ms ` +
        `p99 ${p99.during.toFixed(1)} ms max ${Math.max(...during).toFixed(0)} ms; ` +
        `p99 during / idle ×${(p99.during / p99.idle).toFixed(1)}`,
    );
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (postgres) {
      const admin = new DataSource({ type: 'postgres', url: postgres });
      await admin.initialize();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.destroy();
    }
  }
}

function median(values: number[]): number {
  return Math.round(percentile(values, 0.5));
}

/** The value at rank ceil(q·n) of the sorted values (nearest rank). */
function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
