import { PoolTimeoutError } from '../errors/pool-timeout.error.js';
import { SharedHealthCheck } from './shared-health-check.js';
import { withTimeout } from './with-timeout.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A check whose runs are counted and released by hand. */
function gatedCheck<T>(value: T) {
  const state = { runs: 0, signals: [] as AbortSignal[], release: () => {} };
  const check = (signal: AbortSignal) => {
    state.runs += 1;
    state.signals.push(signal);
    return new Promise<T>((resolve) => {
      state.release = () => resolve(value);
    });
  };
  return { state, check };
}

describe('SharedHealthCheck', () => {
  it('shares one in-flight check between concurrent callers', async () => {
    const { state, check } = gatedCheck('PONG');
    const health = new SharedHealthCheck(check, { timeoutMs: 5000, cacheTtlMs: 0, label: 'ping' });
    const callers = [health.run(), health.run(), health.run()];
    expect(state.runs).toBe(1);
    state.release();
    const outcomes = await Promise.all(callers);
    expect(outcomes[0]).toMatchObject({ status: 'up', details: 'PONG' });
    expect(outcomes[1]).toBe(outcomes[0]);
    expect(outcomes[2]).toBe(outcomes[0]);
    expect(state.runs).toBe(1);
  });

  it('reuses the outcome within cacheTtlMs and checks again after it', async () => {
    let runs = 0;
    const health = new SharedHealthCheck(() => Promise.resolve(++runs), {
      timeoutMs: 1000,
      cacheTtlMs: 200,
      label: 'count',
    });
    const first = await health.run();
    const second = await health.run();
    expect(second).toBe(first);
    expect(runs).toBe(1);
    await sleep(250);
    const third = await health.run();
    expect(third.details).toBe(2);
    expect(runs).toBe(2);
  });

  it('with cacheTtlMs 0 runs a new check once the previous one settled', async () => {
    let runs = 0;
    const health = new SharedHealthCheck(() => Promise.resolve(++runs), {
      timeoutMs: 1000,
      cacheTtlMs: 0,
      label: 'count',
    });
    await health.run();
    await health.run();
    expect(runs).toBe(2);
  });

  it('invalidate() drops the cached outcome', async () => {
    let runs = 0;
    const health = new SharedHealthCheck(() => Promise.resolve(++runs), {
      timeoutMs: 1000,
      cacheTtlMs: 60_000,
      label: 'count',
    });
    await health.run();
    health.invalidate();
    expect((await health.run()).details).toBe(2);
  });

  it('times out: aborts the signal, reports down with a timeout error, never rejects', async () => {
    const { state, check } = gatedCheck('late');
    const health = new SharedHealthCheck(check, {
      timeoutMs: 30,
      cacheTtlMs: 0,
      label: 'redis ping',
      poolName: 'cache',
    });
    const outcome = await health.run();
    expect(outcome.status).toBe('down');
    expect(outcome.details).toBeUndefined();
    expect(outcome.error).toMatch(
      /^PoolTimeoutError: Pool "cache": health check "redis ping" timed out after 30 ms/,
    );
    expect(state.signals[0]?.aborted).toBe(true);
    expect(state.signals[0]?.reason).toBeInstanceOf(PoolTimeoutError);
    expect(outcome.latencyMs).toBeGreaterThan(0);
    state.release();
  });

  it('reports failures as down with the redacted error, also for sync throws', async () => {
    const failing = new SharedHealthCheck(
      () => Promise.reject(new Error('connect ECONNREFUSED redis://:hunter2@10.0.0.5:6379')),
      { timeoutMs: 1000, cacheTtlMs: 0, label: 'ping' },
    );
    const outcome = await failing.run();
    expect(outcome.status).toBe('down');
    expect(outcome.error).toContain('connect ECONNREFUSED redis://');
    expect(outcome.error).not.toContain('hunter2');

    const throwing = new SharedHealthCheck<number>(
      () => {
        throw new TypeError('not connected');
      },
      { timeoutMs: 1000, cacheTtlMs: 0, label: 'ping' },
    );
    await expect(throwing.run()).resolves.toMatchObject({
      status: 'down',
      error: 'TypeError: not connected',
    });
  });

  it('caches failures too, so a dead dependency is not hammered', async () => {
    let runs = 0;
    const health = new SharedHealthCheck(
      () => {
        runs += 1;
        return Promise.reject(new Error('down'));
      },
      { timeoutMs: 1000, cacheTtlMs: 60_000, label: 'ping' },
    );
    await health.run();
    await health.run();
    expect(runs).toBe(1);
  });

  it('measures latency of the check', async () => {
    const health = new SharedHealthCheck(() => sleep(25).then(() => 'ok'), {
      timeoutMs: 5000,
      cacheTtlMs: 0,
      label: 'slow',
    });
    const before = Date.now();
    const outcome = await health.run();
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(20);
    expect(outcome.checkedAt).toBeGreaterThanOrEqual(before);
  });

  it('classify can turn a result into degraded; a throwing classify means down', async () => {
    const degraded = new SharedHealthCheck(() => Promise.resolve({ waiting: 3 }), {
      timeoutMs: 1000,
      cacheTtlMs: 0,
      label: 'pool',
      classify: (d) => (d.waiting > 0 ? 'degraded' : 'up'),
    });
    expect(await degraded.run()).toMatchObject({ status: 'degraded', details: { waiting: 3 } });

    const broken = new SharedHealthCheck(() => Promise.resolve(1), {
      timeoutMs: 1000,
      cacheTtlMs: 0,
      label: 'pool',
      classify: () => {
        throw new Error('bad stats');
      },
    });
    expect(await broken.run()).toMatchObject({ status: 'down', error: 'bad stats' });
  });

  it('validates its options', () => {
    const check = () => Promise.resolve(1);
    expect(() => new SharedHealthCheck(check, { timeoutMs: 0, cacheTtlMs: 0, label: 'x' })).toThrow(
      RangeError,
    );
    expect(
      () => new SharedHealthCheck(check, { timeoutMs: 10, cacheTtlMs: -1, label: 'x' }),
    ).toThrow(/cacheTtlMs/);
  });
});

describe('withTimeout', () => {
  it('resolves with the value when in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000, 'never')).resolves.toBe(42);
  });

  it('passes the original rejection through', async () => {
    const err = new Error('boom');
    await expect(withTimeout(Promise.reject(err), 1000, 'never')).rejects.toBe(err);
  });

  it('rejects with PoolTimeoutError and aborts the controller when too slow', async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => {});
    const error = await withTimeout(never, 20, 'Acquire took too long; raise the limit.', {
      controller,
      poolName: 'p',
      limit: 'acquireTimeoutMs',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error).toMatchObject({
      message: 'Acquire took too long; raise the limit.',
      poolName: 'p',
      timeoutMs: 20,
      limit: 'acquireTimeoutMs',
    });
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(error);
  });
});
