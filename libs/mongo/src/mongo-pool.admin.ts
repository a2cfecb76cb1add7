import type { mongo } from 'mongoose';

import type { MongoServerConnections } from './interfaces/mongo-pool-options.interface.js';

/** What {@link warmUpPool} needs to know about the pool it fills. */
export interface WarmUpTarget {
  /** Connections to reach (`minPoolSize`). */
  target: number;
  /** `Date.now()` value after which it gives up (`connectTimeoutMS` from the start). */
  deadline: number;
  /** Connections the pool has open now (from its CMAP monitor). */
  open(): number;
  /** Whether the pool began closing. */
  closing(): boolean;
}

/**
 * Opens `target` connections now rather than one per driver maintenance tick: waves of
 * concurrent pings make the driver create up to `maxConnecting` connections at a time while
 * none is idle. Stops when the target is reached, a wave adds nothing, the deadline passes or
 * the pool closes.
 */
export async function warmUpPool(client: mongo.MongoClient, pool: WarmUpTarget): Promise<void> {
  const admin = client.db('admin');
  while (!pool.closing() && Date.now() < pool.deadline) {
    const before = pool.open();
    if (before >= pool.target) return;
    const signal = AbortSignal.timeout(Math.max(1, pool.deadline - Date.now()));
    await Promise.allSettled(
      Array.from({ length: pool.target }, () => admin.command({ ping: 1 }, { signal })),
    );
    if (pool.open() <= before) return;
  }
}

/**
 * The server's own connection counts (`serverStatus.connections`), bounded by `timeoutMs`.
 * Throws when the reply has no such section (a server or proxy that hides it).
 */
export async function readServerConnections(
  client: mongo.MongoClient,
  timeoutMs: number,
): Promise<MongoServerConnections> {
  const status = await client
    .db('admin')
    .command({ serverStatus: 1 }, { signal: AbortSignal.timeout(timeoutMs) });
  const c = (status as { connections?: Record<string, unknown> }).connections;
  if (c === undefined || typeof c['current'] !== 'number') {
    throw new Error('serverStatus has no connections section');
  }
  const result: MongoServerConnections = {
    current: c['current'],
    available: Number(c['available'] ?? 0),
    totalCreated: Number(c['totalCreated'] ?? 0),
  };
  if (typeof c['active'] === 'number') result.active = c['active'];
  return result;
}
