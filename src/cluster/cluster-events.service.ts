import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisService } from './redis.service';

/** What one process tells the others; each topic's payload is small JSON. */
export interface ClusterTopics {
  /** A committed change to a model's versions or aliases: re-resolve what it serves. */
  'registry.changed': { model: string };
  /** A key was revoked: forget it at once. */
  'api-keys.revoked': { prefix: string };
  /** A training job was cancelled: stop it wherever it runs. */
  'training.cancelled': { jobId: string };
}
export type ClusterTopic = keyof ClusterTopics;
type Handler<T extends ClusterTopic> = (payload: ClusterTopics[T]) => void | Promise<void>;

/**
 * Tells the other API replicas and workers about a change made here, over Redis pub/sub. The
 * process that made the change has already acted on it, so a process never hears its own
 * messages. Without Redis there are no other processes and publishing does nothing.
 *
 * Pub/sub delivers at most once: every subscriber also re-checks the database periodically
 * (CLUSTER_RECHECK_MS), so a message lost in a Redis outage delays a change but never loses it.
 */
@Injectable()
export class ClusterEventsService implements OnModuleDestroy {
  private readonly logger = new Logger('ClusterEvents');
  private readonly origin = randomUUID();
  private readonly handlers = new Map<string, Handler<ClusterTopic>[]>();
  private subscriber: Redis | undefined;

  constructor(private readonly redis: RedisService) {}

  get distributed(): boolean {
    return this.redis.enabled;
  }

  async publish<T extends ClusterTopic>(topic: T, payload: ClusterTopics[T]): Promise<void> {
    if (!this.redis.enabled) return;
    try {
      await this.redis
        .client()
        .publish(this.channel(topic), JSON.stringify({ origin: this.origin, payload }));
    } catch (error) {
      // The periodic re-check still carries the change; the request that made it succeeded.
      this.logger.warn(`could not publish ${topic}: ${String(error)}`);
    }
  }

  subscribe<T extends ClusterTopic>(topic: T, handler: Handler<T>): void {
    if (!this.redis.enabled) return;
    const channel = this.channel(topic);
    const list = this.handlers.get(channel) ?? [];
    list.push(handler as Handler<ClusterTopic>);
    this.handlers.set(channel, list);
    const subscriber = this.listen();
    if (list.length === 1) {
      subscriber
        .subscribe(channel)
        .catch((error: unknown) => this.logger.warn(`subscribing to ${channel}: ${String(error)}`));
    }
  }

  private channel(topic: ClusterTopic): string {
    return `${this.redis.keyPrefix}:${topic}`;
  }

  private listen(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.open('subscriber', { subscriber: true });
    subscriber.on('message', (channel: string, text: string) => {
      let message: { origin?: string; payload?: unknown };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        return;
      }
      if (message.origin === this.origin) return;
      for (const handler of this.handlers.get(channel) ?? []) {
        Promise.resolve(handler(message.payload as never)).catch((error: unknown) =>
          this.logger.warn(`handling ${channel}: ${String(error)}`),
        );
      }
    });
    this.subscriber = subscriber;
    return subscriber;
  }

  onModuleDestroy(): void {
    this.handlers.clear();
  }
}
