// npm run bench:ingest — a CSV upload end to end (POST → 201, the file streamed as curl -T sends
// it) against pandas.read_csv on the same file in the same run, the service's memory during the
// upload, how long its event loop took to answer meanwhile, and parseCsv alone for reference.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseCsv } from '../src/datasets/dataset-parser';
import { Random } from '../src/ml';
import {
  AUTH_HEADERS,
  mib,
  progress,
  rssBytes,
  sampleRss,
  seconds,
  Service,
  startService,
} from './support';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const FEATURES = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 3112);
const SEED = 2024;
const PYTHON = '/usr/bin/python3';

/** How the numbers are written: as a typical export rounds them, or as pandas writes float64. */
const SHAPES = [
  { label: '6 decimals (a typical export)', format: (value: number) => value.toFixed(6) },
  { label: 'shortest round trip, 17 digits (pandas to_csv of float64)', format: String },
] as const;

/** ROWS × FEATURES standard normal features and a linear target, written as a CSV file. */
function writeCsv(file: string, format: (value: number) => string): number {
  const random = new Random(SEED);
  const uniform = () => (random.nextUint32() + 0.5) / 4294967296;
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const fd = openSync(file, 'w');
  let bytes = 0;
  const write = (text: string) => (bytes += writeSync(fd, text));
  try {
    const names = Array.from({ length: FEATURES }, (_, j) => `x${j}`);
    write([...names, 'y'].join(',') + '\n');
    let block: string[] = [];
    const row: string[] = new Array<string>(FEATURES + 1);
    for (let i = 0; i < ROWS; i++) {
      let target = 3;
      for (let j = 0; j < FEATURES; j++) {
        const value = normal();
        target += (j % 2 ? -1 : 1) * (0.5 + j / 10) * value;
        row[j] = format(value);
      }
      row[FEATURES] = format(target + normal());
      block.push(row.join(','));
      if (block.length === 10_000) {
        write(block.join('\n') + '\n');
        block = [];
      }
    }
    if (block.length > 0) write(block.join('\n') + '\n');
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** pandas.read_csv's time on the file, in ms (the interpreter's start and import not counted). */
function timePandas(file: string): number {
  const script = [
    'import sys, time, pandas',
    't = time.perf_counter()',
    'frame = pandas.read_csv(sys.argv[1])',
    'print((time.perf_counter() - t) * 1000, len(frame))',
  ].join('\n');
  const run = spawnSync(PYTHON, ['-c', script, file], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`pandas.read_csv failed: ${run.stderr}`);
  const [ms, rows] = run.stdout.trim().split(' ').map(Number);
  if (rows !== ROWS) throw new Error(`pandas read ${rows} rows, expected ${ROWS}`);
  return ms;
}

/**
 * POST the file as text/csv, streamed from disk (as `curl -T` does: a client holding a 190 MiB body
 * in memory first spends a second copying it), and time it to the 201; meanwhile the service's peak
 * RSS, and the slowest of its answers to GET /health/live asked every 50 ms (its event loop's
 * responsiveness while the upload is parsed).
 */
async function timeUpload(service: Service, file: string, round: number) {
  const rss = sampleRss(service.pid);
  let slowestProbe = 0;
  let probing = true;
  const probes = (async () => {
    while (probing) {
      const started = performance.now();
      await (await fetch(`${service.baseUrl}/health/live`)).text();
      slowestProbe = Math.max(slowestProbe, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const started = performance.now();
  const { status, text } = await new Promise<{ status: number; text: string }>(
    (resolve, reject) => {
      const post = request(
        `${service.baseUrl}/v1/datasets?name=bench-ingest-${round}`,
        { method: 'POST', headers: { ...AUTH_HEADERS, 'content-type': 'text/csv' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          response.on('error', reject);
        },
      );
      post.on('error', reject);
      pipeline(createReadStream(file), post).catch(reject);
    },
  );
  const elapsed = performance.now() - started;
  const peakRss = rss.stop();
  probing = false;
  await probes;
  if (status !== 201) throw new Error(`upload: ${status} ${text.slice(0, 500)}`);
  const dataset = JSON.parse(text) as { id: string; rowCount: number };
  if (dataset.rowCount !== ROWS) throw new Error(`uploaded ${dataset.rowCount} rows, not ${ROWS}`);
  // Keep the disk bounded: each round stores a fresh copy.
  await fetch(`${service.baseUrl}/v1/datasets/${dataset.id}`, {
    method: 'DELETE',
    headers: AUTH_HEADERS,
  });
  return { elapsed, peakRss, slowestProbe };
}

function timeParse(body: Buffer): number {
  const started = performance.now();
  const data = parseCsv(body);
  const elapsed = performance.now() - started;
  if (data.rowCount !== ROWS) throw new Error(`parseCsv read ${data.rowCount} rows`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main(): Promise<void> {
  const probe = spawnSync(PYTHON, ['-c', 'import pandas'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${PYTHON} has no pandas: apt-get install -y python3-pandas`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-ingest-'));
  const service = await startService(PORT, { DATASET_BODY_LIMIT_BYTES: String(2 * 1024 ** 3) });
  const lines = [
    `ModelDock ingest benchmark: ${ROWS.toLocaleString()} rows × ${FEATURES} features + target, CSV, ${ROUNDS} alternating rounds, medians`,
    '',
    '| numbers written as | file | pandas.read_csv | upload (POST → 201) | ÷ pandas | parseCsv alone | ÷ pandas | service RSS idle → peak | slowest /health/live | upload ≤ pandas |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let met = true;
  try {
    for (const shape of SHAPES) {
      const file = path.join(dir, 'data.csv');
      progress(`writing ${ROWS.toLocaleString()} rows, ${shape.label}`);
      const size = writeCsv(file, shape.format);
      const body = readFileSync(file);
      const pandas: number[] = [];
      const uploads: number[] = [];
      const ratios: number[] = [];
      const parses: number[] = [];
      const parseRatios: number[] = [];
      let peakRss = 0;
      let slowestProbe = 0;
      const idleRss = rssBytes(service.pid);
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate which goes first, so that neither always meets a warmer machine.
        const pandasFirst = round % 2 === 0;
        let pandasMs = pandasFirst ? timePandas(file) : 0;
        const upload = await timeUpload(service, file, round);
        if (!pandasFirst) pandasMs = timePandas(file);
        const parseMs = timeParse(body);
        progress(
          `  round ${round + 1}: pandas ${seconds(pandasMs)}, upload ${seconds(upload.elapsed)}, parseCsv ${seconds(parseMs)}, peak RSS ${mib(upload.peakRss)}, slowest probe ${upload.slowestProbe.toFixed(0)} ms`,
        );
        pandas.push(pandasMs);
        uploads.push(upload.elapsed);
        ratios.push(upload.elapsed / pandasMs);
        parses.push(parseMs);
        parseRatios.push(parseMs / pandasMs);
        peakRss = Math.max(peakRss, upload.peakRss);
        slowestProbe = Math.max(slowestProbe, upload.slowestProbe);
      }
      const ratio = median(ratios);
      met &&= ratio <= 1;
      lines.push(
        `| ${shape.label} | ${mib(size)} | ${seconds(median(pandas))} | ${seconds(median(uploads))} | ${ratio.toFixed(2)}× | ${seconds(median(parses))} | ${median(parseRatios).toFixed(2)}× | ${mib(idleRss)} → ${mib(peakRss)} | ${slowestProbe.toFixed(0)} ms | ${ratio <= 1 ? 'yes' : 'no'} |`,
      );
      rmSync(file, { force: true });
    }
  } finally {
    await service.stop();
    service.removeData();
    rmSync(dir, { recursive: true, force: true });
  }
  lines.push(
    '',
    `pandas ${spawnSync(PYTHON, ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' }).stdout.trim()}, read_csv with its defaults; each ratio is the median of the per-round ratios. parseCsv alone runs in this process on the same bytes (the upload's reader, over a buffer, into memory). RSS: before the first round, and the highest sampled every 20 ms during any round. /health/live asked every 50 ms during each upload; its slowest answer over the rounds.`,
  );
  process.stdout.write(lines.join('\n') + '\n');
  if (!met) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:ingest failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
