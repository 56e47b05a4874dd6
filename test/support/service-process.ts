import { ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { authHeaders, HttpResult, TEST_ADMIN_KEY } from './test-app';
import { databaseEnv } from './test-database';

/**
 * The service as its own process, so a test can SIGKILL it and start it again on the same data.
 *
 * Start-up through ts-node costs about a second more per start than compiled JavaScript on a small
 * machine (and each training worker thread pays for its own ts-node), which adds up over a crash
 * campaign's dozens of restarts. So the service runs, in this order of preference:
 * 1. `dist/` (from `npm run build`) when it is newer than every source;
 * 2. else the sources transpiled once per test process into a temporary directory — file by file,
 *    without type checking, exactly what `ts-node/register/transpile-only` does at every start (CI
 *    runs `npm test` before `npm run build`, so `dist/` is usually missing or stale there);
 * 3. else (the transpilation failed) `node -r ts-node/register/transpile-only src/main.ts`.
 * TEST_SERVICE_BUILD=transpiled or ts-node picks one of the last two.
 * Compiled code runs `training.thread.js` next to the compiled executor; ts-node the `.ts` thread.
 */

const ROOT = path.join(__dirname, '..', '..');
/** What the build compiles (tsconfig.build.json's include), and what `dist/` must be newer than. */
const SOURCE_DIRS = ['src', 'migrations'];
const SOURCE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

export type ServiceBuild = 'dist' | 'transpiled' | 'ts-node';

export interface ServiceCommand {
  build: ServiceBuild;
  args: string[];
  env: Record<string, string>;
}

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  build: ServiceBuild;
  /** Date.now() when the process was spawned: anything it claimed carries a later time. */
  spawnedAt: number;
  /** Spawn to the first 200 from /health/ready. */
  startupMs: number;
  /** SIGKILL, then waits for the process to be gone. */
  kill(): Promise<void>;
  /** What it has written to stdout (its log) so far; empty unless spawned with `captureStdout`. */
  stdout(): string;
}

export interface SpawnOptions {
  /** The API (default) or a worker process (`src/worker-process.ts`). */
  entry?: 'api' | 'worker';
  /** Extra environment for the service (over the defaults below). */
  env?: Record<string, string>;
  /** How long to wait for /health/ready. */
  timeoutMs?: number;
  /** Keep stdout for `stdout()` (give LOG_LEVEL in `env`: logs are silent by default). */
  captureStdout?: boolean;
}

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry))
    newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

/** `dist/src/main.js` when `npm run build` output is newer than every source, else null. */
function freshDist(): string | null {
  const entry = path.join(ROOT, 'dist', 'src', 'main.js');
  const thread = path.join(ROOT, 'dist', 'src', 'training', 'training.thread.js');
  const workerProcess = path.join(ROOT, 'dist', 'src', 'worker-process.js');
  if (![entry, thread, workerProcess].every((file) => existsSync(file))) return null;
  const newestSource = Math.max(
    ...[...SOURCE_DIRS, ...SOURCE_FILES].map((name) => newestMtime(path.join(ROOT, name))),
  );
  return statSync(entry).mtimeMs >= newestSource ? entry : null;
}

function listTypeScript(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listTypeScript(full));
    else if (/\.ts$/.test(entry.name) && !/\.(spec|d)\.ts$/.test(entry.name)) files.push(full);
  }
  return files;
}

/**
 * Transpiles src/ and migrations/ into `outDir` (same layout as dist/), module by module with
 * tsconfig.build.json's options, like ts-node's transpile-only mode.
 */
function transpileSources(outDir: string): string {
  const configFile = path.join(ROOT, 'tsconfig.build.json');
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT, undefined, configFile);
  const compilerOptions: ts.CompilerOptions = {
    ...options,
    sourceMap: false,
    inlineSourceMap: false,
    incremental: false,
    declaration: false,
    noEmit: false,
  };
  for (const dir of SOURCE_DIRS) {
    for (const file of listTypeScript(path.join(ROOT, dir))) {
      const { outputText, diagnostics } = ts.transpileModule(ts.sys.readFile(file) ?? '', {
        compilerOptions,
        fileName: file,
        reportDiagnostics: true,
      });
      const errors = (diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length > 0) {
        const message = ts.flattenDiagnosticMessageText(errors[0].messageText, '\n');
        throw new Error(`${path.relative(ROOT, file)}: ${message}`);
      }
      const target = path.join(outDir, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, outputText);
    }
  }
  return path.join(outDir, 'src', 'main.js');
}

let prepared: ServiceCommand | undefined;
let transpiledDir: string | undefined;
/** Set when dist/ looked fresh but the service failed to start from it. */
let distFailed = false;

