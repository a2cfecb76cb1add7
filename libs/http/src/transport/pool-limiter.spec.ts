import { PoolLimiter } from './pool-limiter.js';

describe('PoolLimiter', () => {
  it('grants up to the limit at once, then queues first come first served', async () => {
    const limiter = new PoolLimiter(2);
    const a = limiter.tryAcquire();
    const b = limiter.tryAcquire();
    expect(a && b).toBeTruthy();
    expect(limiter.tryAcquire()).toBeUndefined();

    const order: string[] = [];
    const c = limiter.acquire().then((r) => (order.push('c'), r));
    const d = limiter.acquire().then((r) => (order.push('d'), r));
    expect(limiter.pending).toBe(2);

    a?.();
    a?.(); // a second release must not free another slot
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect(limiter.acquired).toBe(2);
    b?.();
    await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    expect(limiter.acquired).toBe(1);
  });

  it('drops an aborted waiter and rejects with the abort reason', async () => {
    const limiter = new PoolLimiter(1);
    const held = limiter.tryAcquire();
    const ctrl = new AbortController();
    const waiting = limiter.acquire(ctrl.signal);
    ctrl.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(limiter.pending).toBe(0);
    held?.();
    expect(limiter.acquired).toBe(0);
  });

  it('does not let a new caller overtake queued waiters', async () => {
    const limiter = new PoolLimiter(1);
    const held = limiter.tryAcquire();
    const queued = limiter.acquire();
    held?.();
    expect(limiter.tryAcquire()).toBeUndefined();
    (await queued)();
    expect(limiter.acquired).toBe(0);
  });
});

describe('PoolLimiter.whenIdle', () => {
  it('resolves when the last slot is released', async () => {
    const limiter = new PoolLimiter(2);
    await limiter.whenIdle();
    const a = limiter.tryAcquire();
    const b = limiter.tryAcquire();
    let idle = false;
    const waiting = limiter.whenIdle().then(() => (idle = true));
    a?.();
    await Promise.resolve();
    expect(idle).toBe(false);
    b?.();
    await waiting;
    expect(idle).toBe(true);
  });
});
