import { Module } from '@nestjs/common';
import { ClusterModule } from './cluster/cluster.module';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { StorageModule } from './storage/storage.module';
import { QueueConsumerModule } from './training/queue-consumer.module';

/** The worker process (`npm run start:worker`): the API's database, storage and Redis, no HTTP API. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    StorageModule,
    ClusterModule,
    MetricsModule,
    HealthModule,
    QueueConsumerModule,
  ],
})
export class WorkerProcessModule {}
