import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { PredictionController } from './prediction.controller';
import { PredictionService } from './prediction.service';

@Module({
  imports: [ModelsModule],
  controllers: [PredictionController],
  providers: [PredictionService],
})
export class PredictionModule {}
