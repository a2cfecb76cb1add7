import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { waitAtMost } from './with-timeout.js';

describe('waitAtMost', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('resolves true as soon as the work settles, and leaves no timer behind', async () => {
    let finish!: () => void;
    const work = new Promise<void>((resolve) => (finish = resolve));
    const waited = waitAtMost(work, 1000);
    await jest.advanceTimersByTimeAsync(300);
    finish();
    await expect(waited).resolves.toBe(true);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('counts a rejection as settled, without rejecting itself', async () => {
    await expect(waitAtMost(Promise.reject(new Error('boom')), 1000)).resolves.toBe(true);
  });

  it('resolves false after the limit when the work is still running', async () => {
    let done = false;
    const waited = waitAtMost(new Promise<void>(() => undefined), 500).then((settled) => {
      done = true;
      return settled;
    });
    await jest.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(waited).resolves.toBe(false);
  });
});
