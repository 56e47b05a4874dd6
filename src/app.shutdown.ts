import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from './config/app.config';
import { ReadinessService } from './health/readiness.service';

/** Time given to the last steps (training hand-back, database close) after the grace period. */
const FINAL_STEPS_MS = 5_000;

/**
 * Graceful shutdown on SIGTERM or SIGINT, in the order a rolling update needs:
 * 1. readiness turns 503 at once, so the load balancer stops sending new requests;
 * 2. after SHUTDOWN_DRAIN_DELAY_MS (time for endpoints to update), the server stops accepting
 *    connections and waits for in-flight requests, up to SHUTDOWN_GRACE_MS, then closes the rest;
 * 3. Nest's shutdown: running training jobs go back to the queue, the database closes.
 * Replaces Nest's enableShutdownHooks, which closes the HTTP server only after the modules.
 */
export function installGracefulShutdown(app: NestFastifyApplication, config: AppConfig): void {
  const logger = new Logger('Shutdown');
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const readiness = app.get(ReadinessService);
  let started = false;

  const shutdown = async (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    const { graceMs, drainDelayMs } = config.shutdown;
    const begun = Date.now();
    readiness.beginShutdown();
    logger.log(
      `${signal}: readiness is 503; draining for ${drainDelayMs} ms, then up to ${graceMs} ms for in-flight requests`,
    );
    // Whatever happens, the process ends: a stuck step must not outlive Kubernetes' grace period.
    setTimeout(
      () => {
        logger.error(`shutdown did not finish within ${graceMs + FINAL_STEPS_MS} ms; exiting`);
        process.exit(1);
      },
      drainDelayMs + graceMs + FINAL_STEPS_MS,
    ).unref();
    await sleep(drainDelayMs);
    const force = setTimeout(() => {
      logger.warn(`requests still in flight after ${graceMs} ms; closing their connections`);
      fastify.server.closeAllConnections();
    }, graceMs);
    force.unref();
    // close() drops the connections idle at that moment; keep-alive connections whose request
    // finishes later become idle afterwards and would hold the server open until the grace ends.
    const idle = setInterval(() => fastify.server.closeIdleConnections(), 50);
    await fastify.close();
    clearTimeout(force);
    clearInterval(idle);
    await app.close();
    logger.log(`stopped cleanly in ${Date.now() - begun} ms`);
    process.exit(0);
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, (received) => {
      shutdown(received).catch((error: unknown) => {
        logger.error(`shutdown failed: ${error instanceof Error ? error.stack : String(error)}`);
        process.exit(1);
      });
    });
  }
}
