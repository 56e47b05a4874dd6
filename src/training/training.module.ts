import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig, AppConfig } from '../config/app.config';
import { DatasetsModule } from '../datasets/datasets.module';
import { HealthModule } from '../health/health.module';
import { ModelsModule } from '../models/models.module';
import { TRAINING_DISPATCHER } from './training-dispatcher';
import { TrainingExecutor } from './training-executor';
import { TrainingJob } from './training-job.entity';
import { TrainingJobsController } from './training-jobs.controller';
import { TrainingQueueDispatcher } from './training-queue';
import { TrainingRunner } from './training-runner';
import { TrainingService } from './training.service';

/**
 * The training API. Jobs run in this process (the embedded runner), or with REDIS_URL in worker
 * processes that take them from a BullMQ queue (TrainingWorkerModule).
 */
@Module({
  imports: [TypeOrmModule.forFeature([TrainingJob]), DatasetsModule, ModelsModule, HealthModule],
  controllers: [TrainingJobsController],
  providers: [
    TrainingService,
    TrainingExecutor,
    TrainingRunner,
    TrainingQueueDispatcher,
    {
      provide: TRAINING_DISPATCHER,
      inject: [appConfig.KEY, TrainingRunner, TrainingQueueDispatcher],
      useFactory: (config: AppConfig, runner: TrainingRunner, queue: TrainingQueueDispatcher) =>
        config.redis ? queue : runner,
    },
  ],
})
export class TrainingModule {}
