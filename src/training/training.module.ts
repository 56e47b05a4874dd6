import { Module } from '@nestjs/common';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ClusterEventsService } from '../cluster/cluster-events.service';
import { RedisService } from '../cluster/redis.service';
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
    {
      // One instance, made here: Nest runs the lifecycle hooks of every provider instance, so the
      // unused dispatcher must not exist (the runner's start-up would mark workers' jobs failed).
      provide: TRAINING_DISPATCHER,
      inject: [
        appConfig.KEY,
        getRepositoryToken(TrainingJob),
        TrainingExecutor,
        RedisService,
        ClusterEventsService,
      ],
      useFactory: (
        config: AppConfig,
        jobs: Repository<TrainingJob>,
        executor: TrainingExecutor,
        redis: RedisService,
        cluster: ClusterEventsService,
      ) =>
        config.redis
          ? new TrainingQueueDispatcher(redis, cluster)
          : new TrainingRunner(jobs, executor, config),
    },
  ],
})
export class TrainingModule {}
