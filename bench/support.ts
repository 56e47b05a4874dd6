// Shared by the benchmarks: the real service as a child process, HTTP calls, RSS sampling, load.
import autocannon from 'autocannon';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

export interface Service {
  baseUrl: string;
  pid: number;
  dataDir: string;
  /** Stops the process; the data directory stays for a restart until `removeData`. */
  stop(): Promise<void>;
  removeData(): void;
}

/** The admin key every benchmarked service starts with; requests send it (other servers ignore it). */
export const BENCH_ADMIN_KEY = `bench-admin-${randomBytes(24).toString('base64url')}`;
export const AUTH_HEADERS = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };

/**
 * Starts `node dist/src/main.js` (the production build), on a fresh data directory unless given
 * one, with authentication, rate limits and overload protection on as in production; the limits
 * are set high enough that a benchmark measures their cost, not their refusals.
 */
export async function startService(
  port: number,
  env: Record<string, string> = {},
  dataDir = mkdtempSync(path.join(tmpdir(), 'modeldock-bench-')),
  /** Where its stdout (the JSON log) goes: this process's stdout by default, or this file. */
  logFile?: string,
): Promise<Service> {
  const stdout = logFile ? openSync(logFile, 'a') : 'inherit';
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      MODELDOCK_ADMIN_KEY: BENCH_ADMIN_KEY,
      RATE_LIMIT_PREDICT_PER_MINUTE: '100000000',
      RATE_LIMIT_MANAGEMENT_PER_MINUTE: '1000000',
      ...env,
    },
    stdio: ['ignore', stdout, 'inherit'],
  });
  if (typeof stdout === 'number') closeSync(stdout);
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/health/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('the service did not become ready in 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    baseUrl,
    pid: child.pid!,
    dataDir,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
    removeData: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

export async function call<T = any>(
  baseUrl: string,
  method: string,
  url: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<T> {
  const send = () =>
    fetch(baseUrl + url, {
      method,
      headers: body === undefined ? AUTH_HEADERS : { ...AUTH_HEADERS, 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  // Once more on a network error: a keep-alive socket the server closed while wrk had the load.
  const response = await send().catch(send);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kib ? Number(kib) * 1024 : NaN;
}

/**
 * CPU time a process and its live children have used (user + system), in seconds, from /proc
 * (Linux): gunicorn's workers are its children, a Node server's threads are its own.
 */
export function cpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    const listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    children = listed ? listed.split(' ').map(Number) : [];
  } catch {
    // a kernel without the children file: the process alone
  }
  return [pid, ...children].reduce((sum, id) => sum + ownCpuSeconds(id), 0);
}

function ownCpuSeconds(pid: number): number {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0; // a child that has just exited
  }
}

/** Linux's USER_HZ, 100 on every mainstream build. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Samples a process's RSS every 20 ms until stopped; returns the peak. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rssBytes(pid));
    },
  };
}

export interface LoadResult {
  requestsPerSecond: number;
  /** Requests answered in the run. */
  requests: number;
  p50: number;
  p99: number;
  /** Connection errors and timeouts plus non-2xx responses. */
  errors: number;
  /** Responses per HTTP status code, e.g. { "200": 51234, "503": 7 }. */
  statusCodes: Record<string, number>;
}

interface LoadOptions {
  connections: number;
  seconds: number;
}

const JSON_HEADERS = { 'content-type': 'application/json', ...AUTH_HEADERS };

/** Drives one endpoint at a fixed connection count with autocannon. */
export async function load(url: string, body: string, options: LoadOptions): Promise<LoadResult> {
  return summarize(
    await autocannon({
      url,
      method: 'POST',
      headers: JSON_HEADERS,
      body,
      connections: options.connections,
      duration: options.seconds,
    }),
  );
}

function summarize(result: autocannon.Result): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[status] = count ?? 0;
  }
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    statusCodes,
  };
}

/** Runs /usr/bin/python3 when it has scikit-learn; undefined otherwise. */
export function runPython(script: string, args: string[]): string | undefined {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return undefined;
  const run = spawnSync('/usr/bin/python3', [script, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`${script} failed: ${run.stderr}`);
  return run.stdout;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}
