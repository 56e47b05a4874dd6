import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module';
import { ModelsModule } from '../models/models.module';
import { LoadedModelsService } from './loaded-models.service';
import { OpenInferenceController } from './open-inference.controller';
import { PredictionService } from './prediction.service';
import { ServingRoutes } from './serving.routes';

@Module({
  imports: [ModelsModule, HealthModule],
  controllers: [OpenInferenceController],
  providers: [LoadedModelsService, PredictionService, ServingRoutes],
})
export class PredictionModule {}
