import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { AppError, InvalidInputError } from './errors';
import type { RouteClass } from './route-policy';

/** Deeper than any body of ours needs; deeper still would overflow the stack of the validators. */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem = { duplicateKey: string } | { tooDeep: true } | null;

/**
 * The characters that matter: everything between them (numbers, literals, commas) is skipped. One
 * instance, its `lastIndex` reset on entry: building a RegExp per body cost more than a small
 * body's whole check. checkJsonText never re-enters itself, so sharing it is safe.
 */
const STRUCTURE = /["{}[\]]/g;

/** An object's keys seen so far: an array while small (no Set per object), a Set beyond. */
type SeenKeys = string[] | Set<string>;
const SMALL_OBJECT_KEYS = 16;

/** Records `key`; false when the object already had it. */
function addKey(stack: (SeenKeys | null)[], keys: SeenKeys, key: string): boolean {
  if (Array.isArray(keys)) {
    if (keys.includes(key)) return false;
    keys.push(key);
    if (keys.length > SMALL_OBJECT_KEYS) stack[stack.length - 1] = new Set(keys);
    return true;
  }
  if (keys.has(key)) return false;
  keys.add(key);
  return true;
}

/**
 * What makes a valid JSON text unacceptable here: a key twice in one object (JSON.parse keeps
 * the last silently, so a body could mean one thing to a proxy or validator that reads the first
 * and another to us), or nesting deeper than MAX_JSON_DEPTH. One pass over text already known to
 * be valid JSON (call it after JSON.parse): a regular expression jumps from one bracket or quote
 * to the next, so a batch of numbers costs one step per row, not one per character.
 */
export function checkJsonText(text: string): JsonProblem {
  // One entry per open container: the keys seen so far for objects, null for arrays.
  const stack: (SeenKeys | null)[] = [];
  const structure = STRUCTURE;
  structure.lastIndex = 0;
  // test(), not exec(): no match array per bracket; the match is the character before lastIndex.
  while (structure.test(text)) {
    const at = structure.lastIndex - 1;
    const c = text[at];
    if (c === '"') {
      const end = closingQuote(text, at + 1);
      structure.lastIndex = end + 1;
      const keys = stack[stack.length - 1];
      if (!keys) continue;
      // A string directly inside an object is a key when a colon follows it.
      let next = end + 1;
      while (text.charCodeAt(next) <= 32) next++;
      if (text[next] !== ':') continue;
      const raw = text.slice(at + 1, end);
      const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
      if (!addKey(stack, keys, key)) return { duplicateKey: key };
    } else if (c === '{' || c === '[') {
      if (stack.length === MAX_JSON_DEPTH) return { tooDeep: true };
      stack.push(c === '{' ? [] : null);
    } else {
      stack.pop();
    }
  }
  return null;
}

/** The index of the quote that ends the string starting at `from` (valid JSON: it exists). */
function closingQuote(text: string, from: number): number {
  let end = text.indexOf('"', from);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** The message of a JSON body's problem (a JSON text read elsewhere words its own). */
export function jsonProblemMessage(problem: NonNullable<JsonProblem>): string {
  return 'duplicateKey' in problem
    ? `The JSON body has the key "${problem.duplicateKey}" twice in one object; send each key once.`
    : `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it.`;
}

/**
 * Reads a route's JSON body itself, as it arrives: what it returns is the body the route sees.
 * It checks what the parser below checks (common/strict-json.ts's rules, prototype keys).
 */
export type JsonStreamReader = (request: FastifyRequest, payload: Readable) => unknown;

/** Route classes whose JSON bodies are streamed to their own reader (dataset uploads). */
const JSON_STREAM_READERS = new Map<RouteClass, JsonStreamReader>();

/** Hands the JSON bodies of `routeClass` unread to `reader`; call before the app listens. */
export function streamJsonBodies(routeClass: RouteClass, reader: JsonStreamReader): void {
  JSON_STREAM_READERS.set(routeClass, reader);
}

/**
 * Strict JSON bodies: Fastify's parser (which refuses `__proto__` and `constructor.prototype`
 * keys), then no key twice in one object and no nesting deep enough to overflow a validator.
 * Every other media type is refused with a 415 saying what to send, unless the route has a reader
 * for it (common/body-readers.ts). A route class that reads its JSON as a stream
 * (streamJsonBodies) gets the body unread.
 */
export function installStrictJsonParser(fastify: FastifyInstance): void {
  refuseOtherMediaTypes(fastify);
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', (request, payload, done) => {
    const routeClass = request.routeOptions.config.routeClass;
    const streamed = routeClass === undefined ? undefined : JSON_STREAM_READERS.get(routeClass);
    if (streamed) {
      try {
        return done(null, streamed(request, payload));
      } catch (error) {
        payload.resume();
        return done(error as Error, undefined);
      }
    }
    readJsonText(request, payload, (readError, text) => {
      if (readError) return done(readError, undefined);
      parseJson(request, text, (error, value) => {
        if (error) return done(error, undefined);
        const problem = checkJsonText(text);
        if (problem === null) return done(null, value);
        done(new InvalidInputError(jsonProblemMessage(problem)), undefined);
      });
    });
  });
}

/**
 * The body as text, read as Fastify reads a body for a parser that takes it whole (`parseAs:
 * 'string'`, its rawBody): refused past the route's limit, declared or read, and when it is not
 * the length its Content-Length said.
 */
function readJsonText(
  request: FastifyRequest,
  payload: Readable & { receivedEncodedLength?: number },
  done: (error: Error | null, text: string) => void,
): void {
  const limit = request.routeOptions.bodyLimit;
  const contentLength = Number(request.headers['content-length']);
  if (contentLength > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), '');
  let received = 0;
  const chunks: Buffer[] = [];
  const stop = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  const onData = (chunk: Buffer | string) => {
    // A preParsing stream may give strings.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received > limit || (payload.receivedEncodedLength ?? 0) > limit) {
      stop();
      return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE(), '');
    }
    chunks.push(bytes);
  };
  const onEnd = (error?: Error & { statusCode?: number }) => {
    stop();
    if (error != null) {
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) {
        error.statusCode = 400;
      }
      return done(error, '');
    }
    if (
      !Number.isNaN(contentLength) &&
      (payload.receivedEncodedLength || received) !== contentLength
    ) {
      return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH(), '');
    }
    done(
      null,
      chunks.length === 1
        ? chunks[0].toString('utf8')
        : Buffer.concat(chunks, received).toString('utf8'),
    );
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What to send instead, for a 415 on this route (curl lines welcome); JSON by default. */
    mediaTypeAdvice?: (request: FastifyRequest) => string;
  }
}

/** A body in a media type the route does not read; the message says what to send instead. */
export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly title = 'Unsupported media type';
}

/** The 415 for a body the route cannot read: its own advice, or JSON's. */
export function unsupportedMediaType(request: FastifyRequest): UnsupportedMediaTypeError {
  const sent = request.headers['content-type'];
  const advice = request.routeOptions.config?.mediaTypeAdvice?.(request) ?? jsonAdvice(request);
  return new UnsupportedMediaTypeError(
    `${sent ? `The body's Content-Type ${sent} is not read here` : 'The body has no Content-Type'}. ${advice}`,
  );
}

function jsonAdvice(request: FastifyRequest): string {
  const url = `${request.protocol}://${request.host}${request.url}`;
  return `Send JSON: curl -H 'Content-Type: application/json' -d @body.json '${url}'`;
}

/** text/plain is not JSON; routes that read it (datasets, as CSV) add their own parser. */
function refuseOtherMediaTypes(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('text/plain');
}
