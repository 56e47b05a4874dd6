import { LoggerService } from '@nestjs/common';
import type { Logger as Pino } from 'pino';

/**
 * Nest's start-up chatter: a line per module loaded and per route mapped (about 70 lines), which
 * buried the lines a newcomer needs (where the admin key is, where the service listens).
 */
const START_UP_CONTEXTS = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/** Nest's logger on top of Fastify's pino, so every log line is one JSON object. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly pino: Pino) {}

  log(message: unknown, context?: string): void {
    if (context !== undefined && START_UP_CONTEXTS.has(context)) {
      this.pino.debug({ context }, String(message));
    } else {
      this.pino.info({ context }, String(message));
    }
  }

  error(message: unknown, traceOrContext?: string, context?: string): void {
    // Nest passes (message, stack, context) or (message, context).
    if (context) this.pino.error({ context, stack: traceOrContext }, String(message));
    else this.pino.error({ context: traceOrContext }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }

  fatal(message: unknown, context?: string): void {
    this.pino.fatal({ context }, String(message));
  }
}
