import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { RouteClass } from './route-policy';
import { unsupportedMediaType } from './strict-json';

/** Reads a body the JSON parser does not: streamed, so the reader decides what to keep. */
export type BodyReader = (request: FastifyRequest, payload: IncomingMessage) => Promise<unknown>;

/** The non-JSON bodies a route may take: forms, raw bytes, and bodies with another or no type. */
export interface BodyReaders {
  form?: BodyReader;
  /** `application/octet-stream`. */
  bytes?: BodyReader;
  /** Any other Content-Type, or none; the reader refuses what it does not recognise. */
  other?: BodyReader;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    bodyReaders?: BodyReaders;
  }
}

/**
 * Where each route class's non-JSON body readers are declared: the dataset route reads CSV and
 * forms, the model route streams ONNX files in, the V2 infer routes read binary tensors.
 */
const READERS = new Map<RouteClass, BodyReaders>();

/** Declares the readers of a route class; call before routes are registered. */
export function declareBodyReaders(routeClass: RouteClass, readers: BodyReaders): void {
  READERS.set(routeClass, { ...READERS.get(routeClass), ...readers });
}

/**
 * One parser per media type for the whole app, each handing the body to the route's reader, or
 * answering 415 with the route's advice. No hook is added: routes that take only JSON (the
 * prediction hot path) pay nothing for bodies they never read.
 */
export function installBodyReaders(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const readers = route.config?.routeClass && READERS.get(route.config.routeClass);
    if (readers) route.config = { ...route.config, bodyReaders: readers };
  });
  const dispatch =
    (kind: keyof BodyReaders) =>
    (
      request: FastifyRequest,
      payload: IncomingMessage,
      done: (error: Error | null, body?: unknown) => void,
    ) => {
      const reader = request.routeOptions.config.bodyReaders?.[kind];
      if (!reader) return done(unsupportedMediaType(request), undefined);
      reader(request, payload).then(
        (body) => done(null, body),
        (error: Error) => {
          payload.resume(); // the rest of the body is read and dropped, so the reply can go out
          done(error, undefined);
        },
      );
    };
  fastify.addContentTypeParser('multipart/form-data', dispatch('form'));
  fastify.addContentTypeParser('application/octet-stream', dispatch('bytes'));
  fastify.addContentTypeParser('*', dispatch('other'));
}
