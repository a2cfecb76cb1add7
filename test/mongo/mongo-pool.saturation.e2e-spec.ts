// Health that holds under load, and a breaker that fails fast: a saturated pool is `up` (its
// ping has its own connection), a hung or stopped server is `down`, and once the circuit opens
// mongoose operations fail at once with PoolUnavailableError.
import { jest } from '@jest/globals';
import { PoolUnavailableError } from '@nest-pools/core';
import { waitFor } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Schema } from 'mongoose';

import { type MongoBackend, skipReason, startBackend } from '../support/mongo.js';
import { bootPool, healthStatus, trackTimerLag } from '../support/mongo.js';
import { median } from '../support/stats.js';

describe('MongoPoolModule under saturation and outages', () => {
  let backend: MongoBackend;
  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend.stop();
    jest.restoreAllMocks();
  });
  const wireOnly = (what: string): boolean => {
    if (backend.wire !== undefined) return true;
    skipReason(
      `${what} needs the wire server's fault controls; MONGODB_TEST_URL names an external server`,
    );
    return false;
  };

  it('stays up and reports saturation while every connection is busy; down when the server hangs; up again after', async () => {
    if (!wireOnly('slow queries and a hang')) return;
    const wire = backend.wire!;
    const booted = await bootPool({
      url: backend.url('saturation'),
      maxPoolSize: 3,
      minPoolSize: 0,
      waitQueueTimeoutMS: 500,
      healthTimeoutMS: 500,
      ignoreEnv: true,
    });
    const Item = booted.pool.connection.model('Item', new Schema({ n: Number }));
    try {
      await Item.create({ n: 1 });
      await waitFor(async () => (await healthStatus(booted.health)).status === 'up', {
        description: 'healthy before the load',
      });
      wire.setLatency(1500, 'find');
      // 30 concurrent queries, slower than the wait queue: 3 run, the rest queue and time out.
      const load = Array.from({ length: 30 }, () =>
        Item.find({})
          .lean()
          .then(
            () => 'ok',
            (e: unknown) => e,
          ),
      );
      await waitFor(() => booted.pool.healthDetails().waiting > 0, {
        description: 'callers waiting for a connection',
      });
      const probes = [];
      for (let i = 0; i < 5; i++) {
        probes.push(await healthStatus(booted.health));
        await new Promise((r) => setTimeout(r, 60));
      }
      expect(probes.map((p) => p.status)).toEqual(['up', 'up', 'up', 'up', 'up']);
      expect(probes.some((p) => p['saturated'] === true)).toBe(true);
      const outcomes = await Promise.all(load);
      // Wait-queue timeouts are saturation, not an outage: they never open the circuit.
      expect(
        outcomes.some((o) => o instanceof Error && o.name === 'MongoWaitQueueTimeoutError'),
      ).toBe(true);
      expect(booted.pool.circuit.breaker.state).toBe('closed');
      wire.setLatency(0, 'find');

      wire.hang(true);
      await new Promise((r) => setTimeout(r, 300)); // the cached "up" expires
      const lag = trackTimerLag();
      const started = performance.now();
      const hung = await healthStatus(booted.health);
      const downMs = performance.now() - started;
      expect(hung.status).toBe('down');
      // The bound: health timeout + 1 s.
      expect(downMs).toBeLessThan(500 + 1000 + lag.stop());

      wire.hang(false);
      const healed = performance.now();
      await waitFor(async () => (await healthStatus(booted.health)).status === 'up', {
        timeoutMs: 10_000,
        intervalMs: 50,
        description: 'up again after the hang',
      });
      console.info(
        `mongo health: down after ${downMs.toFixed(0)} ms of hang, up ${(performance.now() - healed).toFixed(0)} ms after it ended`,
      );
    } finally {
      await wire.clearFaults();
      await booted.close();
    }
  });

  it('opens the circuit while the server is down: operations fail at once, then succeed after it returns', async () => {
    if (!wireOnly('stopping the server')) return;
    const wire = backend.wire!;
    const booted = await bootPool({
      url: backend.url('breaker'),
      minPoolSize: 0,
      serverSelectionTimeoutMS: 500,
      heartbeatFrequencyMS: 500,
      breakerFailures: 3,
      breakerHalfOpenMS: 1000,
      ignoreEnv: true,
    });
    // On a replica set the deployment is down only with every member down: one member lost is
    // an election the circuit must not interfere with (mongo-pool.replset.e2e-spec.ts).
    const rs = backend.replSet;
    const stopAll = async () => {
      if (rs) await Promise.all(rs.members.map((_, i) => rs.kill(i)));
      else await wire.stop();
    };
    const startAll = async () => {
      if (rs) await Promise.all(rs.members.map((_, i) => rs.restart(i)));
      else await wire.start();
    };
    const Item = booted.pool.connection.model('Item', new Schema({ n: Number }));
    try {
      await Item.create({ n: 1 });
      await stopAll();
      await waitFor(
        async () => {
          await Item.findOne({})
            .lean()
            .catch(() => undefined);
          return booted.pool.circuit.breaker.state !== 'closed';
        },
        { timeoutMs: 15_000, intervalMs: 20, description: 'the circuit opens' },
      );
      const times: number[] = [];
      let refused = 0;
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        const error = await Item.findOne({})
          .lean()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        times.push(performance.now() - t);
        if (error instanceof PoolUnavailableError) refused += 1;
      }
      // Refused without server selection; a half-open trial may be among the 20.
      expect(refused).toBeGreaterThanOrEqual(19);
      expect(median(times)).toBeLessThanOrEqual(100);
      expect((await healthStatus(booted.health)).status).toBe('down');

      await startAll();
      const back = performance.now();
      await waitFor(
        async () =>
          (await Item.findOne({ n: 1 })
            .lean()
            .catch(() => null)) !== null,
        {
          timeoutMs: 10_000,
          intervalMs: 50,
          description: 'operations succeed after the server returns',
        },
      );
      console.info(
        `mongo breaker: fail-fast median ${median(times).toFixed(2)} ms, recovery ${(performance.now() - back).toFixed(0)} ms`,
      );
      expect(booted.pool.circuit.breaker.state).toBe('closed');
    } finally {
      // start() on a running server fails; only a stop left by a failed assertion needs it.
      await startAll().catch(() => undefined);
      await booted.close();
    }
  });
});
