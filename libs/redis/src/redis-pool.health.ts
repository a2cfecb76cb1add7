import { toIndicatorResult } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

import type { RedisPoolHealthOptions } from './interfaces/redis-pool-options.interface.js';
import { DEFAULT_REDIS_POOL_NAME } from './redis-pool.constants.js';
import { RedisPoolService } from './redis-pool.service.js';

/**
 * Terminus health indicator of the Redis pools: PING (plus, on request, INFO fields; always
 * `cluster_state` for a Cluster) behind a timeout, with latency and pool figures. Answers within
 * the timeout even when Redis is down or blackholed, shares one PING between concurrent probes,
 * and never throws: a failure is a `down` result.
 *
 * @example
 * @Get('ready')
 * @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.redis.isHealthy('redis', { timeoutMs: 500 })]);
 * }
 */
@Injectable()
export class RedisPoolHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly pools: RedisPoolService,
  ) {}

  /**
   * Checks one pool.
   * @param key Key of the result in the health report.
   * @param options Pool name, timeout, INFO fields.
   */
  async isHealthy<const Key extends string>(
    key: Key,
    options: RedisPoolHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const name = options.name ?? DEFAULT_REDIS_POOL_NAME;
    let instance;
    try {
      instance = this.pools.get(name);
    } catch (err) {
      return this.indicator
        .check(key)
        .down({ pool: name, message: err instanceof Error ? err.message : String(err) });
    }
    const outcome = await instance.checkHealth(options.timeoutMs, options.info ?? false);
    const stats = instance.stats();
    return toIndicatorResult(this.indicator, key, outcome, {
      ...outcome.details,
      pool: name,
      topology: stats.topology,
      clientStatus: stats.main.status,
      reconnects: stats.main.reconnects,
      dedicated: {
        created: stats.created,
        available: stats.available,
        inUse: stats.inUse,
        pending: stats.pending,
        max: stats.max,
      },
    });
  }
}
