import { toIndicatorResult } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

import { DEFAULT_MONGO_POOL_NAME } from './mongo-pool.constants.js';
import { MongoPoolService } from './mongo-pool.service.js';

/** Options of {@link MongoPoolHealthIndicator.isHealthy}. */
export interface MongoPoolHealthCheckOptions {
  /**
   * Pool to check.
   * @default 'default'
   */
  name?: string;
}

/**
 * Terminus health indicator of a MongoDB pool: a `ping` through the pool, bounded by the pool's
 * `healthTimeoutMS`, shared by concurrent probes and cached briefly. Reports latency and pool
 * counts; `down` while the pool is connecting, disconnected or closed. Never throws.
 *
 * @example
 * ```ts
 * @Get('ready')
 * @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.mongo.isHealthy('mongodb')]);
 * }
 * ```
 */
@Injectable()
export class MongoPoolHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly pools: MongoPoolService,
  ) {}

  /**
   * Checks the pool and returns a Terminus result under `key`.
   *
   * @param key key of the result in the health response
   */
  async isHealthy<const Key extends string>(
    key: Key,
    options: MongoPoolHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const name = options.name ?? DEFAULT_MONGO_POOL_NAME;
    let pool;
    try {
      pool = this.pools.getPool(name);
    } catch (error) {
      return this.indicator
        .check(key)
        .down({ pool: name, message: error instanceof Error ? error.message : String(error) });
    }
    const outcome = await pool.checkHealth();
    // Counts as of the ping when it succeeded, else as of now (a failed ping has no details).
    const details = outcome.details ?? pool.healthDetails();
    return toIndicatorResult(this.indicator, key, outcome, { pool: name, ...details });
  }
}
