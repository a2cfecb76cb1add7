import { jest } from '@jest/globals';
import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { waitFor } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Schema } from 'mongoose';
import type { Registry } from 'prom-client';

import {
  bootPool,
  expectedTopologyType,
  healthStatus,
  type MongoBackend,
  serverSockets,
  skipReason,
  slowFind,
  startBackend,
  trackTimerLag,
} from '../support/mongo.js';

/** Monitoring sockets the driver keeps per server besides the pool: streaming hello + RTT. */
const MONITOR_SOCKETS = 2;

async function metricValue(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{
    labels: Record<string, unknown>;
    value: number;
    metricName?: string;
  }>;
  const match = values.find(
    (v) =>
      (v.metricName === undefined || v.metricName === name || v.metricName === `${name}_count`) &&
      Object.entries(labels).every(([k, want]) => v.labels[k] === want),
  );
  return match?.value;
}

describe('MongoPoolModule pool behaviour', () => {
  let backend: MongoBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it('warms the pool up to minPoolSize once connected (visible on the server)', async () => {
    const before = serverSockets(backend);
    const booted = await bootPool({ url: backend.url('warm'), minPoolSize: 4, maxPoolSize: 6 });
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      await booted.pool.warmedUp();
      const stats = await booted.pools.getPoolStats();
      expect(stats.current).toBeGreaterThanOrEqual(4);
      expect(stats.current).toBeLessThanOrEqual(6);
      if (backend.wire !== undefined) {
        expect(serverSockets(backend) - before).toBeGreaterThanOrEqual(4);
      } else {
        expect(stats.server?.current).toBeGreaterThanOrEqual(4);
      }
    } finally {
      await booted.close();
    }
  });

  it('fails waiting check-outs with the driver’s wait-queue timeout and never exceeds maxPoolSize', async () => {
    const booted = await bootPool({
      url: backend.url('exhaust'),
      maxPoolSize: 2,
      minPoolSize: 0,
      waitQueueTimeoutMS: 200,
    });
    const registry = booted.app.get<Registry>(POOL_METRICS_REGISTRY);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, backend.wire?.openSockets ?? 0);
    }, 2);
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      const coll = booted.pool.connection.db!.collection('slow');
      await coll.insertOne({ x: 1 });
      const baseline = backend.wire?.openSockets ?? 0;
      const find = slowFind(backend, booted.pool.connection, 'slow', 600);
      const failedWaits: number[] = [];
      const checkOutStarts: number[] = [];
      booted.pool.client.on('connectionCheckOutFailed', (e) => failedWaits.push(e.durationMS));
      booted.pool.client.on('connectionCheckOutStarted', () =>
        checkOutStarts.push(performance.now()),
      );
      const lag = trackTimerLag();
      const results = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const started = performance.now();
          try {
            await find();
            return { ok: true, ms: performance.now() - started, at: performance.now() };
          } catch (error) {
            const at = performance.now();
            return { ok: false, ms: at - started, at, error: error as Error };
          }
        }),
      );
      const lagMs = lag.stop();
      backend.wire?.setLatency(0, ['find']);

      const failed = results.filter((r) => !r.ok);
      expect(results.filter((r) => r.ok)).toHaveLength(2);
      expect(failed).toHaveLength(18);
      // 200 ms + 10 %, plus however late this process ran timers meanwhile (0–2 ms when idle).
      const limit = 220 + lagMs;
      for (const r of failed) {
        expect(r.error?.name).toBe('MongoWaitQueueTimeoutError');
        expect(r.ms).toBeGreaterThanOrEqual(199);
      }
      // The wait each caller saw: from its check-out entering the wait queue (FIFO: the first
      // two check-outs got the connections) to its promise rejecting.
      expect(checkOutStarts).toHaveLength(20);
      const rejections = failed.map((r) => r.at).sort((a, b) => a - b);
      rejections.forEach((at, i) => {
        const waited = at - checkOutStarts[i + 2]!;
        expect(waited).toBeGreaterThanOrEqual(199);
        expect(waited).toBeLessThanOrEqual(limit);
      });
      expect(failedWaits).toHaveLength(18);
      for (const wait of failedWaits) {
        // The driver's own clock, with the same millisecond rounding as above.
        expect(wait).toBeGreaterThanOrEqual(199);
        expect(wait).toBeLessThanOrEqual(limit);
      }
      const stats = await booted.pools.getPoolStats();
      expect(stats.totalCreated).toBeLessThanOrEqual(2);
      expect(stats.checkOutTimeouts).toBe(18);
      if (backend.wire !== undefined) {
        expect(peak - baseline).toBeLessThanOrEqual(2);
        expect(peak).toBeLessThanOrEqual(2 + MONITOR_SOCKETS);
      }
      const labels = { db_client_connection_pool_name: 'default', db_system_name: 'mongodb' };
      expect(await metricValue(registry, 'db_client_connection_timeouts_total', labels)).toBe(18);
      expect(
        await metricValue(registry, 'pool_errors_total', {
          pool_name: 'default',
          pool_system: 'mongodb',
          error_type: 'checkout_timeout',
        }),
      ).toBe(18);
      expect(await metricValue(registry, 'db_client_connection_max', labels)).toBe(2);
    } finally {
      clearInterval(sampler);
      backend.wire?.setLatency(0, ['find']);
      await booted.close();
    }
  });

  it('reports a connection held past the leak threshold, and not normal traffic', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const booted = await bootPool({
      url: backend.url('leak'),
      minPoolSize: 0,
      leakDetectionThresholdMS: 150,
      leakDetectionStacks: true,
    });
    const registry = booted.app.get<Registry>(POOL_METRICS_REGISTRY);
    const leaks = () =>
      metricValue(registry, 'pool_leak_detections_total', {
        pool_name: 'default',
        pool_system: 'mongodb',
      });
    const leakWarnings = () =>
      warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('leak detection'));
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      const coll = booted.pool.connection.db!.collection('leak');
      for (let i = 0; i < 50; i += 1) {
        await coll.insertOne({ i });
        await coll.findOne({ i });
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(leakWarnings()).toEqual([]);
      expect((await leaks()) ?? 0).toBe(0);

      const heldFind = slowFind(backend, booted.pool.connection, 'leak', 500);
      await heldFind();
      backend.wire?.setLatency(0, ['find']);
      await waitFor(() => leakWarnings().length > 0, { description: 'leak warning' });
      const [message] = leakWarnings();
      expect(message).toMatch(
        /MongoDB pool "default": connection \d+ to \S+ has been checked out for \d+ ms/,
      );
      expect(message).toMatch(/threshold 150 ms/);
      expect(message).toMatch(/Checked out at:\n[\s\S]*mongo-pool\.pool\.e2e-spec/);
      expect(leakWarnings()).toHaveLength(1);
      expect(await leaks()).toBe(1);
      expect((await booted.pools.getPoolStats()).leaksDetected).toBe(1);
    } finally {
      backend.wire?.setLatency(0, ['find']);
      warn.mockRestore();
      await booted.close();
    }
  });

  it('keeps the socket count within maxPoolSize over 1000 sequential operations', async () => {
    const booted = await bootPool({ url: backend.url('seq'), maxPoolSize: 5, minPoolSize: 1 });
    try {
      const Note = booted.pool.connection.model('Note', new Schema({ i: Number }));
      await Note.deleteMany({});
      for (let i = 0; i < 1000; i += 1) {
        if (i % 2 === 0) await Note.create({ i });
        else await Note.findOne({ i: i - 1 }).lean();
      }
      expect(await Note.countDocuments()).toBe(500);
      const stats = await booted.pools.getPoolStats();
      expect(stats.current).toBeLessThanOrEqual(5);
      expect(stats.active).toBe(0);
      expect(stats.totalCreated).toBeLessThanOrEqual(5);
      if (backend.wire !== undefined) {
        expect(backend.wire.openSockets).toBeLessThanOrEqual(5 + MONITOR_SOCKETS);
      }
    } finally {
      await booted.close();
    }
  });

  it('exports CMAP metrics and a pool snapshot with the server’s own counts', async () => {
    const booted = await bootPool({ url: backend.url('stats'), maxPoolSize: 8, minPoolSize: 2 });
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      await booted.pool.warmedUp();
      const coll = booted.pool.connection.db!.collection('stats');
      await Promise.all(Array.from({ length: 6 }, (_, i) => coll.insertOne({ i })));
      const stats = await booted.pools.getPoolStats();
      expect(stats).toMatchObject({
        name: 'default',
        state: 'connected',
        maxPoolSize: 8,
        minPoolSize: 2,
        active: 0,
        waiting: 0,
        topologyType: expectedTopologyType(backend),
        knownServers: backend.topology === 'replset' ? 3 : 1,
      });
      expect(stats.current).toBeGreaterThanOrEqual(2);
      expect(stats.available).toBe(stats.current);
      expect(stats.totalCreated).toBeGreaterThanOrEqual(stats.current);
      // serverStatus is the primary's; on a replica set the pool also holds secondaries' sockets.
      const serverSide = backend.replSet ? serverSockets(backend) : stats.server?.current;
      expect(serverSide).toBeGreaterThanOrEqual(stats.current);
      expect(stats.server?.totalCreated).toBeGreaterThanOrEqual(
        backend.replSet ? 1 : stats.current,
      );

      const registry = booted.app.get<Registry>(POOL_METRICS_REGISTRY);
      await new Promise((r) => setImmediate(r)); // gauges refresh on the next turn
      const text = await registry.metrics();
      const l = 'db_client_connection_pool_name="default",db_system_name="mongodb"';
      expect(text).toContain(
        `db_client_connection_count{${l},db_client_connection_state="idle"} ${stats.available}`,
      );
      expect(text).toContain(
        `db_client_connection_count{${l},db_client_connection_state="used"} 0`,
      );
      expect(text).toContain(`db_client_connection_max{${l}} 8`);
      expect(text).toContain(`db_client_connection_idle_min{${l}} 2`);
      expect(text).toContain(`db_client_connection_pending_requests{${l}} 0`);
      for (const histogram of ['wait_time', 'use_time', 'create_time']) {
        const count = new RegExp(
          `db_client_connection_${histogram}_seconds_count\\{${l}\\} (\\d+)`,
        );
        expect(Number(count.exec(text)?.[1] ?? 0)).toBeGreaterThan(0);
      }

      const health = await healthStatus(booted.health);
      expect(health).toMatchObject({
        status: 'up',
        pool: 'default',
        state: 'connected',
        maxPoolSize: 8,
        active: 0,
        topologyType: expectedTopologyType(backend),
      });
      expect(health['current']).toBeGreaterThanOrEqual(2);
      expect(typeof health.latencyMs).toBe('number');
    } finally {
      await booted.close();
    }
  });

  it('still answers the snapshot when serverStatus is not permitted', async () => {
    if (backend.wire === undefined) {
      skipReason('refusing serverStatus needs the wire server (a real mongod user may be allowed)');
      return;
    }
    const booted = await bootPool({ url: backend.url('denied'), minPoolSize: 0 });
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      backend.wire.failNext(1, {
        code: 13,
        codeName: 'Unauthorized',
        errmsg: 'not authorized on admin to execute command { serverStatus: 1 }',
        commands: ['serverStatus'],
      });
      const stats = await booted.pools.getPoolStats();
      expect(stats.server).toBeNull();
      expect(stats.serverStatusError).toMatch(/not authorized/);
      expect(stats.state).toBe('connected');
    } finally {
      await booted.close();
    }
  });
});
