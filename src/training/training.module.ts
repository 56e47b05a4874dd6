import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetsModule } from '../datasets/datasets.module';
import { HealthModule } from '../health/health.module';
import { ModelsModule } from '../models/models.module';
import { TrainingJob } from './training-job.entity';
import { TrainingJobsController } from './training-jobs.controller';
import { TrainingRunner } from './training-runner';
import { TrainingService } from './training.service';

@Module({
  imports: [TypeOrmModule.forFeature([TrainingJob]), DatasetsModule, ModelsModule, HealthModule],
  controllers: [TrainingJobsController],
  providers: [TrainingService, TrainingRunner],
})
export class TrainingModule {}
