import { createServer } from 'node:net';

import { getFreePort, isPortFree } from './free-port.js';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first truthy value, retrying through falsy values and errors', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls === 1) throw new Error('not yet');
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('times out naming what it waited for, with the last error as cause', async () => {
    const failure = waitFor(
      () => {
        throw new Error('still down');
      },
      { timeoutMs: 50, intervalMs: 5, description: 'redis up' },
    );
    await expect(failure).rejects.toThrow(/Timed out after 50 ms waiting for redis up/);
    await expect(failure).rejects.toHaveProperty('cause.message', 'still down');
  });
});

describe('getFreePort', () => {
  it('returns a port that can be bound on loopback, and isPortFree tracks it', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    expect(await isPortFree(port)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await isPortFree(port)).toBe(true);
  });
});
