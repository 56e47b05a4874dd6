import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { RedisService } from '../cluster/redis.service';
import { appConfig, AppConfig } from '../config/app.config';
import { DatasetsModule } from '../datasets/datasets.module';
import { HealthModule } from '../health/health.module';
import { ModelsModule } from '../models/models.module';
import { AlgorithmsController } from './algorithms.controller';
import { EmbeddedRunner } from './embedded-runner';
import { JOB_DISPATCHER } from './job-dispatcher';
import { QueueDispatcher } from './queue-dispatcher';
import { ThreadExecutor } from './thread-executor';
import { TrainingJob } from './training-job.entity';
import { TrainingJobsController } from './training-jobs.controller';
import { TrainingJobsRepository } from './training-jobs.repository';
import { TrainingService } from './training.service';

/**
 * The training API. Jobs run in this process (the embedded runner), or with REDIS_URL in worker
 * processes whose queue consumers take them from a BullMQ queue (QueueConsumerModule).
 */
@Module({
  imports: [TypeOrmModule.forFeature([TrainingJob]), DatasetsModule, ModelsModule, HealthModule],
  controllers: [TrainingJobsController, AlgorithmsController],
  providers: [
    TrainingService,
    TrainingJobsRepository,
    ThreadExecutor,
    {
      // One instance, made here: Nest runs the lifecycle hooks of every provider instance, so the
      // unused dispatcher must not exist (the runner's start-up would mark worker processes' jobs
      // failed).
      provide: JOB_DISPATCHER,
      inject: [
        appConfig.KEY,
        TrainingJobsRepository,
        ThreadExecutor,
        RedisService,
        ClusterEventsService,
      ],
      useFactory: (
        config: AppConfig,
        jobs: TrainingJobsRepository,
        executor: ThreadExecutor,
        redis: RedisService,
        cluster: ClusterEventsService,
      ) =>
        config.redis
          ? new QueueDispatcher(redis, cluster)
          : new EmbeddedRunner(jobs, executor, config),
    },
  ],
})
export class TrainingModule {}
