// npm run bench:onnx — ONNX serving in the production build, as ratios to a baseline measured in
// the same run: bench/bare-onnx-server.ts, bare Fastify + onnxruntime-node with ModelDock's session
// options. wrk drives every side (`wrk -t1 -cN`, a Lua script posting a body read from a file); the
// sides of a comparison take turns, round after round, and a ratio is the median of the rounds'
// ratios. 1. the face detector (fr_detect.onnx) on a photo, binary tensor data extension both ways,
// 1 and 8 connections; 2. a tiny MLP (mlp.onnx), one row of JSON, V2 and v1, 8 connections;
// 3. dynamic batching of the MLP at 32 connections, and its p99 at 1; 4. the service's RSS with 20
// versions of the face detector registered and 5 loaded. Each side is first checked with one
// request (status 200, the fixture's reference answer). Exits 1 when a target fails.
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AUTH_HEADERS, mib, progress, ROOT, rssBytes } from './support';
import { Service, startService } from './support';
import {
  checkOnce,
  cleanUp,
  clean,
  fmt,
  measureRounds,
  median,
  post,
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

const BARE_PORT = Number(process.env.BENCH_PORT ?? 3420);
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'onnx');
const CACHE_BYTES = Number(process.env.PREDICTOR_CACHE_BYTES ?? 1024 ** 3);
const BATCHING = 'maxBatchSize=64&maxQueueDelayMicros=500';
const TARGETS = { faces: 0.8, tiny: 0.6, batching: 3, batchingP99Ms: 0.5, rss: 150 * 1024 ** 2 };
/** The photo's best face anchor (NOTICE.md) and mlp.onnx's answer for MLP_ROW (reference.json). */
const FACE_ANCHOR = 4248;
const MLP_ROW = [0.1, -0.2, 0.3, 0.4];
const MLP_ANSWER = [0.3479959, 0.40571958, 0.24628453];

/** The astronaut photo as the face detector takes it: CHW float32, (pixel − 127) / 128. */
function photoTensor(): Buffer {
  const rgb = readFileSync(path.join(FIXTURES, 'astronaut-320x240.rgb'));
  const pixels = 240 * 320;
  const input = new Float32Array(3 * pixels);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) input[c * pixels + p] = (rgb[p * 3 + c] - 127) / 128;
  }
  return Buffer.from(input.buffer);
}

const PHOTO = photoTensor();
const FACES_HEADER = Buffer.from(
  JSON.stringify({
    inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 240, 320], parameters: {} }].map(
      (input) => ({ ...input, parameters: { binary_data_size: PHOTO.length } }),
    ),
    outputs: ['scores', 'boxes'].map((name) => ({ name, parameters: { binary_data: true } })),
  }),
);

/** The face detector's request: the photo as binary FP32, both outputs asked for as binary. */
function faces(name: string, url: string, connections: number, pid: number): Target {
  const headers = {
    ...AUTH_HEADERS,
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(FACES_HEADER.length),
  };
  const check = async (response: Response) => {
    const body = Buffer.from(await response.arrayBuffer());
    const length = Number(response.headers.get('inference-header-content-length'));
    const outputs = JSON.parse(body.toString('utf8', 0, length)).outputs;
    if (outputs[0]?.parameters?.binary_data_size !== 4420 * 2 * 4) return JSON.stringify(outputs);
    const scores = new Float32Array(new Uint8Array(body.subarray(length)).buffer, 0, 4420 * 2);
    let best = 0;
    for (let a = 1; a < 4420; a++) if (scores[a * 2 + 1] > scores[best * 2 + 1]) best = a;
    return best === FACE_ANCHOR ? undefined : `best anchor ${best}, not ${FACE_ANCHOR}`;
  };
  const body = Buffer.concat([FACES_HEADER, PHOTO]);
  return { name, url, body, headers, connections, pid, check };
}

