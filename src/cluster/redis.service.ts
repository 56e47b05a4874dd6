import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { withTimeout } from '../common/with-timeout';
import { appConfig, AppConfig, redactUrl } from '../config/app.config';

/**
 * The Redis connections of this process when REDIS_URL is set (none otherwise): one for commands
 * (counters, publishing, BullMQ's queue) and one held by subscriptions, as Redis requires.
 */
@Injectable()
export class RedisService implements OnModuleDestroy {
  private readonly logger = new Logger('Redis');
  private readonly url: string | undefined;
  private readonly opened: Redis[] = [];
  private commands: Redis | undefined;
  /** REDIS_KEY_PREFIX: the queue, channels and counters of this deployment (several may share a Redis). */
  readonly keyPrefix: string;

  constructor(@Inject(appConfig.KEY) config: AppConfig) {
    this.url = config.redis?.url;
    this.keyPrefix = config.redis?.keyPrefix ?? 'modeldock';
  }

  get enabled(): boolean {
    return this.url !== undefined;
  }

  /**
   * The shared command connection (rate-limit counters, publishing, enqueueing). It fails fast
   * while Redis is away, rather than queue commands until it is back: a request must not wait on
   * Redis (rate limits let it through, a job is enqueued later by the workers' reconciliation).
   */
  client(): Redis {
    this.commands ??= this.open('commands', { failFast: true });
    return this.commands;
  }

  /**
   * A new connection of its own (a subscriber, or BullMQ's blocking worker connection).
   * `maxRetriesPerRequest: null` is what a BullMQ worker requires: commands wait for a reconnect.
   */
  open(purpose: string, { subscriber = false, failFast = false } = {}): Redis {
    if (!this.url) throw new Error('REDIS_URL is not set');
    const connection = new Redis(this.url, {
      ...(failFast
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1000 }
        : { maxRetriesPerRequest: null }),
      // The ready check sends INFO, which a connection already subscribing may not send.
      enableReadyCheck: !subscriber,
    });
    // ioredis reconnects on its own; say so once per outage, without the password.
    let down = false;
    connection.on('error', (error: Error) => {
      if (down) return;
      down = true;
      this.logger.warn(`${purpose} connection to ${redactUrl(this.url ?? '')}: ${error.message}`);
    });
    connection.on('ready', () => {
      if (down) this.logger.log(`${purpose} connection to Redis is back`);
      down = false;
    });
    this.opened.push(connection);
    return connection;
  }

  /** Round trip for readiness: resolves when Redis answers PING. */
  async ping(): Promise<void> {
    await withTimeout(this.client().ping(), 1000, 'PING');
  }

  /** QUIT lets replies in flight arrive; a connection that never came up is just dropped. */
  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(
      this.opened.map((connection) =>
        withTimeout(connection.quit(), 1000, 'QUIT').catch(() => connection.disconnect()),
      ),
    );
  }
}
