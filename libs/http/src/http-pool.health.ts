import { toIndicatorResult } from '@nest-pools/core';
import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

import { DEFAULT_HTTP_POOL_NAME } from './http-pool.constants.js';
import { HttpPoolService } from './http-pool.service.js';

/** Options of {@link HttpPoolHealthIndicator.isHealthy}. */
export interface HttpPoolHealthOptions {
  /**
   * Client to check.
   * @default 'default'
   */
  name?: string;
  /**
   * Report `degraded` instead of `down` when the check fails (an upstream the app can live
   * without).
   * @default false
   */
  optional?: boolean;
}

/**
 * Terminus indicator of a pooled HTTP client. With the client's `healthUrl` it requests that URL
 * (GET, not retried, `healthTimeoutMs`); without it, it reports the pool itself: `degraded` when
 * the recent error ratio is high. Never throws; concurrent probes share one check, cached 1 s.
 *
 * @example
 * ```ts
 * @Get('ready')
 * @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.http.isHealthy('github', { name: 'github' })]);
 * }
 * ```
 */
@Injectable()
export class HttpPoolHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly pools: HttpPoolService,
  ) {}

  /** Checks client `options.name` and reports it under `key`. */
  async isHealthy<const Key extends string>(
    key: Key,
    options: HttpPoolHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const name = options.name ?? DEFAULT_HTTP_POOL_NAME;
    let client;
    try {
      client = this.pools.getClient(name);
    } catch (error) {
      return toIndicatorResult(this.indicator, key, {
        status: options.optional ? 'degraded' : 'down',
        latencyMs: 0,
        checkedAt: Date.now(),
        error: `No HTTP pool named "${name}" is registered: ${String(error)}`,
      });
    }
    const outcome = await client.checkHealth();
    const status = outcome.status === 'down' && options.optional ? 'degraded' : outcome.status;
    const { stats, ...details } = outcome.details ?? { stats: client.stats() };
    return toIndicatorResult(
      this.indicator,
      key,
      { ...outcome, status },
      {
        ...details,
        optional: options.optional ?? false,
        pool: {
          limit: stats.limit,
          limitPerHost: stats.limitPerHost,
          connections: stats.connections,
          acquired: stats.acquired,
          pending: stats.pending,
          recent: stats.recent,
        },
      },
    );
  }
}
