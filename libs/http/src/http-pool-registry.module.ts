import { PoolMetricsModule } from '@nest-pools/core';
import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

import { HttpPoolHealthIndicator } from './http-pool.health.js';
import { HttpPoolService } from './http-pool.service.js';

/**
 * Shared by every `HttpPoolModule` import of an application (a static module is created once),
 * so `HttpPoolService` and `HttpPoolHealthIndicator` see all named clients.
 */
@Module({
  imports: [PoolMetricsModule],
  providers: [HttpPoolService, HttpPoolHealthIndicator, HealthIndicatorService],
  exports: [HttpPoolService, HttpPoolHealthIndicator],
})
export class HttpPoolRegistryModule {}
