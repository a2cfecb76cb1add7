import { BrokenCircuitError, CircuitState } from 'cockatiel';
import { Registry } from 'prom-client';

import { PoolMetrics } from '../metrics/pool-metrics.js';
import { circuitStateValue, createPoolCircuitBreaker } from './circuit-breaker.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function stateGauge(metrics: PoolMetrics, poolName: string): Promise<number | undefined> {
  const { values } = await metrics.circuitState.get();
  return values.find((v) => v.labels.pool_name === poolName)?.value;
}

describe('createPoolCircuitBreaker', () => {
  let metrics: PoolMetrics;
  beforeEach(() => {
    metrics = new PoolMetrics(new Registry());
  });

  const fail = () => Promise.reject(new Error('ECONNREFUSED'));
  const ok = () => Promise.resolve('pong');

  it('opens after the configured consecutive failures and fails fast while open', async () => {
    const breaker = createPoolCircuitBreaker({
      poolName: 'cache',
      system: 'redis',
      metrics,
      halfOpenAfterMs: 60_000,
      consecutiveFailures: 3,
    });
    expect(await stateGauge(metrics, 'cache')).toBe(0);

    await expect(breaker.execute(fail)).rejects.toThrow('ECONNREFUSED');
    await expect(breaker.execute(fail)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe(CircuitState.Closed);
    await expect(breaker.execute(fail)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe(CircuitState.Open);
    expect(await stateGauge(metrics, 'cache')).toBe(2);

    let ran = 0;
    await expect(
      breaker.execute(() => {
        ran += 1;
        return ok();
      }),
    ).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(ran).toBe(0);
  });

  it('a success in between resets the consecutive count', async () => {
    const breaker = createPoolCircuitBreaker({
      poolName: 'p',
      system: 'mongodb',
      halfOpenAfterMs: 60_000,
      consecutiveFailures: 2,
    });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await breaker.execute(ok);
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('goes half-open after halfOpenAfterMs, closes on a successful trial, mirrors each state', async () => {
    const breaker = createPoolCircuitBreaker({
      poolName: 'github',
      system: 'http',
      metrics,
      halfOpenAfterMs: 30,
      consecutiveFailures: 1,
    });
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(await stateGauge(metrics, 'github')).toBe(2);
    await sleep(60);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const trial = breaker.execute(async () => {
      await gate;
      return 'pong';
    });
    await sleep(0);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    expect(await stateGauge(metrics, 'github')).toBe(1);
    release();
    expect(await trial).toBe('pong');
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(await stateGauge(metrics, 'github')).toBe(0);
  });

  it('a failed half-open trial opens the circuit again', async () => {
    const breaker = createPoolCircuitBreaker({
      poolName: 'x',
      system: 'http',
      metrics,
      halfOpenAfterMs: 20,
      consecutiveFailures: 1,
    });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await sleep(40);
    await expect(breaker.execute(fail)).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe(CircuitState.Open);
    expect(await stateGauge(metrics, 'x')).toBe(2);
  });

  it('only errors accepted by isFailure count', async () => {
    const breaker = createPoolCircuitBreaker({
      poolName: 'x',
      system: 'http',
      metrics,
      halfOpenAfterMs: 60_000,
      consecutiveFailures: 1,
      isFailure: (err) => err.message !== 'not found',
    });
    await expect(breaker.execute(() => Promise.reject(new Error('not found')))).rejects.toThrow(
      'not found',
    );
    expect(breaker.state).toBe(CircuitState.Closed);
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe(CircuitState.Open);
  });

  it('keeps breakers of different pools apart in the gauge', async () => {
    const a = createPoolCircuitBreaker({
      poolName: 'a',
      system: 'redis',
      metrics,
      halfOpenAfterMs: 60_000,
      consecutiveFailures: 1,
    });
    createPoolCircuitBreaker({
      poolName: 'b',
      system: 'redis',
      metrics,
      halfOpenAfterMs: 60_000,
      consecutiveFailures: 1,
    });
    await expect(a.execute(fail)).rejects.toThrow();
    expect(await stateGauge(metrics, 'a')).toBe(2);
    expect(await stateGauge(metrics, 'b')).toBe(0);
  });

  it('validates its options', () => {
    const base = { poolName: 'x', system: 'http' as const, halfOpenAfterMs: 1 };
    expect(() => createPoolCircuitBreaker({ ...base, consecutiveFailures: 0 })).toThrow(RangeError);
    expect(() =>
      createPoolCircuitBreaker({ ...base, consecutiveFailures: 1, halfOpenAfterMs: -1 }),
    ).toThrow(/halfOpenAfterMs/);
  });

  it('maps every cockatiel state to the gauge value', () => {
    expect(circuitStateValue(CircuitState.Closed)).toBe(0);
    expect(circuitStateValue(CircuitState.HalfOpen)).toBe(1);
    expect(circuitStateValue(CircuitState.Open)).toBe(2);
    expect(circuitStateValue(CircuitState.Isolated)).toBe(2);
  });
});
