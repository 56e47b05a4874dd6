import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module';
import { ModelsModule } from '../models/models.module';
import { DriftMonitor } from './drift-monitor.service';
import { DriftThread } from './drift-thread';
import { DriftController } from './drift.controller';
import { DriftService } from './drift.service';
import { PredictionLogReader } from './prediction-log.reader';
import { ReferenceStore } from './reference-store';

/** Reference profiles and drift: the endpoint, and the gauges Prometheus alerts on. */
@Module({
  imports: [ModelsModule, DatasetsModule],
  controllers: [DriftController],
  providers: [DriftService, DriftMonitor, DriftThread, PredictionLogReader, ReferenceStore],
})
export class DriftModule {}
