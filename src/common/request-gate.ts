import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * One thing every request goes through before its body is read: write the response headers,
 * shed load, check the key, count its rate. `config` is the route's (its class's rules). Returns
 * nothing to go on, the error to answer with, or a promise of either (a key not cached yet, a
 * counter in Redis).
 */
export type RequestStep = (
  request: FastifyRequest,
  reply: FastifyReply,
  config: FastifyContextConfig,
) => Error | undefined | Promise<Error | undefined>;

/**
 * The steps in order, in one onRequest hook: each Fastify hook costs on every prediction, and
 * the common case (a cached key, the in-process counter) runs them all without a promise.
 */
export function installRequestGate(fastify: FastifyInstance, steps: RequestStep[]): void {
  const run = (
    from: number,
    request: FastifyRequest,
    reply: FastifyReply,
    config: FastifyContextConfig,
    done: (error?: Error) => void,
  ): void => {
    for (let i = from; i < steps.length; i++) {
      let outcome: ReturnType<RequestStep>;
      try {
        outcome = steps[i](request, reply, config);
      } catch (error) {
        return done(error as Error);
      }
      if (outcome === undefined) continue;
      if (outcome instanceof Promise) {
        outcome.then(
          (error) => (error ? done(error) : run(i + 1, request, reply, config, done)),
          (error: Error) => done(error),
        );
        return;
      }
      return done(outcome);
    }
    done();
  };
  // `request.routeOptions` builds a new object on every read: read it once for every step.
  fastify.addHook('onRequest', (request, reply, done) =>
    run(0, request, reply, request.routeOptions.config, done),
  );
}
