import { Module } from '@nestjs/common';
import { Registry } from 'prom-client';

import { POOL_METRICS_REGISTRY } from './pool-metrics.constants.js';
import { PoolMetrics } from './pool-metrics.js';

/**
 * Provides one fresh prom-client `Registry` ({@link POOL_METRICS_REGISTRY}) and the
 * {@link PoolMetrics} families on it. The global prom-client registry is never used.
 *
 * Nest instantiates a static module once per application (or testing module), so every pool
 * module that imports `PoolMetricsModule`, and the application that serves `/metrics`, share one
 * registry, while two testing modules never see each other's metrics.
 *
 * @example
 * ```ts
 * @Module({ imports: [PoolMetricsModule], controllers: [MetricsController] })
 * export class AppModule {}
 *
 * @Controller('metrics')
 * export class MetricsController {
 *   constructor(@Inject(POOL_METRICS_REGISTRY) private readonly registry: Registry) {}
 *
 *   @Get()
 *   @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
 *   metrics(): Promise<string> {
 *     return this.registry.metrics();
 *   }
 * }
 * ```
 */
@Module({
  providers: [{ provide: POOL_METRICS_REGISTRY, useFactory: () => new Registry() }, PoolMetrics],
  exports: [POOL_METRICS_REGISTRY, PoolMetrics],
})
export class PoolMetricsModule {}
