import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

import { RedisPoolHealthIndicator } from './redis-pool.health.js';
import { RedisPoolService } from './redis-pool.service.js';

/**
 * Shared by every `RedisPoolModule` instance of an application (a static module is created once),
 * so `RedisPoolService` and `RedisPoolHealthIndicator` see all named pools.
 */
@Module({
  providers: [RedisPoolService, RedisPoolHealthIndicator, HealthIndicatorService],
  exports: [RedisPoolService, RedisPoolHealthIndicator],
})
export class RedisPoolRegistryModule {}