/** How this test process starts the service; worked out (and transpiled, if need be) once. */
export function serviceCommand(): ServiceCommand {
  if (prepared) return prepared;
  // TEST_SERVICE_BUILD=transpiled or ts-node skips dist/ (ts-node: the transpilation too).
  const forced = process.env.TEST_SERVICE_BUILD;
  if (forced === 'ts-node') {
    prepared = tsNodeCommand();
    return prepared;
  }
  const dist = distFailed || forced === 'transpiled' ? null : freshDist();
  if (dist) {
    prepared = { build: 'dist', args: [dist], env: {} };
    return prepared;
  }
  try {
    transpiledDir = mkdtempSync(path.join(tmpdir(), 'modeldock-service-'));
    process.once('exit', () => {
      if (transpiledDir) rmSync(transpiledDir, { recursive: true, force: true });
    });
    const entry = transpileSources(transpiledDir);
    // The output lives outside the project, so point module resolution at its node_modules.
    const nodePath = [path.join(ROOT, 'node_modules'), process.env.NODE_PATH]
      .filter(Boolean)
      .join(path.delimiter);
    prepared = { build: 'transpiled', args: [entry], env: { NODE_PATH: nodePath } };
  } catch (error) {
    process.stderr.write(
      `service-process: transpiling the sources failed (${String(error)}); using ts-node\n`,
    );
    prepared = tsNodeCommand();
  }
  return prepared;
}

function tsNodeCommand(): ServiceCommand {
  return {
    build: 'ts-node',
    args: ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    env: {},
  };
}

/** A port nothing listens on right now (the OS picks it), on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startOnce(
  dataDir: string,
  port: number,
  options: SpawnOptions,
): Promise<ServiceProcess | 'port-taken'> {
  const command = serviceCommand();
  const database = await databaseEnv(dataDir);
  const spawnedAt = Date.now();
  // The worker process's entry point sits beside main in every build.
  const args =
    options.entry === 'worker'
      ? command.args.map((arg) => arg.replace(/main\.(js|ts)$/, 'worker-process.$1'))
      : command.args;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      ...command.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      MODELDOCK_ADMIN_KEY: TEST_ADMIN_KEY,
      ...database,
      ...options.env,
    },
    stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const deadline = spawnedAt + (options.timeoutMs ?? 45_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      if (/EADDRINUSE/.test(stderr)) return 'port-taken';
      throw new Error(
        `service (${command.build}) exited with ${child.exitCode ?? child.signalCode}: ${stderr}`,
      );
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
      await response.arrayBuffer();
      if (response.ok) {
        return {
          child,
          port,
          baseUrl: `http://127.0.0.1:${port}`,
          build: command.build,
          spawnedAt,
          startupMs: Date.now() - spawnedAt,
          kill,
          stdout: () => stdout,
        };
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await kill();
      throw new Error(
        `service (${command.build}) not ready after ${options.timeoutMs ?? 45_000} ms: ${stderr}`,
      );
    }
    await sleep(50);
  }
}

/**
 * Starts the service on `dataDir` with the test admin key, on a free port, and resolves once
 * /health/ready answers 200. Logs are off; the last of stderr is in the error if it fails to start.
 */
export async function spawnService(
  dataDir: string,
  options: SpawnOptions = {},
): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    let started: ServiceProcess | 'port-taken';
    try {
      started = await startOnce(dataDir, await freePort(), options);
    } catch (error) {
      if (serviceCommand().build !== 'dist') throw error;
      // dist/ is newer than the sources but does not start (say, built against packages since
      // removed): run the sources instead, from now on.
      process.stderr.write(
        `service-process: dist/ failed to start, using the sources: ${String(error)}\n`,
      );
      distFailed = true;
      prepared = undefined;
      started = await startOnce(dataDir, await freePort(), options);
    }
    if (started !== 'port-taken') return started;
    // Another process took the port between freePort() and the service's listen: pick another.
    if (attempt >= 5) throw new Error('no free port after 5 attempts');
  }
}

export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * One HTTP request with the test admin key: JSON bodies are sent as JSON, strings and Buffers as
 * they are (give their content-type in `headers`); JSON responses are parsed.
 */
export async function requestJson<T = any>(
  baseUrl: string,
  method: string,
  url: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<HttpResult<T>> {
  const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
  const response = await fetch(baseUrl + url, {
    method,
    headers: {
      ...authHeaders(),
      ...(body === undefined || isRaw ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
    signal: options.signal,
  });
  const text = await response.text();
  let parsed: unknown = text;
  if (/json/.test(response.headers.get('content-type') ?? '') && text) parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}
