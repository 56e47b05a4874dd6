import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { ModelsModule } from '../models/models.module';
import { MonitoringModule } from '../monitoring/monitoring.module';
import { LoadedModelsService } from './loaded-models.service';
import { OpenInferenceController } from './open-inference.controller';
import { PredictionService } from './prediction.service';
import { ServingRoutes } from './serving.routes';
import { ShadowController } from './shadow.controller';
import { ShadowTrafficService } from './shadow-traffic.service';

@Module({
  imports: [ModelsModule, HealthModule, MonitoringModule],
  controllers: [OpenInferenceController, ShadowController],
  providers: [LoadedModelsService, PredictionService, ServingRoutes, ShadowTrafficService],
  exports: [ShadowTrafficService],
})
export class PredictionModule {}
