import { delayOn, type WireConnection } from './mongo-wire-connection.js';

/** Just what `delayOn` touches of a connection. */
function connection(): WireConnection {
  return { timers: new Set<NodeJS.Timeout>() } as unknown as WireConnection;
}

describe('delayOn', () => {
  it('never resolves before its delay by performance.now(), however the timers round', async () => {
    const conn = connection();
    const short: number[] = [];
    // Node's timers count whole milliseconds of the loop's clock, so without the re-check some
    // of these would read up to 1 ms short.
    for (let i = 0; i < 200; i++) {
      const ms = 1 + (i % 3);
      const started = performance.now();
      await delayOn(conn, ms);
      const waited = performance.now() - started;
      if (waited < ms) short.push(waited);
    }
    expect(short).toEqual([]);
    expect(conn.timers.size).toBe(0);
  });

  it('resolves at once when a waker is called, and leaves no timer behind', async () => {
    const conn = connection();
    const wakers = new Set<() => void>();
    const delayed = delayOn(conn, 60_000, wakers);
    expect(conn.timers.size).toBe(1);
    for (const wake of wakers) wake();
    await delayed;
    expect(conn.timers.size).toBe(0);
    expect(wakers.size).toBe(0);
  });
});
