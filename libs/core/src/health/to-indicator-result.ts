import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

import { redactObject } from '../redaction/redaction.js';
import type { HealthCheckOutcome } from './shared-health-check.js';

/**
 * Turns a {@link HealthCheckOutcome} into a Terminus 12 indicator result under `key`:
 * `up` → `up`, `down` → `down`, `degraded` → Terminus's own `degraded` (the check passes, the
 * overall status becomes `degraded`, HTTP stays 200). The detail holds `extra` (pool stats,
 * whether the dependency is optional, …), `latencyMs`, `checkedAt` (ISO time) and, when the
 * check failed, `message` with the redacted error. The whole detail is redacted once more, and
 * a `status` key in `extra` is dropped (Terminus reserves it).
 *
 * @param indicator Terminus's `HealthIndicatorService`, injected into the pool's indicator
 * @param key name of the indicator in the health response, e.g. `redis` or `mongo:reports`
 * @param outcome result of {@link SharedHealthCheck.run}
 * @param extra more detail to report
 *
 * @example
 * ```ts
 * async isHealthy(key: string): Promise<HealthIndicatorResult> {
 *   const outcome = await this.ping.run();
 *   return toIndicatorResult(this.healthIndicatorService, key, outcome, { pool: this.stats() });
 * }
 * ```
 */
export function toIndicatorResult<const Key extends string>(
  indicator: HealthIndicatorService,
  key: Key,
  outcome: HealthCheckOutcome<unknown>,
  extra: Record<string, unknown> = {},
): HealthIndicatorResult<Key> {
  const { status: _reserved, ...rest } = extra;
  const data: Record<string, unknown> = redactObject({
    ...rest,
    latencyMs: outcome.latencyMs,
    checkedAt: new Date(outcome.checkedAt).toISOString(),
    ...(outcome.error !== undefined && { message: outcome.error }),
  });
  const session = indicator.check(key);
  switch (outcome.status) {
    case 'up':
      return session.up(data);
    case 'degraded':
      return session.degraded(data);
    case 'down':
      return session.down(data);
  }
}
