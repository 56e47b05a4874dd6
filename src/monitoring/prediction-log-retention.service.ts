import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { MonitoringSettingsService } from './monitoring-settings.service';
import { PredictionLogRepository } from './prediction-log.repository';

/** How often old entries go; a model may hold a minute's entries beyond its limits. */
const RETENTION_INTERVAL_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionRun {
  deletedByAge: number;
  deletedByCount: number;
}

/**
 * Keeps each model's log within its settings: entries older than maxAgeDays go, then those beyond
 * the newest maxRows. Runs at start and every minute on every replica (deleting is idempotent), a
 * few indexed statements per model, each DELETE bounded so that writers are not held up.
 */
@Injectable()
export class PredictionLogRetentionService
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('PredictionLogRetention');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionRun> | null = null;

  constructor(
    private readonly settings: MonitoringSettingsService,
    private readonly repository: PredictionLogRepository,
  ) {}

  onApplicationBootstrap(): void {
    void this.runLogged();
    this.timer = setInterval(() => void this.runLogged(), RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over every model; a pass already under way is joined, not doubled. */
  run(now = new Date()): Promise<RetentionRun> {
    this.running ??= this.pass(now).finally(() => (this.running = null));
    return this.running;
  }

  private async runLogged(): Promise<void> {
    try {
      const { deletedByAge, deletedByCount } = await this.run();
      if (deletedByAge + deletedByCount > 0) {
        this.logger.log(
          `prediction log retention removed ${deletedByAge} entries by age and ${deletedByCount} by count`,
        );
      }
    } catch (error) {
      this.logger.warn(`prediction log retention failed: ${String(error)}`);
    }
  }

  private async pass(now: Date): Promise<RetentionRun> {
    const run: RetentionRun = { deletedByAge: 0, deletedByCount: 0 };
    for (const { modelId, settings } of await this.settings.all()) {
      const cutoff = new Date(now.getTime() - settings.maxAgeDays * DAY_MS);
      run.deletedByAge += await this.repository.deleteOlderThan(modelId, cutoff);
      run.deletedByCount += await this.repository.deleteBeyond(modelId, settings.maxRows);
    }
    return run;
  }
}
