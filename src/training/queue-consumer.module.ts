import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetsModule } from '../datasets/datasets.module';
import { ModelsModule } from '../models/models.module';
import { TrainingExecutor } from './training-executor';
import { TrainingJob } from './training-job.entity';
import { TrainingQueueWorker } from './training-queue.worker';

/** What a worker process runs: the queue consumer and the executor, no HTTP API. */
@Module({
  imports: [TypeOrmModule.forFeature([TrainingJob]), DatasetsModule, ModelsModule],
  providers: [TrainingExecutor, TrainingQueueWorker],
})
export class TrainingWorkerModule {}
