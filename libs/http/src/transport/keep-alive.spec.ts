import { effectiveIdleTimeoutMs, parseKeepAliveHeader } from './keep-alive.js';

describe('parseKeepAliveHeader', () => {
  it('reads timeout (seconds → ms) and max', () => {
    expect(parseKeepAliveHeader('timeout=5, max=1000')).toEqual({ timeoutMs: 5000, max: 1000 });
  });

  it('is case-insensitive, tolerates spaces and quotes', () => {
    expect(parseKeepAliveHeader(' Timeout = "2" ,MAX=3')).toEqual({ timeoutMs: 2000, max: 3 });
  });

  it('ignores unknown parameters and malformed numbers', () => {
    expect(parseKeepAliveHeader('timeout=abc, foo=1, max=-2, timeout2=9')).toEqual({});
    expect(parseKeepAliveHeader('timeout=1.5')).toEqual({});
  });

  it('returns an empty hint for a missing header and joins repeated headers', () => {
    expect(parseKeepAliveHeader(undefined)).toEqual({});
    expect(parseKeepAliveHeader(['timeout=7', 'max=2'])).toEqual({ timeoutMs: 7000, max: 2 });
  });
});

describe('effectiveIdleTimeoutMs', () => {
  const rule = { defaultMs: 4000, maxMs: 4000, thresholdMs: 500 };

  it('uses the configured default without a hint', () => {
    expect(effectiveIdleTimeoutMs({}, rule)).toBe(4000);
    expect(effectiveIdleTimeoutMs({}, { ...rule, defaultMs: 9000 })).toBe(4000);
  });

  it('stays below a shorter upstream timeout by the threshold', () => {
    expect(effectiveIdleTimeoutMs({ timeoutMs: 1000 }, rule)).toBe(500);
    expect(effectiveIdleTimeoutMs({ timeoutMs: 2000 }, rule)).toBe(1500);
  });

  it('never exceeds the configured maximum for a long upstream timeout', () => {
    expect(effectiveIdleTimeoutMs({ timeoutMs: 75_000 }, rule)).toBe(4000);
  });

  it('disables reuse when the hint is not longer than the threshold', () => {
    expect(effectiveIdleTimeoutMs({ timeoutMs: 500 }, rule)).toBe(0);
    expect(effectiveIdleTimeoutMs({ timeoutMs: 0 }, rule)).toBe(0);
  });
});
