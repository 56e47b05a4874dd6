import Fastify from 'fastify';
import { installRequestGate, RequestStep } from './request-gate';

/** An app whose gate runs `steps`, recording their names; errors answer 418 with their message. */
function app(steps: Record<string, RequestStep>) {
  const ran: string[] = [];
  const fastify = Fastify();
  installRequestGate(
    fastify,
    Object.entries(steps).map(([name, step]): RequestStep => {
      return (request, reply, config) => {
        ran.push(name);
        return step(request, reply, config);
      };
    }),
  );
  fastify.setErrorHandler((error: Error, _request, reply) => {
    void reply.status(418).send({ error: error.message });
  });
  fastify.get('/', () => ({ ok: true }));
  return { fastify, ran };
}

const pass: RequestStep = () => undefined;

describe('request gate', () => {
  it('runs every step in order, synchronous or not, then the handler', async () => {
    const { fastify, ran } = app({
      headers: (_request, reply) => {
        void reply.header('x-step', 'headers');
        return undefined;
      },
      key: () => new Promise((resolve) => setTimeout(() => resolve(undefined), 5)),
      rate: pass,
    });
    const response = await fastify.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-step']).toBe('headers');
    expect(ran).toEqual(['headers', 'key', 'rate']);
  });

  it.each<[string, RequestStep]>([
    ['returns an error', () => new Error('refused')],
    [
      'throws',
      () => {
        throw new Error('refused');
      },
    ],
    ['resolves to an error', () => Promise.resolve(new Error('refused'))],
    ['rejects', () => Promise.reject(new Error('refused'))],
  ])('stops at a step that %s, and answers with its error', async (_how, refuse) => {
    const { fastify, ran } = app({ first: pass, refuse, never: pass });
    const response = await fastify.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(418);
    expect(response.json()).toEqual({ error: 'refused' });
    expect(ran).toEqual(['first', 'refuse']);
  });
});
