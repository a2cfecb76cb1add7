// Per-command latency of a MongoDB pool (MONGODB_OPERATION_METRICS): every command of the pool's
// connections timed into db_client_operation_duration_seconds by command, collection and database,
// failures by error type, without the driver's command monitoring; the health probe's pings,
// connection handshakes and heartbeats left out, and nothing for a pool with it off.
import { once } from 'node:events';

import { jest } from '@jest/globals';
import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { Logger } from '@nestjs/common';
import { Schema } from 'mongoose';
import type { Registry } from 'prom-client';

import {
  bootPool,
  healthStatus,
  type MongoBackend,
  type PoolApp,
  slowFind,
  startBackend,
} from '../support/mongo.js';
import { type OperationSeries, operationSeries } from '../support/stats.js';

/** `db_client_operation_duration_seconds` series of `pool`, keyed `operation collection error`. */
function operations(booted: PoolApp, pool = 'default'): Promise<Map<string, OperationSeries>> {
  return operationSeries(booted.app.get<Registry>(POOL_METRICS_REGISTRY), pool, (labels) =>
    [
      labels['db_operation_name'],
      labels['db_collection_name'] || '-',
      labels['error_type'] || 'ok',
    ].join(' '),
  );
}

describe('MongoDB per-operation metrics', () => {
  let backend: MongoBackend;
  let warn: jest.Spied<Logger['warn']>;
  beforeAll(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend.stop();
    jest.restoreAllMocks();
  });

  it('times every command by name, collection and database; failures by error type', async () => {
    const url = backend.url('opmetrics');
    const booted = await bootPool({
      // Polled heartbeats, so the monitor's own connection sends its hello as a command.
      url: `${url}${url.includes('?') ? '&' : '?'}serverMonitoringMode=poll`,
      minPoolSize: 0,
      operationMetrics: true,
      heartbeatFrequencyMS: 500,
      ignoreEnv: true,
    });
    try {
      const connection = booted.pool.connection;
      const heartbeats = once(booted.pool.client, 'serverHeartbeatSucceeded');
      const Item = connection.model('Item', new Schema({ n: Number }), 'items');
      await Item.create({ n: 1 });
      await Item.create({ n: 2 });
      await Item.find({}).lean();
      await Item.updateOne({ n: 1 }, { $set: { n: 3 } });
      await Item.aggregate([{ $match: { n: { $gt: 0 } } }]);
      await expect(connection.db!.command({ noSuchCommand: 1 })).rejects.toThrow();
      // The server holds this find for 200 ms: its observed time cannot be shorter.
      const slow = slowFind(backend, connection, 'items', 200);
      await slow();
      backend.wire?.setLatency(0, ['find']);
      await healthStatus(booted.health);
      // A heartbeat after the pool's connections were opened: neither is an operation.
      await heartbeats;
      await once(booted.pool.client, 'serverHeartbeatSucceeded');

      const ops = await operations(booted);
      const database = connection.db!.databaseName;
      expect(ops.get('insert items ok')).toMatchObject({
        count: 2,
        labels: {
          pool_name: 'default',
          db_system_name: 'mongodb',
          db_operation_name: 'insert',
          db_collection_name: 'items',
          db_namespace: database,
          error_type: '',
        },
      });
      expect(ops.get('find items ok')?.count).toBe(2);
      expect(ops.get('find items ok')?.sum).toBeGreaterThanOrEqual(0.2);
      expect(ops.get('update items ok')?.count).toBe(1);
      expect(ops.get('aggregate items ok')?.count).toBe(1);
      expect(ops.get('other - CommandNotFound')?.count).toBe(1);
      // Health pings go through the probe's own client, which is not timed; handshakes and the
      // monitor's heartbeats (hello) are not operations.
      expect([...ops.keys()].sort()).toEqual([
        'aggregate items ok',
        'create items ok',
        'find items ok',
        'insert items ok',
        'other - CommandNotFound',
        'update items ok',
      ]);
      // Timed on the connections, not through the driver's command monitoring.
      expect(booted.pool.client.options.monitorCommands).toBe(false);
      expect(warn.mock.calls.flat().join('\n')).not.toMatch(/command monitoring/);
    } finally {
      await booted.close();
    }
  });

  it('writes nothing for a pool with operation metrics off', async () => {
    const booted = await bootPool({ url: backend.url('opquiet'), minPoolSize: 0, ignoreEnv: true });
    try {
      const Item = booted.pool.connection.model('Item', new Schema({ n: Number }), 'items');
      await Item.create({ n: 1 });
      await Item.find({}).lean();
      expect((await operations(booted)).size).toBe(0);
    } finally {
      await booted.close();
    }
  });

  it('records no metric at all for a pool with pool metrics off (MONGODB_POOL_METRICS=false)', async () => {
    const booted = await bootPool({
      url: backend.url('opoff'),
      minPoolSize: 2,
      operationMetrics: true,
      poolMetrics: false,
      ignoreEnv: true,
    });
    try {
      const Item = booted.pool.connection.model('Item', new Schema({ n: Number }), 'items');
      await Item.create({ n: 1 });
      await Item.find({}).lean();
      expect((await healthStatus(booted.health)).status).toBe('up');
      const registry = booted.app.get<Registry>(POOL_METRICS_REGISTRY);
      const series = (await registry.getMetricsAsJSON()).flatMap((m) => m.values);
      expect(series).toEqual([]);
    } finally {
      await booted.close();
    }
  });
});
