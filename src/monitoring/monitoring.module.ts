import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ModelsModule } from '../models/models.module';
import { RegisteredModel } from '../models/registered-model.entity';
import { MonitoringSettingsService } from './monitoring-settings.service';
import { MonitoringController } from './monitoring.controller';
import { PredictionLogEntry } from './prediction-log.entity';
import { PredictionLogRepository } from './prediction-log.repository';
import { PredictionLogRetentionService } from './prediction-log-retention.service';
import { PredictionLogService } from './prediction-log.service';

/**
 * The prediction log and its settings. The settings live on the registry's model row
 * (`registered_models.monitoring`), written here with the registry's audit event.
 */
@Module({
  imports: [TypeOrmModule.forFeature([PredictionLogEntry, RegisteredModel]), ModelsModule],
  controllers: [MonitoringController],
  providers: [
    MonitoringSettingsService,
    PredictionLogRepository,
    PredictionLogService,
    PredictionLogRetentionService,
  ],
  exports: [PredictionLogService, MonitoringSettingsService],
})
export class MonitoringModule {}
