import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { Inject, Injectable } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';

/** Dependencies the health endpoints check. */
export type Dependency = 'mongodb' | 'redis' | 'telegram' | 'github';

/**
 * Health as metrics, so alerts need no blackbox prober: `codebot_ready` (1 ready, 0 not) and
 * `codebot_dependency_up{dependency, required}` (1 up or degraded-but-serving, 0 down), updated
 * by every readiness or full health check.
 */
@Injectable()
export class HealthGauges {
  private readonly ready: Gauge;
  private readonly dependencyUp: Gauge<'dependency' | 'required'>;

  constructor(@Inject(POOL_METRICS_REGISTRY) registry: Registry) {
    this.ready =
      (registry.getSingleMetric('codebot_ready') as Gauge | undefined) ??
      new Gauge({
        name: 'codebot_ready',
        help: '1 when /health/ready answers 200, else 0.',
        registers: [registry],
      });
    this.dependencyUp =
      (registry.getSingleMetric('codebot_dependency_up') as
        Gauge<'dependency' | 'required'> | undefined) ??
      new Gauge({
        name: 'codebot_dependency_up',
        help: '1 when the dependency answered its last health check, else 0.',
        labelNames: ['dependency', 'required'],
        registers: [registry],
      });
    this.ready.set(0);
  }

  /** Records readiness. */
  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  /** Records one dependency's last outcome. */
  setDependency(dependency: Dependency, up: boolean): void {
    const required = dependency === 'mongodb' || dependency === 'redis' ? 'true' : 'false';
    this.dependencyUp.set({ dependency, required }, up ? 1 : 0);
  }
}
