import { Registry } from 'prom-client';

import { PoolUnavailableError } from '../errors/pool-unavailable.error.js';
import { PoolMetrics } from '../metrics/pool-metrics.js';
import { PoolBreaker, type PoolBreakerState } from './pool-breaker.js';

function setup(extra: { enabled?: boolean } = {}) {
  let now = 1_000_000;
  const states: PoolBreakerState[] = [];
  const registry = new Registry();
  const metrics = new PoolMetrics(registry);
  const breaker = new PoolBreaker({
    poolName: 'default',
    system: 'redis',
    consecutiveFailures: 3,
    halfOpenAfterMs: 5000,
    metrics,
    now: () => now,
    onStateChange: (s) => states.push(s),
    ...extra,
  });
  const gauge = async () =>
    (await registry.getSingleMetric('pool_circuit_breaker_state')?.get())?.values[0]?.value;
  return { breaker, states, gauge, advance: (ms: number) => (now += ms) };
}

const fail = (b: PoolBreaker, n: number) => {
  for (let i = 0; i < n; i++) b.admit().failure();
};

describe('PoolBreaker', () => {
  it('opens after the configured consecutive failures; a success in between resets the count', async () => {
    const { breaker, gauge } = setup();
    fail(breaker, 2);
    breaker.admit().success();
    fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    breaker.admit().failure();
    expect(breaker.state).toBe('open');
    expect(await gauge()).toBe(2);
  });

  it('fails at once while open, with since and Retry-After seconds', () => {
    const { breaker, advance } = setup();
    fail(breaker, 3);
    advance(1200);
    let error: unknown;
    try {
      breaker.admit();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PoolUnavailableError);
    const e = error as PoolUnavailableError;
    expect(e.name).toBe('PoolUnavailableError');
    expect(e.poolName).toBe('default');
    expect(e.since).toBe(1_000_000);
    expect(e.retryAt).toBe(1_005_000);
    expect(e.message).toContain('redis pool "default" is unavailable');
  });

  it('half-opens with exactly one trial; its success closes the circuit', async () => {
    const { breaker, advance, states, gauge } = setup();
    fail(breaker, 3);
    advance(5000);
    expect(breaker.state).toBe('half-open');
    const probe = breaker.admit();
    expect(await gauge()).toBe(1);
    expect(() => breaker.admit()).toThrow(PoolUnavailableError); // only one trial at a time
    probe.success();
    expect(breaker.state).toBe('closed');
    expect(() => breaker.admit().success()).not.toThrow();
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expect(await gauge()).toBe(0);
  });

  it('a failed trial opens the circuit again for another full wait', () => {
    const { breaker, advance } = setup();
    fail(breaker, 3);
    advance(5000);
    breaker.admit().failure();
    expect(breaker.state).toBe('open');
    advance(4999);
    expect(() => breaker.admit()).toThrow(PoolUnavailableError);
    advance(1);
    expect(() => breaker.admit()).not.toThrow();
  });

  it('execute counts only what isFailure says; application errors keep it closed', async () => {
    const { breaker } = setup();
    const appError = new Error('WRONGTYPE');
    for (let i = 0; i < 5; i++) {
      await expect(
        breaker.execute(
          () => Promise.reject(appError),
          () => false,
        ),
      ).rejects.toBe(appError);
    }
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 3; i++) {
      await expect(
        breaker.execute(() => Promise.reject(new Error('ECONNREFUSED'))),
      ).rejects.toThrow();
    }
    await expect(breaker.execute(() => Promise.resolve(1))).rejects.toBeInstanceOf(
      PoolUnavailableError,
    );
  });

  it('record() feeds outcomes seen elsewhere (a background ping)', () => {
    const { breaker } = setup();
    breaker.record(false);
    breaker.record(false);
    breaker.record(true);
    breaker.record(false);
    expect(breaker.state).toBe('closed');
    breaker.record(false);
    breaker.record(false);
    expect(breaker.isOpen).toBe(true);
  });

  it('disabled: counts but never opens', () => {
    const { breaker } = setup({ enabled: false });
    fail(breaker, 10);
    expect(breaker.state).toBe('closed');
  });
});
