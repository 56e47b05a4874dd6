import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, InvalidInputError } from './errors';

/** Deeper than any body of ours needs; deeper still would overflow the stack of the validators. */
export const MAX_JSON_DEPTH = 64;

export type JsonProblem = { duplicateKey: string } | { tooDeep: true } | null;

/** The characters that matter: everything between them (numbers, literals, commas) is skipped. */
const STRUCTURE = /["{}[\]]/g;

/**
 * What makes a valid JSON text unacceptable here: a key twice in one object (JSON.parse keeps
 * the last silently, so a body could mean one thing to a proxy or validator that reads the first
 * and another to us), or nesting deeper than MAX_JSON_DEPTH. One pass over text already known to
 * be valid JSON (call it after JSON.parse): a regular expression jumps from one bracket or quote
 * to the next, so a batch of numbers costs one step per row, not one per character.
 */
export function checkJsonText(text: string): JsonProblem {
  // One entry per open container: the keys seen so far for objects, null for arrays.
  const stack: (Set<string> | null)[] = [];
  const structure = new RegExp(STRUCTURE);
  let match: RegExpExecArray | null;
  while ((match = structure.exec(text)) !== null) {
    const at = match.index;
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
      if (keys.has(key)) return { duplicateKey: key };
      keys.add(key);
    } else if (c === '{' || c === '[') {
      if (stack.length === MAX_JSON_DEPTH) return { tooDeep: true };
      stack.push(c === '{' ? new Set() : null);
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

/**
 * Strict JSON bodies: Fastify's parser (which refuses `__proto__` and `constructor.prototype`
 * keys), then no key twice in one object and no nesting deep enough to overflow a validator.
 * Every other media type is refused with a 415 saying what to send, unless the route has a reader
 * for it (common/body-readers.ts).
 */
export function installStrictJsonParser(fastify: FastifyInstance): void {
  refuseOtherMediaTypes(fastify);
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (error, value) => {
      if (error) return done(error, undefined);
      const problem = checkJsonText(body as string);
      if (problem === null) return done(null, value);
      done(
        new InvalidInputError(
          'duplicateKey' in problem
            ? `The JSON body has the key "${problem.duplicateKey}" twice in one object; send each key once.`
            : `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it.`,
        ),
        undefined,
      );
    });
  });
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
