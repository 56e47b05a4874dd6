import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatasetsModule } from '../datasets/datasets.module';
import { ModelsModule } from '../models/models.module';
import { QueueConsumer } from './queue-consumer';
import { ThreadExecutor } from './thread-executor';
import { TrainingJob } from './training-job.entity';
import { TrainingJobsRepository } from './training-jobs.repository';

/** What a worker process runs of training: the queue consumer and its training threads, no HTTP API. */
@Module({
  imports: [TypeOrmModule.forFeature([TrainingJob]), DatasetsModule, ModelsModule],
  providers: [TrainingJobsRepository, ThreadExecutor, QueueConsumer],
})
export class QueueConsumerModule {}
