// The wrk harness the HTTP benchmarks share: a POST that wrk repeats (`wrk -t1 -cN`, a Lua script
// posting a body read from a file), sides measured in turn round after round, ratios as the median
// of each round's, and the markdown table they print.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cpuSeconds, progress } from './support';

export const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
export const WARM_UP_SECONDS = 1;

/** A POST that wrk repeats, at `connections`, to the server `pid`; `check` judges one answer. */
export interface Target {
  name: string;
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  connections: number;
  pid: number;
  /** Paths on `url`'s host to cycle through, one per request, instead of `url`'s own. */
  paths?: string[];
  check(response: Response): Promise<string | undefined>;
}

/** One wrk run: req/s, latency in ms, errors (socket, timeout, non-2xx), server CPU µs/request. */
export interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpu: number;
}

const LUA_DONE = `function done(s, latency)
  local e = s.errors
  io.write(string.format('{"requests":%d,"micros":%d,"errors":%d,"p50":%d,"p99":%d}\\n', s.requests,
    s.duration, e.connect + e.read + e.write + e.status + e.timeout, latency:percentile(50),
    latency:percentile(99)))
end`;

let work: string | undefined;

/** Where wrk's scripts and bodies go; removed by `cleanUp`. */
function workDir(): string {
  work ??= mkdtempSync(path.join(tmpdir(), 'modeldock-bench-wrk-'));
  return work;
}

export function cleanUp(): void {
  if (work) rmSync(work, { recursive: true, force: true });
  work = undefined;
}

export function wrk(target: Target, seconds: number): Result {
  const file = path.join(workDir(), target.name.replace(/\W+/g, '-'));
  writeFileSync(`${file}.body`, target.body);
  const headers = Object.entries(target.headers).map(
    ([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`,
  );
  const open = `local f = assert(io.open(${JSON.stringify(`${file}.body`)}, "rb"))`;
  const lua = [open, 'wrk.body = f:read("*a"); f:close()', 'wrk.method = "POST"', ...headers];
  if (target.paths) {
    // A Lua call per request: the sides of a comparison must be driven the same way.
    const paths = target.paths.map((p) => JSON.stringify(p)).join(',');
    lua.push(`local paths = {${paths}}`, 'local i = 0');
    lua.push('request = function() i = i % #paths + 1; return wrk.format(nil, paths[i]) end');
  }
  writeFileSync(`${file}.lua`, [...lua, LUA_DONE].join('\n'));
  const before = cpuSeconds(target.pid);
  const args = [
    `-c${target.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    `${file}.lua`,
  ];
  const run = spawnSync('wrk', ['-t1', ...args, target.url], { encoding: 'utf8' });
  const cpu = cpuSeconds(target.pid) - before;
  const line = run.stdout?.split('\n').find((text) => text.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk failed (apt-get install wrk): ${run.error ?? run.stderr}`);
  const s = JSON.parse(line);
  const [rps, cpuPerRequest] = [s.requests / (s.micros / 1e6), (cpu * 1e6) / (s.requests || 1)];
  return { rps, p50: s.p50 / 1000, p99: s.p99 / 1000, errors: s.errors, cpu: cpuPerRequest };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A POST; once more on a network error (a keep-alive socket the server closed while idle). */
export async function post(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<Response> {
  return fetch(url, { method: 'POST', headers, body }).catch(() =>
    fetch(url, { method: 'POST', headers, body }),
  );
}

/** Sends the target's request once; throws unless the answer is right. */
export async function checkOnce(target: Target): Promise<void> {
  const { headers, body } = target;
  const url = target.paths ? new URL(target.paths[0], target.url).href : target.url;
  const response = await post(url, headers, body);
  const failure =
    response.status === 200
      ? await target.check(response)
      : `HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`;
  if (failure) throw new Error(`${target.name}: check failed: ${failure}`);
}

/** Checks each target once, then runs them in turn, ROUNDS times (warm-up, then measured). */
export async function measureRounds(targets: Target[]): Promise<Result[][]> {
  for (const target of targets) await checkOnce(target);
  const runs: Result[][] = targets.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, target] of targets.entries()) {
      wrk(target, WARM_UP_SECONDS);
      const r = wrk(target, SECONDS);
      runs[i].push(r);
      const figures = `${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, ${r.cpu.toFixed(0)} µs CPU/req`;
      progress(`round ${round}/${ROUNDS} ${target.name} (${target.connections} c): ${figures}`);
    }
  }
  return runs;
}

// ---- the report: scenario, runs, ratio (or figure), target, result

export type Row = [string, Result[] | undefined, string, string, 'PASS' | 'FAIL' | 'INFO' | ''];

export const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const clean = (...runs: Result[][]) => runs.every((run) => run.every((r) => r.errors === 0));
export const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

export function ratioRow(
  name: string,
  run: Result[],
  base: Result[],
  label: string,
  min?: number,
): Row {
  const ratio = median(run.map((r, i) => r.rps / base[i].rps));
  const target = min === undefined ? '' : `≥ ${min}× ${label} req/s`;
  const result = min === undefined ? 'INFO' : verdict(ratio >= min && clean(run, base));
  return [name, run, `${ratio.toFixed(2)}× ${label}`, target, result];
}

/** One row of the table: the medians of its runs, its ratio, target and result. */
export function render([scenario, runs, ratio, target, result]: Row): string {
  const m = (read: (r: Result) => number, digits = 0) =>
    runs ? fmt(median(runs.map(read)), digits) : '';
  const errors = runs ? String(runs.reduce((sum, r) => sum + r.errors, 0)) : '';
  const figures = [m((r) => r.rps), m((r) => r.p50, 2), m((r) => r.p99, 2), m((r) => r.cpu)];
  const cells = [scenario, ...figures, errors, ratio, target, result];
  return `| ${cells.map((cell) => cell.replace(/\s+/g, ' ').replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** The table's header lines. */
export const TABLE_HEADER = [
  '| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | errors | ratio | target | result |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];

/** The failures' summary line. */
export function verdictLine(rows: Row[]): string {
  const failures = rows.filter((row) => row[4] === 'FAIL');
  return failures.length === 0
    ? 'All targets met.'
    : `FAILED ${failures.length}: ${failures.map((row) => `${row[0]} (${row[3]})`).join('; ')}`;
}
