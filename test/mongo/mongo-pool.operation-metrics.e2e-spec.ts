// Per-command latency of a MongoDB pool (MONGODB_OPERATION_METRICS): the driver's command
// monitoring turned into db_client_operation_duration_seconds by command, collection and database,
// failures by error type, the health probe's pings left out, and nothing for a pool with it off.
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
  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend.stop();
    jest.restoreAllMocks();
  });

  it('times every command by name, collection and database; failures by error type', async () => {
    const booted = await bootPool({
      url: backend.url('opmetrics'),
      minPoolSize: 0,
      operationMetrics: true,
      ignoreEnv: true,
    });
    try {
      const connection = booted.pool.connection;
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
      // Health pings go through the probe's own client, which is not monitored.
      expect([...ops.keys()].filter((k) => k.startsWith('ping'))).toEqual([]);
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
});
