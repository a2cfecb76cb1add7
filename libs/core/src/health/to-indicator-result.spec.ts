import { HealthIndicatorService } from '@nestjs/terminus';

import type { HealthCheckOutcome } from './shared-health-check.js';
import { toIndicatorResult } from './to-indicator-result.js';

describe('toIndicatorResult', () => {
  const indicator = new HealthIndicatorService();
  const checkedAt = Date.UTC(2026, 0, 2, 3, 4, 5);

  it('maps up with latency, time and extra detail', () => {
    const outcome: HealthCheckOutcome<string> = {
      status: 'up',
      latencyMs: 1.25,
      details: 'PONG',
      checkedAt,
    };
    expect(toIndicatorResult(indicator, 'redis', outcome, { pool: { idle: 2, used: 1 } })).toEqual({
      redis: {
        status: 'up',
        pool: { idle: 2, used: 1 },
        latencyMs: 1.25,
        checkedAt: '2026-01-02T03:04:05.000Z',
      },
    });
  });

  it('maps down with the error as message', () => {
    const outcome: HealthCheckOutcome<never> = {
      status: 'down',
      latencyMs: 1000,
      error: 'PoolTimeoutError: timed out',
      checkedAt,
    };
    expect(toIndicatorResult(indicator, 'mongo', outcome)).toEqual({
      mongo: {
        status: 'down',
        latencyMs: 1000,
        checkedAt: '2026-01-02T03:04:05.000Z',
        message: 'PoolTimeoutError: timed out',
      },
    });
  });

  it('maps degraded to Terminus degraded', () => {
    const outcome: HealthCheckOutcome<unknown> = { status: 'degraded', latencyMs: 3, checkedAt };
    const result = toIndicatorResult(indicator, 'github', outcome, { optional: true });
    expect(result.github).toMatchObject({ status: 'degraded', optional: true });
  });

  it('drops a reserved status key and redacts the detail', () => {
    const outcome: HealthCheckOutcome<unknown> = { status: 'up', latencyMs: 1, checkedAt };
    const result = toIndicatorResult(indicator, 'redis', outcome, {
      status: 'down',
      url: 'redis://user:s3cret@cache:6379/0',
      password: 'hunter2',
    });
    expect(result.redis?.status).toBe('up');
    expect(JSON.stringify(result)).not.toMatch(/s3cret|hunter2/);
    expect(result.redis?.['url']).toContain('cache:6379');
  });
});