/** MLP_ROW as JSON: V2 (`outputs[0].data`) or v1 (`predictions`), each checked for MLP_ANSWER. */
function mlp(name: string, url: string, connections: number, pid: number, v1 = false): Target {
  const request = v1
    ? { instances: [MLP_ROW] }
    : { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: MLP_ROW }] };
  const check = async (response: Response) => {
    const answer = (await response.json()) as any;
    const got = (v1 ? answer.predictions : answer.outputs[0].data).flat();
    const close = MLP_ANSWER.every((value, i) => Math.abs(got[i] - value) < 1e-5);
    return close && got.length === 3 ? undefined : `answer ${JSON.stringify(got)}`;
  };
  const headers = { ...AUTH_HEADERS, 'content-type': 'application/json' };
  const body = Buffer.from(JSON.stringify(request));
  return { name, url, body, headers, connections, pid, check };
}

/** Posts an .onnx fixture as a new version; throws unless 201 when `expect201`. */
async function register(
  service: Service,
  model: string,
  file: string,
  query = '',
  expect201 = true,
) {
  const url = `${service.baseUrl}/v1/models/${model}/versions${query && `?${query}`}`;
  const headers = { ...AUTH_HEADERS, 'content-type': 'application/octet-stream' };
  const body = readFileSync(path.join(FIXTURES, file));
  const response = await post(url, headers, body);
  const text = await response.text();
  if (expect201 && response.status !== 201) throw new Error(`${model}: ${response.status} ${text}`);
  return { status: response.status, text };
}

