import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const fixed = (value: number) => () => value;

  it('doubles from baseMs per attempt without jitter', () => {
    const opts = { baseMs: 100, maxMs: 100_000, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('caps at maxMs, also for very large attempts', () => {
    const opts = { baseMs: 100, maxMs: 5000, jitter: 'none' as const };
    expect(backoffDelay(6, opts)).toBe(3200);
    expect(backoffDelay(7, opts)).toBe(5000);
    expect(backoffDelay(2000, opts)).toBe(5000);
  });

  it('full jitter spreads uniformly over [0, delay] and is the default', () => {
    const opts = { baseMs: 100, maxMs: 5000 };
    expect(backoffDelay(3, opts, fixed(0))).toBe(0);
    expect(backoffDelay(3, opts, fixed(0.5))).toBe(200);
    expect(backoffDelay(3, opts, fixed(0.999))).toBe(400);
    expect(backoffDelay(10, { ...opts, jitter: 'full' }, fixed(0.25))).toBe(1250);
  });

  it('equal jitter keeps at least half the delay', () => {
    const opts = { baseMs: 100, maxMs: 5000, jitter: 'equal' as const };
    expect(backoffDelay(3, opts, fixed(0))).toBe(200);
    expect(backoffDelay(3, opts, fixed(0.5))).toBe(300);
    expect(backoffDelay(3, opts, fixed(0.999))).toBe(400);
  });

  it('uses the injected random source once per call and ignores it without jitter', () => {
    let calls = 0;
    const random = () => {
      calls += 1;
      return 0.5;
    };
    backoffDelay(2, { baseMs: 10, maxMs: 100, jitter: 'full' }, random);
    backoffDelay(2, { baseMs: 10, maxMs: 100, jitter: 'equal' }, random);
    backoffDelay(2, { baseMs: 10, maxMs: 100, jitter: 'none' }, random);
    expect(calls).toBe(2);
  });

  it('rejects attempts below 1, fractional attempts and negative durations', () => {
    expect(() => backoffDelay(0, { baseMs: 1, maxMs: 2 })).toThrow(RangeError);
    expect(() => backoffDelay(1.5, { baseMs: 1, maxMs: 2 })).toThrow(/attempt/);
    expect(() => backoffDelay(1, { baseMs: -1, maxMs: 2 })).toThrow(/baseMs/);
    expect(() => backoffDelay(1, { baseMs: 1, maxMs: Number.NaN })).toThrow(/maxMs/);
  });
});
