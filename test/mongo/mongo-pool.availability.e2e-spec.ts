import { jest } from '@jest/globals';
import { ShutdownCoordinator, ShutdownModule } from '@nest-pools/core';
import { MongoPoolConnectError, MongoPoolModule } from '@nest-pools/mongo';
import { getFreePort, MongoWireServer, waitFor } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Schema } from 'mongoose';

import {
  bootPool,
  healthStatus,
  type MongoBackend,
  skipReason,
  startBackend,
  trackTimerLag,
} from '../support/mongo.js';

/** Monitoring sockets the driver keeps per server besides the pool: streaming hello + RTT. */
const MONITOR_SOCKETS = 2;

describe('MongoPoolModule with the server down, restarting or hanging', () => {
  let backend: MongoBackend;

  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.stop();
  });

  const wireOnly = (what: string): boolean => {
    if (backend.wire !== undefined) return true;
    skipReason(
      `${what} needs the wire server's fault injection (MONGODB_TEST_URL is a real mongod)`,
    );
    return false;
  };

  it('boots without waiting for a server that is down, reports down, and turns healthy by itself once it starts', async () => {
    if (!wireOnly('starting the server after boot')) return;
    const server = new MongoWireServer({ port: await getFreePort() });
    // Boot resolves while server selection (30 s here) is still pending: it did not wait for it.
    const booted = await bootPool({
      url: server.uri('np_boot'),
      healthTimeoutMS: 500,
      minPoolSize: 0,
      serverSelectionTimeoutMS: 30_000,
    });
    try {
      const down = await healthStatus(booted.health);
      expect(down.status).toBe('down');
      expect(down.message).toMatch(/not connected yet/);
      expect(down).toMatchObject({ pool: 'default', state: 'connecting', current: 0 });
      expect((await booted.pools.getPoolStats()).state).toBe('connecting');

      await server.start();
      // Nothing but the pool's own heartbeats brings it up (every 500 ms at the least).
      await waitFor(async () => (await healthStatus(booted.health)).status === 'up', {
        timeoutMs: 10_000,
        intervalMs: 25,
        description: 'health up after the server started',
      });
      expect((await booted.pools.getPoolStats()).state).toBe('connected');
    } finally {
      await booted.close();
      await server.stop();
    }
  });

  it('fails bootstrap after the server selection timeout with one clear error when failFast is set', async () => {
    const port = await getFreePort();
    const started = performance.now();
    const compile = Test.createTestingModule({
      imports: [
        MongoPoolModule.forRoot({
          url: `mongodb://app:s3cret@127.0.0.1:${port}/np_failfast?directConnection=true`,
          failFast: true,
          serverSelectionTimeoutMS: 400,
        }),
      ],
    })
      .compile()
      .then((app) => app.init());
    const error = await compile.then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(MongoPoolConnectError);
    const message = (error as Error).message;
    expect(message).toMatch(/could not connect to .*127\.0\.0\.1.* within 400 ms/);
    expect(message).toContain('MONGODB_FAIL_FAST');
    expect(message).not.toContain('s3cret');
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3000);
  });

  it('resumes operations after a server restart under steady load, within the socket limit', async () => {
    if (!wireOnly('restarting the server')) return;
    const wire = backend.wire!;
    const maxPoolSize = 4;
    const booted = await bootPool({
      url: backend.url('restart'),
      maxPoolSize,
      minPoolSize: 1,
      serverSelectionTimeoutMS: 1500,
      heartbeatFrequencyMS: 500,
    });
    const Item = booted.pool.connection.model('Item', new Schema({ n: Number }));
    let running = true;
    let peakSockets = 0;
    const ok: number[] = [];
    const failed: number[] = [];
    const sampler = setInterval(() => {
      peakSockets = Math.max(peakSockets, wire.openSockets);
    }, 5);
    const worker = async (): Promise<void> => {
      for (let n = 0; running; n += 1) {
        try {
          await Item.create({ n });
          await Item.findOne({ n }).lean();
          ok.push(performance.now());
        } catch {
          failed.push(performance.now());
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      const workers = Array.from({ length: 6 }, () => worker());
      await waitFor(() => ok.length >= 20, { description: 'steady load' });

      await wire.stop();
      await new Promise((r) => setTimeout(r, 300));
      await wire.start();
      const restarted = performance.now();
      await waitFor(() => ok.some((t) => t > restarted + 50), {
        timeoutMs: 5000,
        description: 'operations succeeding again after the restart',
      });
      const resumedAfter = ok.find((t) => t > restarted)! - restarted;
      running = false;
      await Promise.all(workers);

      expect(resumedAfter).toBeLessThan(3000);
      const stats = await booted.pools.getPoolStats();
      expect(stats.current).toBeLessThanOrEqual(maxPoolSize);
      expect(stats.poolCleared).toBeGreaterThanOrEqual(1);
      expect(peakSockets).toBeLessThanOrEqual(maxPoolSize + MONITOR_SOCKETS);
      expect(wire.openSockets).toBeLessThanOrEqual(maxPoolSize + MONITOR_SOCKETS);
      expect((await healthStatus(booted.health)).status).toBe('up');
    } finally {
      running = false;
      clearInterval(sampler);
      await booted.close();
    }
  });

  it('is healthy again ≤ 2 s after a lost server comes back, with the default heartbeat', async () => {
    if (!wireOnly('stopping and starting the server')) return;
    const server = new MongoWireServer({ port: await getFreePort() });
    await server.start();
    // Default heartbeatFrequencyMS (10 s): recovery must not wait for the next heartbeat.
    const booted = await bootPool({
      url: server.uri('np_recover'),
      healthTimeoutMS: 500,
      minPoolSize: 0,
    });
    try {
      await waitFor(async () => (await healthStatus(booted.health)).status === 'up', {
        description: 'healthy before the outage',
      });
      await server.stop();
      await waitFor(async () => (await healthStatus(booted.health)).status === 'down', {
        timeoutMs: 4000,
        description: 'down while the server is stopped',
      });
      await server.start();
      const lag = trackTimerLag();
      const restarted = performance.now();
      await waitFor(async () => (await healthStatus(booted.health)).status === 'up', {
        timeoutMs: 6000,
        intervalMs: 25,
        description: 'health up after the server came back',
      });
      expect(performance.now() - restarted).toBeLessThanOrEqual(2000 + lag.stop());
    } finally {
      await booted.close();
      await server.stop();
    }
  });

  it('reports down within the health timeout when the server accepts but never answers', async () => {
    if (!wireOnly('hang mode')) return;
    const wire = backend.wire!;
    const booted = await bootPool({
      url: backend.url('hang'),
      healthTimeoutMS: 300,
      minPoolSize: 0,
    });
    try {
      await waitFor(async () => (await healthStatus(booted.health)).status === 'up', {
        description: 'healthy before the hang',
      });
      wire.hang(true);
      await new Promise((r) => setTimeout(r, 300)); // let the cached "up" expire
      const lag = trackTimerLag();
      const started = performance.now();
      const result = await healthStatus(booted.health);
      const elapsed = performance.now() - started;
      expect(result.status).toBe('down');
      expect(result.message).toMatch(/timed out after 300 ms/);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      // The timeout itself plus a few ms to settle, and however late timers ran meanwhile.
      expect(elapsed).toBeLessThan(300 + 50 + lag.stop());
    } finally {
      wire.hang(false);
      await booted.close();
    }
  });

  it('bounds the close by shutdownTimeoutMS and says what was abandoned', async () => {
    const booted = await bootPool({
      url: backend.url('close_bound'),
      minPoolSize: 0,
      shutdownTimeoutMS: 300,
    });
    const { client } = booted.pool;
    // The driver's own close is quick; a close that never finishes stands in for a stuck one.
    const stuck = jest.spyOn(client, 'close').mockImplementation(() => new Promise(() => {}));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
      const lag = trackTimerLag();
      const started = performance.now();
      await booted.close();
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(295);
      expect(elapsed).toBeLessThan(300 + 100 + lag.stop());
      expect(booted.pool.state()).toBe('closed');
      expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
        /did not close within 300 ms.*MONGODB_SHUTDOWN_TIMEOUT_MS/s,
      );
    } finally {
      stuck.mockRestore();
      warn.mockRestore();
      await client.close();
    }
  });

  it('closes through the ShutdownCoordinator when present, leaving no socket open', async () => {
    const booted = await bootPool({ url: backend.url('shutdown'), minPoolSize: 2 }, [
      ShutdownModule.forRoot({ timeoutMs: 5000 }),
    ]);
    await waitFor(() => booted.pool.state() === 'connected', { description: 'connected' });
    await booted.pool.warmedUp();
    const coordinator = booted.app.get(ShutdownCoordinator);
    expect(coordinator.describeOpen().join('\n')).toMatch(/mongodb "default"/);
    const before = backend.wire?.openSockets ?? 0;
    await booted.close();
    expect(booted.pool.state()).toBe('closed');
    expect(coordinator.describeOpen()).toEqual([]);
    if (backend.wire !== undefined) {
      expect(before).toBeGreaterThanOrEqual(2);
      await waitFor(() => backend.wire!.openSockets === 0, {
        description: 'server sockets closed',
      });
    }
  });
});
