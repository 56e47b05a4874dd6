import { Global, Module } from '@nestjs/common';
import { ClusterEventsService } from './cluster-events.service';
import { RedisService } from './redis.service';

/** Redis connections and the messages between replicas and workers (nothing without REDIS_URL). */
@Global()
@Module({
  providers: [RedisService, ClusterEventsService],
  exports: [RedisService, ClusterEventsService],
})
export class ClusterModule {}
