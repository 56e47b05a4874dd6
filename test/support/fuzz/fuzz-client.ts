import { HttpResult, TestApp } from '../test-app';

/**
 * How the fuzz suite talks to the app and judges its answers: every request counted (and its
 * status), and one rule every fuzzed request obeys (`expectHandled`). A broken rule throws an
 * error that names the request and the response, which fast-check reports with the shrunk
 * counterexample and the seed/path that replays it.
 */

const JSON_HEADERS = { 'content-type': 'application/json' };
const STACK_TRACE = /at .*\.(ts|js):\d+/;
const SQL = /SQLITE|SELECT |INSERT /i;
const PROBLEM_CONTENT_TYPE = /^application\/problem\+json/;
const V2_CONTENT_TYPE = /^application\/json/;

/** A response with the request that got it. */
export interface Sent extends HttpResult {
  method: string;
  url: string;
  sent: unknown;
}

/** /v1 answers errors as problem details, /v2 (Open Inference) as `{ "error" }`. */
export type Protocol = 'v1' | 'v2';

export class FuzzClient {
  requests = 0;
  readonly statuses = new Map<number, number>();

  constructor(private readonly api: TestApp) {}

  async send(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Sent> {
    this.requests++;
    const res = await this.api.request(method, url, body, headers);
    this.statuses.set(res.status, (this.statuses.get(res.status) ?? 0) + 1);
    return { ...res, method, url, sent: body };
  }

  /** Sends `value` serialised as JSON, whatever it is (a bare string or number included). */
  sendJson(url: string, value: unknown, query = ''): Promise<Sent> {
    return this.send('POST', url + query, JSON.stringify(value), JSON_HEADERS);
  }

  /** Sends `text` as it is, labelled application/json. */
  sendJsonText(url: string, text: string): Promise<Sent> {
    return this.send('POST', url, text, JSON_HEADERS);
  }
}

export function fail(res: Sent, why: string): never {
  const sent = typeof res.sent === 'string' ? res.sent : String(res.sent);
  throw new Error(
    `${why}\n  ${res.method} ${res.url}\n  body: ${sent.slice(0, 600)}\n` +
      `  → ${res.status} ${res.headers.get('content-type')}\n  ${res.text.slice(0, 600)}`,
  );
}

/**
 * The one rule every fuzzed request obeys: no 5xx; an error is a 4xx in the protocol's error
 * shape (problem details on /v1, the Open Inference `{ "error" }` on /v2) that leaks no stack
 * trace or SQL; a success only with the route's success status.
 */
export function expectHandled(res: Sent, protocol: Protocol, success: number): void {
  if (res.status >= 500) fail(res, `answered ${res.status}`);
  if (res.status === 401 || res.status === 403) {
    fail(res, 'the admin key was refused: the fuzz requests never reached validation');
  }
  if (res.status < 400) {
    if (res.status !== success) fail(res, `expected ${success} or a 4xx`);
    return;
  }
  if (res.status === 429) return; // counted; the final test says whether rate limits interfered
  if (STACK_TRACE.test(res.text)) fail(res, 'the error shows a stack trace');
  if (SQL.test(res.text)) fail(res, 'the error shows SQL');
  const contentType = res.headers.get('content-type') ?? '';
  const body = res.body;
  if (protocol === 'v1') {
    if (!PROBLEM_CONTENT_TYPE.test(contentType)) fail(res, 'the error is not problem+json');
    if (
      typeof body !== 'object' ||
      body === null ||
      typeof body.type !== 'string' ||
      typeof body.title !== 'string' ||
      body.status !== res.status ||
      typeof body.detail !== 'string' ||
      body.detail.length === 0
    ) {
      fail(res, 'the error lacks type/title/status/detail');
    }
    if (body.errors !== undefined && !Array.isArray(body.errors)) {
      fail(res, 'errors is not a list');
    }
  } else {
    if (!V2_CONTENT_TYPE.test(contentType)) fail(res, 'the /v2 error is not JSON');
    if (
      typeof body !== 'object' ||
      body === null ||
      typeof body.error !== 'string' ||
      body.error.length === 0 ||
      Object.keys(body).length !== 1
    ) {
      fail(res, 'the /v2 error is not { "error": string }');
    }
  }
}

/** y = 1 + 2·x1 − 3·x2 exactly (the seeded `line` model), so a 200 for numeric rows is checked. */
export function expectLinePredictions(res: Sent, instances: unknown[]): void {
  const { predictions } = res.body;
  if (!Array.isArray(predictions) || predictions.length !== instances.length) {
    fail(res, 'not one prediction per instance');
  }
  instances.forEach((row, i) => {
    if (!Array.isArray(row) || !row.every((v) => typeof v === 'number' && Math.abs(v) < 1e12)) {
      return;
    }
    const expected = 1 + 2 * row[0] - 3 * row[1];
    if (!(Math.abs(predictions[i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)))) {
      fail(res, `instance ${i} predicted ${predictions[i]}, expected ${expected}`);
    }
  });
}

/** What the server's parser (secure-json-parse: a leading BOM is skipped) makes of the bytes. */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    return true;
  } catch {
    return false;
  }
}
