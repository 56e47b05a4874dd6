// The worker process: `npm run start:worker` (needs REDIS_URL and a shared DATABASE_URL). Its queue
// consumer runs training jobs in training threads; it serves only probes and /metrics.
import 'reflect-metadata';
import { ServiceUnavailableException } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Fastify from 'fastify';
import pino from 'pino';
import { appConfig, ConfigError } from './config/app.config';
import { exitOnStartupFailure } from './common/startup-failure';
import { PinoLoggerService } from './common/pino-logger.service';
import { ReadinessService } from './health/readiness.service';
import { MetricsService } from './metrics/metrics.service';
import { WorkerProcessModule } from './worker-process.module';

async function bootstrap(): Promise<void> {
  const config = appConfig();
  if (!config.redis) {
    throw new ConfigError(
      'A worker process takes jobs from Redis: set REDIS_URL (and DATABASE_URL to the API processes’ database).',
    );
  }
  const log = pino({ level: config.logLevel, base: { pid: process.pid, role: 'worker' } });
  // No HTTP API here: an application context, plus a small server for probes and metrics.
  const app = await NestFactory.createApplicationContext(WorkerProcessModule, {
    logger: new PinoLoggerService(log),
  });
  const readiness = app.get(ReadinessService);
  const metrics = app.get(MetricsService);
  const server = Fastify({ logger: false });
  server.get('/health/live', () => ({ status: 'ok' }));
  server.get('/health/ready', async (_request, reply) => {
    try {
      return await readiness.check();
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      return reply.status(503).send(error.getResponse());
    }
  });
  server.get('/metrics', async (_request, reply) =>
    reply.header('content-type', metrics.contentType).send(await metrics.render()),
  );
  await app.init();
  await server.listen({ port: config.port, host: config.host });
  log.info(
    { port: config.port },
    `ModelDock worker process ready (probes and /metrics on :${config.port})`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker process stopping: running jobs go back to the queue');
    readiness.beginShutdown();
    const hardExit = setTimeout(() => process.exit(1), config.shutdown.graceMs + 5000);
    hardExit.unref();
    void (async () => {
      await server.close();
      await app.close();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

bootstrap().catch(exitOnStartupFailure('modeldock worker'));
