// What the failover suites measure: a paced write load with every outcome recorded, readiness
// sampled back to back, and the driver's view of the topology and of its sockets per server.
import type { MongoPoolHealthIndicator } from '@nest-pools/mongo';
import { type MongoWireReplicaSet, waitFor } from '@nest-pools/testing';
import type { MongoClient } from 'mongodb';

import { healthStatus } from './mongo.js';

/** Monitoring sockets the driver keeps per server besides the pool: streaming hello + RTT. */
export const MONITOR_SOCKETS = 2;
/**
 * The module's health probe has its own client: its two monitoring sockets on every member, plus
 * its one pooled connection (on the member it pings).
 */
export const HEALTH_SOCKETS = MONITOR_SOCKETS + 1;

/**
 * Waits until no member of `rs` holds more server-side sockets than one MongoPoolModule can
 * open there — a pool of `maxPoolSize`, the pool's monitors and the health probe's sockets — and
 * a stopped member none; the error names the last counts.
 */
export async function waitForSocketsWithinPool(
  rs: MongoWireReplicaSet,
  maxPoolSize: number,
): Promise<number[]> {
  let last: number[] = [];
  try {
    await waitFor(
      () => {
        last = rs.members.map((m) => (m.isRunning ? m.openSockets : 0));
        return last.every((n) => n <= maxPoolSize + MONITOR_SOCKETS + HEALTH_SOCKETS);
      },
      {
        timeoutMs: 10_000,
        description: 'server-side sockets back to pool + monitor + health sockets',
      },
    );
  } catch (error) {
    throw new Error(`${String(error)} (last: server-side sockets per member ${last.join('/')})`, {
      cause: error,
    });
  }
  return last;
}

/** Outcome of a paced write load. */
export interface WriteLoadResult {
  /** Sequence numbers whose write was acknowledged. */
  acked: number[];
  /** When (performance.now()) each write was issued and acknowledged. */
  times: Map<number, { issued: number; acked?: number }>;
  /** Writes that failed, with when (performance.now()) and why. */
  failed: Array<{ seq: number; at: number; message: string }>;
  /** Writes issued. */
  issued: number;
}

/**
 * Issues `write(seq)` at `perSecond` for `durationMs` (catching up after a late tick, so a
 * loaded machine issues the same number), runs `at[ms]` callbacks on the way, and waits for
 * every write to settle.
 */
export async function paceWrites(
  write: (seq: number) => Promise<unknown>,
  options: { perSecond: number; durationMs: number; at?: Record<number, () => void> },
): Promise<WriteLoadResult> {
  const result: WriteLoadResult = { acked: [], times: new Map(), failed: [], issued: 0 };
  const pending = new Set<Promise<void>>();
  const marks = Object.entries(options.at ?? {})
    .map(([ms, run]) => ({ ms: Number(ms), run }))
    .sort((a, b) => a.ms - b.ms);
  const start = performance.now();
  const total = Math.round((options.perSecond * options.durationMs) / 1000);
  while (result.issued < total) {
    const elapsed = performance.now() - start;
    while (marks[0] !== undefined && marks[0].ms <= elapsed) marks.shift()?.run();
    const due = Math.min(total, Math.floor((elapsed * options.perSecond) / 1000) + 1);
    for (; result.issued < due; result.issued += 1) {
      const seq = result.issued;
      const time: { issued: number; acked?: number } = { issued: performance.now() };
      result.times.set(seq, time);
      const settled = write(seq).then(
        () => {
          time.acked = performance.now();
          result.acked.push(seq);
        },
        (error: unknown) =>
          void result.failed.push({
            seq,
            at: performance.now(),
            message: error instanceof Error ? error.message : String(error),
          }),
      );
      pending.add(settled);
      void settled.finally(() => pending.delete(settled));
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const mark of marks) mark.run();
  await Promise.all(pending);
  return result;
}

/** One readiness probe: when it started and ended, and its status. */
export interface ReadinessSample {
  start: number;
  end: number;
  status: string;
  message?: string;
  /** Operations waiting for a pooled connection when the probe started. */
  waiting: number;
}

/**
 * Probes the pool's health indicator back to back (20 ms apart) until `stop()`, noting the
 * pool's wait queue (`waiting()`) at each start.
 */
export function sampleReadiness(
  health: MongoPoolHealthIndicator,
  waiting: () => number,
): ReadinessSampler {
  return sampleProbe(() => healthStatus(health), waiting);
}

/** Samples taken so far, and `stop()` that ends the loop and resolves with all of them. */
export interface ReadinessSampler {
  samples: ReadinessSample[];
  stop(): Promise<ReadinessSample[]>;
}

/**
 * Runs `probe` back to back (20 ms apart) until `stop()`, recording when each ran and what it
 * answered; `waiting()` is noted at each start (0 when not given).
 */
export function sampleProbe(
  probe: () => Promise<{ status: string; message?: string }>,
  waiting: () => number = () => 0,
): ReadinessSampler {
  const samples: ReadinessSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      const queued = waiting();
      const { status, message } = await probe();
      samples.push({
        start,
        end: performance.now(),
        status,
        waiting: queued,
        ...(message ? { message } : {}),
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** The driver's view: when it learnt each primary, and its pooled sockets per server. */
export interface DriverView {
  /** `performance.now()` of each server becoming RSPrimary in the driver's topology. */
  primaries: Array<{ address: string; at: number }>;
  /** Pooled connections open per `host:port` (CMAP created − closed). */
  open: Map<string, number>;
  /** Latest server type per `host:port` (`RSPrimary`, `RSSecondary`, `Unknown`…). */
  types: Map<string, string>;
  detach(): void;
}

/** Follows the SDAM and CMAP events of `client`. */
export function watchDriver(client: MongoClient): DriverView {
  const view: DriverView = {
    primaries: [],
    open: new Map(),
    types: new Map(),
    detach: () => undefined,
  };
  const bump = (address: string, by: number): void => {
    view.open.set(address, (view.open.get(address) ?? 0) + by);
  };
  const onServer = (e: {
    address: string;
    previousDescription: { type: string };
    newDescription: { type: string };
  }): void => {
    view.types.set(e.address, e.newDescription.type);
    if (e.newDescription.type === 'RSPrimary' && e.previousDescription.type !== 'RSPrimary') {
      view.primaries.push({ address: e.address, at: performance.now() });
    }
  };
  const onCreated = (e: { address: string }): void => bump(e.address, 1);
  const onClosed = (e: { address: string }): void => bump(e.address, -1);
  client.on('serverDescriptionChanged', onServer);
  client.on('connectionCreated', onCreated);
  client.on('connectionClosed', onClosed);
  view.detach = () => {
    client.off('serverDescriptionChanged', onServer);
    client.off('connectionCreated', onCreated);
    client.off('connectionClosed', onClosed);
  };
  return view;
}
