/** Gives back a slot taken from a {@link PoolLimiter}; calling it twice is harmless. */
export type ReleaseSlot = () => void;

/**
 * Counting semaphore for the client's total connection limit (`poolLimit`). undici's Agent limits
 * connections per origin only; every HTTP/1.1 request occupies exactly one connection from the
 * moment it is dispatched until its body is consumed, so holding a slot over that span caps the
 * sockets in use across all origins. Waiters are served first come, first served.
 */
export class PoolLimiter {
  private active = 0;
  private readonly waiters: Array<{ key: string; grant: (release: ReleaseSlot) => void }> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Slots in use. */
  get acquired(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get pending(): number {
    return this.waiters.length;
  }

  /** Resolves once no slot is taken (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Takes a slot at once when one is free (the common case, no promise allocated), else `undefined`.
   */
  tryAcquire(): ReleaseSlot | undefined {
    if (this.active >= this.limit || this.waiters.length > 0) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Waiting requests per key (the origin they are for). */
  pendingByKey(): Map<string, number> {
    const out = new Map<string, number>();
    for (const w of this.waiters) out.set(w.key, (out.get(w.key) ?? 0) + 1);
    return out;
  }

  /**
   * Waits for a slot; rejects with `signal.reason` when the signal aborts first. `key` only labels
   * the waiter for {@link pendingByKey}.
   */
  acquire(signal?: AbortSignal, key = ''): Promise<ReleaseSlot> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const waiter = {
        key,
        grant: (release: ReleaseSlot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      // The slot passes straight to the next waiter, so a burst cannot starve queued requests.
      if (next) next.grant(this.releaser());
      else if (--this.active === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    };
  }
}
