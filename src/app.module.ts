import { Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { ClusterModule } from './cluster/cluster.module';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DatasetsModule } from './datasets/datasets.module';
import { DriftModule } from './drift/drift.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { ModelsModule } from './models/models.module';
import { MonitoringModule } from './monitoring/monitoring.module';
import { PredictionModule } from './prediction/prediction.module';
import { StorageModule } from './storage/storage.module';
import { TrainingModule } from './training/training.module';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    StorageModule,
    ClusterModule,
    AuthModule,
    MetricsModule,
    HealthModule,
    DatasetsModule,
    ModelsModule,
    TrainingModule,
    PredictionModule,
    MonitoringModule,
    DriftModule,
  ],
})
export class AppModule {}
