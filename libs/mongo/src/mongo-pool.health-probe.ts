import mongoose, { type mongo } from 'mongoose';

import type { MongoPoolBreaker } from './mongo-pool.breaker.js';

/**
 * The health ping's own connection: a second driver client on the same URL with one pooled
 * connection, so a ping never waits in the application's wait queue behind a saturated pool —
 * a busy pool stays `up` (reported saturated), only a server that is unreachable, hangs past the
 * health timeout or refuses us is `down`. It costs one connection and one monitoring connection
 * per server. Its outcomes feed the pool's circuit breaker.
 */
export class MongoHealthProbe {
  private readonly client: mongo.MongoClient;
  private connecting: Promise<unknown> | undefined;

  constructor(
    url: string,
    driverOptions: mongo.MongoClientOptions,
    private readonly breaker: Pick<MongoPoolBreaker, 'failure' | 'recover'>,
  ) {
    this.client = new mongoose.mongo.MongoClient(url, {
      ...driverOptions,
      maxPoolSize: 1,
      minPoolSize: 0,
      maxConnecting: 1,
      monitorCommands: false,
      appName: `${driverOptions.appName ?? 'nest-pools'}:health`,
    });
  }

  /** One `ping` on the probe's own connection, bounded by `signal`. */
  async ping(signal: AbortSignal): Promise<void> {
    this.connecting ??= this.client.connect().catch((error: unknown) => {
      // A failed first connect is retried by the next ping.
      this.connecting = undefined;
      throw error;
    });
    try {
      await Promise.race([this.connecting, aborted(signal)]);
      await this.client.db('admin').command({ ping: 1 }, { signal });
      this.breaker.recover();
    } catch (error) {
      this.breaker.failure();
      throw error;
    }
  }

  /** Closes the probe's client. */
  async close(): Promise<void> {
    await this.client.close();
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}
