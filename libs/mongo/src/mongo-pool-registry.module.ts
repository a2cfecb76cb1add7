import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

import { MongoPoolHealthIndicator } from './mongo-pool.health.js';
import { MongoPoolService } from './mongo-pool.service.js';

/**
 * Shared by every `MongoPoolModule` import of an application (a static module is created once),
 * so `MongoPoolService` and `MongoPoolHealthIndicator` see all named pools.
 */
@Module({
  providers: [MongoPoolService, MongoPoolHealthIndicator, HealthIndicatorService],
  exports: [MongoPoolService, MongoPoolHealthIndicator],
})
export class MongoPoolRegistryModule {}
