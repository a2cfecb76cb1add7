import { monitorEventLoopDelay } from 'node:perf_hooks';

import {
  MongoPoolHealthIndicator,
  MongoPoolModule,
  type MongoPoolModuleOptions,
  MongoPoolService,
} from '@nest-pools/mongo';
import type { DynamicModule, ForwardReference, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';

type Import = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

/** One testing module with one pool, and handles on what the suites look at. */
export interface PoolApp {
  app: TestingModule;
  pools: MongoPoolService;
  health: MongoPoolHealthIndicator;
  pool: ReturnType<MongoPoolService['getPool']>;
  close(): Promise<void>;
}

/** Boots a testing module with `MongoPoolModule.forRoot(options)` (plus `imports`). */
export async function bootPool(
  options: MongoPoolModuleOptions & { name?: string },
  imports: Import[] = [],
): Promise<PoolApp> {
  const app = await Test.createTestingModule({
    imports: [MongoPoolModule.forRoot(options), ...imports],
  }).compile();
  await app.init();
  const pools = app.get(MongoPoolService);
  return {
    app,
    pools,
    health: app.get(MongoPoolHealthIndicator),
    pool: pools.getPool(options.name),
    close: () => app.close(),
  };
}

/** Status of the `mongodb` key of a health result. */
export async function healthStatus(health: MongoPoolHealthIndicator, name?: string) {
  const result = await health.isHealthy('mongodb', name === undefined ? {} : { name });
  return result.mongodb as { status: string; latencyMs: number; message?: string } & Record<
    string,
    unknown
  >;
}

/**
 * Measures how late the event loop runs timers while a timing assertion is being made. On a
 * quiet machine this is a millisecond or two; on a loaded one (shared CI runners) every timer,
 * the driver's included, fires late by about this much, so limits are checked against
 * `limit + lag`, never looser than that.
 */
export function trackTimerLag(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      // The histogram counts the sampling interval itself; only the excess is lag.
      return Math.max(0, histogram.max / 1e6 - 5);
    },
  };
}