async function startBare(): Promise<{ url: string; pid: number; child: ChildProcess }> {
  const models = ['faces=fr_detect.onnx', 'mlp=mlp.onnx'].map((m) =>
    m.replace('=', `=${FIXTURES}/`),
  );
  const server = path.join(ROOT, 'dist', 'bench', 'bare-onnx-server.js');
  const child = spawn(process.execPath, [server, String(BARE_PORT), ...models], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${BARE_PORT}`;
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`bare-onnx-server exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).status === 404) return { url, pid: child.pid!, child }; // Fastify's 404
      throw new Error('another server on the port');
    } catch {
      if (tries > 300) throw new Error('bare-onnx-server did not answer in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** 20 versions of the face detector, 5 of them loaded by one request each; RSS at each step. */
async function rssRows(service: Service): Promise<Row[]> {
  const idle = rssBytes(service.pid);
  progress('4. registering fr_detect.onnx as 20 versions of "faces", loading 5');
  for (let version = 1; version <= 20; version++)
    await register(service, 'faces', 'fr_detect.onnx');
  const registered = rssBytes(service.pid);
  for (let v = 1; v <= 5; v++) {
    await checkOnce(
      faces(`faces v${v}`, `${service.baseUrl}/v2/models/faces/versions/${v}/infer`, 1, 0),
    );
  }
  const loaded = rssBytes(service.pid);
  const limit = CACHE_BYTES + TARGETS.rss;
  const ok = loaded <= limit;
  const perVersion = `${((loaded - registered) / 5 / 1024 ** 2).toFixed(1)} MiB (the file: 1.2 MB)`;
  return [
    ['4. RSS, idle after start-up', undefined, mib(idle), '', 'INFO'],
    ['4. RSS, 20 versions registered, none loaded', undefined, mib(registered), '', 'INFO'],
    ['4. RSS, 5 versions loaded', undefined, mib(loaded), `≤ ${mib(limit)}`, verdict(ok)],
    ['4. ↳ RSS growth per loaded version', undefined, perVersion, '', 'INFO'],
  ];
}

async function runBench(service: Service, bare: { url: string; pid: number }): Promise<Row[]> {
  const rss = await rssRows(service);
  const [md, v2] = [service.pid, (model: string) => `${service.baseUrl}/v2/models/${model}/infer`];
  const rows: Row[] = [];
  for (const c of [1, 8]) {
    const label = `face detector, binary, ${c} connection${c > 1 ? 's' : ''}`;
    const [base, run] = await measureRounds([
      faces(`bare ${label}`, `${bare.url}/v2/models/faces/infer`, c, bare.pid),
      faces(`ModelDock ${label}`, v2('faces'), c, md),
    ]);
    rows.push([`1. bare Fastify + onnxruntime, ${label}`, base, 'baseline', '', '']);
    rows.push(ratioRow(`1. ModelDock V2 infer, ${label}`, run, base, 'bare', TARGETS.faces));
  }

  await register(service, 'mlp', 'mlp.onnx');
  await register(service, 'mlp-batched', 'mlp.onnx', BATCHING);
  const row = '1 row JSON, 8 connections';
  const [bareMlp, v2Mlp, v1Mlp] = await measureRounds([
    mlp('bare mlp', `${bare.url}/v2/models/mlp/infer`, 8, bare.pid),
    mlp('ModelDock V2 mlp', v2('mlp'), 8, md),
    mlp('ModelDock v1 mlp', `${service.baseUrl}/v1/models/mlp/predict`, 8, md, true),
  ]);
  rows.push([`2. bare Fastify + onnxruntime, mlp, ${row}`, bareMlp, 'baseline', '', '']);
  rows.push(ratioRow(`2. ModelDock V2 infer, mlp, ${row}`, v2Mlp, bareMlp, 'bare', TARGETS.tiny));
  rows.push(ratioRow(`2. ModelDock v1 predict, mlp, ${row}`, v1Mlp, bareMlp, 'bare'));

  const [plain32, batched32, plain1, batched1] = await measureRounds([
    mlp('ModelDock V2 mlp, no batching', v2('mlp'), 32, md),
    mlp('ModelDock V2 mlp, batching', v2('mlp-batched'), 32, md),
    mlp('ModelDock V2 mlp, no batching', v2('mlp'), 1, md),
    mlp('ModelDock V2 mlp, batching', v2('mlp-batched'), 1, md),
  ]);
  const delta = median(batched1.map((r, i) => r.p99 - plain1[i].p99));
  const p99 = `p99 ${delta >= 0 ? '+' : ''}${fmt(delta, 2)} ms vs no batching`;
  const p99Pass = verdict(delta <= TARGETS.batchingP99Ms && clean(batched1, plain1));
  const fixed = await register(service, 'faces-batched', 'fr_detect.onnx', BATCHING, false);
  const detail = fixed.status === 201 ? 'registered' : JSON.parse(fixed.text).detail;
  const refused = `registration: HTTP ${fixed.status}, ${detail}`;
  const batchedName = `ModelDock V2 mlp, 1 row, ${BATCHING}`;
  rows.push(
    ['3. ModelDock V2 mlp, 1 row, no batching, 32 connections', plain32, 'baseline', '', ''],
    ratioRow(
      `3. ${batchedName}, 32 connections`,
      batched32,
      plain32,
      'no batching',
      TARGETS.batching,
    ),
    ['3. ModelDock V2 mlp, 1 row, no batching, 1 connection', plain1, 'baseline', '', ''],
    ['3. ModelDock V2 mlp, 1 row, batching, 1 connection', batched1, p99, '≤ +0.5 ms p99', p99Pass],
    ['3. face detector with batching', undefined, refused, 'input [1,3,240,320]', 'INFO'],
  );
  return [...rows, ...rss];
}

async function main(): Promise<void> {
  let service: Service | undefined;
  let bare: Awaited<ReturnType<typeof startBare>> | undefined;
  try {
    bare = await startBare();
    service = await startService(BARE_PORT + 1);
    const rows = await runBench(service, bare);
    const lines = [
      `ModelDock ONNX serving: wrk -t1, ${ROUNDS} rounds, every side in turn (${WARM_UP_SECONDS} s ` +
        `warm-up + ${SECONDS} s); figures are medians over the rounds, ratios the median of each round's.`,
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
    bare?.child.kill('SIGTERM');
    cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:onnx failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
