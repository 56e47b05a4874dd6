import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { RedisService } from '../cluster/redis.service';
import { OBJECT_STORAGE, ObjectStorage } from '../storage/object-storage';
import { MigrationsHealthIndicator } from './migrations.health';

/**
 * Ready to take traffic: the database answers, every migration is applied, Redis answers (when
 * REDIS_URL is set), the object store's bucket answers (OBJECT_STORE=s3), the service is not
 * shedding load and not shutting down.
 */
@Injectable()
export class ReadinessService {
  private pressure: () => string | null = () => null;
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly migrations: MigrationsHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisService,
    @Inject(OBJECT_STORAGE) private readonly storage: ObjectStorage,
  ) {}

  /** Where overload protection says why it sheds requests (null: it does not). */
  watchPressure(pressure: () => string | null): void {
    this.pressure = pressure;
  }

  /** From now on readiness is 503, so load balancers stop sending traffic before the server stops. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Terminus' report; rejects with a ServiceUnavailableException naming the failed check. */
  check(): Promise<HealthCheckResult> {
    if (this.shuttingDown) {
      // No database round trip: answer 503 at once while in-flight requests finish.
      const down = this.indicators
        .check('shutdown')
        .down({ message: 'the service is shutting down' });
      return Promise.reject(
        new ServiceUnavailableException({ status: 'error', info: {}, error: down, details: down }),
      );
    }
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 1000 }),
      () => this.migrations.check('migrations'),
      ...(this.redis.enabled ? [() => this.redisCheck()] : []),
      ...(this.storage.probe ? [() => this.storageCheck()] : []),
      () => {
        const reason = this.pressure();
        const session = this.indicators.check('load');
        return reason ? session.down({ message: reason }) : session.up();
      },
    ]);
  }

  /** Datasets, training and a model not yet loaded all need the bucket. */
  private async storageCheck() {
    const session = this.indicators.check('objectStore');
    try {
      await this.storage.probe!();
      return session.up();
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }

  private async redisCheck() {
    const session = this.indicators.check('redis');
    try {
      await this.redis.ping();
      return session.up();
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
