import Fastify, { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { MetricsService } from '../metrics/metrics.service';
import { AccessLogOptions, accessLineRate, installAccessLog } from './access-log';
import { applyRoutePolicies } from './route-policy';

const LIMITS = { default: 1000, dataset: 1000, predict: 1000, model: 1000 };

/** An app with a predict-class route and a management one, its access lines collected. */
function app(options: AccessLogOptions, level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const observed: string[] = [];
  const metrics = {
    observeHttpRequest: (method: string, route: string, status: number) =>
      observed.push(`${method} ${route} ${status}`),
  } as unknown as MetricsService;
  const fastify: FastifyInstance = Fastify();
  applyRoutePolicies(fastify, LIMITS);
  installAccessLog(fastify, pino({ level }, sink), metrics, options);
  fastify.post('/v1/models/:name/predict', { config: { routeClass: 'predict' } }, (request) => {
    const { fail } = request.query as { fail?: string };
    if (fail) throw Object.assign(new Error('bad'), { statusCode: 400 });
    return { predictions: [1] };
  });
  fastify.get('/v1/models', () => ({ items: [] }));
  return { fastify, lines, observed };
}

async function send(fastify: FastifyInstance, times: number, url: string, method = 'POST') {
  for (let i = 0; i < times; i++) {
    await fastify.inject({ method: method as 'POST', url, payload: method === 'POST' ? {} : '' });
  }
}

describe('access log', () => {
  it('logs every error and slow request, and successful fast ones at the sample rate', () => {
    const options = { predictionSampleRate: 0.01, slowMs: 250 };
    expect(accessLineRate(true, 200, 3, options)).toBe(0.01);
    expect(accessLineRate(true, 400, 3, options)).toBe(1);
    expect(accessLineRate(true, 503, 3, options)).toBe(1);
    expect(accessLineRate(true, 200, 250, options)).toBe(1);
    expect(accessLineRate(false, 200, 3, options)).toBe(1);
  });

  it('writes no line for a fast successful prediction at rate 0, every other one all the same', async () => {
    const { fastify, lines, observed } = app({ predictionSampleRate: 0, slowMs: 250 });
    await send(fastify, 20, '/v1/models/m/predict');
    await send(fastify, 3, '/v1/models/m/predict?fail=1');
    await send(fastify, 2, '/v1/models', 'GET');
    expect(lines.map((line) => `${String(line.route)} ${String(line.statusCode)}`)).toEqual([
      ...Array(3).fill('/v1/models/:name/predict 400'),
      ...Array(2).fill('/v1/models 200'),
    ]);
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      method: 'POST',
      reqId: expect.any(String),
    });
    expect(lines[0]).not.toHaveProperty('sampleRate');
    // Metrics see every request, logged or not.
    expect(observed).toHaveLength(25);
  });

  it('samples successful predictions, each sampled line saying its rate', async () => {
    const { fastify, lines } = app({ predictionSampleRate: 0.25, slowMs: 250 });
    await send(fastify, 400, '/v1/models/m/predict');
    // Binomial(400, 0.25): mean 100, standard deviation 8.7; 60..140 is beyond 4.5 of them.
    expect(lines.length).toBeGreaterThan(60);
    expect(lines.length).toBeLessThan(140);
    expect(lines.every((line) => line.sampleRate === 0.25)).toBe(true);
  });

  it('logs every prediction at rate 1, and a slow one whatever the rate', async () => {
    const every = app({ predictionSampleRate: 1, slowMs: 250 });
    await send(every.fastify, 10, '/v1/models/m/predict');
    expect(every.lines).toHaveLength(10);
    expect(every.lines[0]).not.toHaveProperty('sampleRate');

    const slow = app({ predictionSampleRate: 0, slowMs: 0 });
    await send(slow.fastify, 4, '/v1/models/m/predict');
    expect(slow.lines).toHaveLength(4);
  });

  it('writes nothing above info, and still counts', async () => {
    const { fastify, lines, observed } = app({ predictionSampleRate: 1, slowMs: 250 }, 'warn');
    await send(fastify, 3, '/v1/models', 'GET');
    expect(lines).toHaveLength(0);
    expect(observed).toHaveLength(3);
  });
});
