import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';

/** Ready only once every migration has been applied. */
@Injectable()
export class MigrationsHealthIndicator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key: string) {
    const session = this.indicators.check(key);
    const pending = await this.dataSource.showMigrations();
    return pending ? session.down({ message: 'migrations are pending' }) : session.up();
  }
}
