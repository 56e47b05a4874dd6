import { Module } from '@nestjs/common';
import { ClusterModule } from './cluster/cluster.module';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { StorageModule } from './storage/storage.module';
import { TrainingWorkerModule } from './training/training-worker.module';

/** A training worker process (`npm run start:worker`): the same database, storage and Redis. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    StorageModule,
    ClusterModule,
    MetricsModule,
    HealthModule,
    TrainingWorkerModule,
  ],
})
export class WorkerModule {}
