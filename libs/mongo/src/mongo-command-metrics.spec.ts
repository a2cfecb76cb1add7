import { PoolMetrics } from '@nest-pools/core';
import mongoose from 'mongoose';
import { Registry } from 'prom-client';

import { MongoCommandMetrics } from './mongo-command-metrics.js';
import { loadMongoDriverInternals, type MongoDriverInternals } from './mongo-timed-connection.js';

/** `db_client_operation_duration_seconds` counts, as `operation collection namespace error`. */
async function counts(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('db_client_operation_duration_seconds')?.get();
  const out: Record<string, number> = {};
  for (const v of metric?.values ?? []) {
    if ((v as { metricName?: string }).metricName !== 'db_client_operation_duration_seconds_count')
      continue;
    const l = v.labels as Record<string, string>;
    const key = [l['db_operation_name'], l['db_collection_name'] || '-', l['db_namespace']];
    out[[...key, l['error_type'] || 'ok'].join(' ')] = v.value;
  }
  return out;
}

/** Stands in for the driver's connection class: replies ok, or fails an `insert`. */
class FakeConnection {
  constructor(
    readonly id: unknown,
    readonly established: boolean,
  ) {}

  command(_ns: { db: string }, command: Record<string, unknown>): Promise<unknown> {
    if ('insert' in command) {
      return Promise.reject(Object.assign(new Error('E11000'), { codeName: 'DuplicateKey' }));
    }
    return Promise.resolve({ ok: 1 });
  }
}

type Timed = new (id: unknown, established: boolean) => FakeConnection;

describe('MongoCommandMetrics', () => {
  let registry: Registry;
  let metrics: PoolMetrics;
  let warnings: string[];
  const warn = (message: string) => warnings.push(message);
  const client = (options: mongoose.mongo.MongoClientOptions) =>
    new mongoose.mongo.MongoClient('mongodb://127.0.0.1:1/app', options);

  beforeEach(() => {
    registry = new Registry();
    metrics = new PoolMetrics(registry);
    warnings = [];
  });

  it("times the installed driver's pool connections, without command monitoring", () => {
    const commands = new MongoCommandMetrics(metrics, 'orders', warn);
    const options = commands.clientOptions();
    const mongoClient = client(options);
    commands.attach(mongoClient);
    expect(loadMongoDriverInternals()).toBeDefined();
    expect(options).toMatchObject({ monitorCommands: false, connectionType: expect.any(Function) });
    expect(commands.timing).toBe('connection');
    expect(mongoClient.options.monitorCommands).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('times each command by name, collection, database and error; skips handshakes and monitors', async () => {
    const internals: MongoDriverInternals = {
      Connection: FakeConnection,
      clientOptions: { connectionType: {} },
    };
    const commands = new MongoCommandMetrics(metrics, 'orders', warn, () => internals);
    const { connectionType } = commands.clientOptions() as { connectionType: Timed };
    const pooled = new connectionType(1, true);
    await pooled.command({ db: 'shop' }, { find: 'items', filter: {} });
    await pooled.command({ db: 'shop' }, { find: 'items', filter: {} });
    await pooled.command({ db: 'admin' }, { ping: 1 });
    await pooled.command({ db: 'shop' }, { flushRouterConfig: 1 });
    await expect(pooled.command({ db: 'shop' }, { insert: 'items' })).rejects.toThrow('E11000');
    // The handshake of a new connection and the heartbeat monitor's commands are not operations.
    await new connectionType(2, false).command({ db: 'admin' }, { hello: 1 });
    await new connectionType('<monitor>', true).command({ db: 'admin' }, { hello: 1 });

    expect(await counts(registry)).toEqual({
      'find items shop ok': 2,
      'ping - admin ok': 1,
      'other - shop ok': 1,
      'insert items shop DuplicateKey': 1,
    });
  });

  it.each<[string, MongoDriverInternals | undefined, RegExp]>([
    ['the driver internals cannot be loaded', undefined, /could not be loaded/],
    [
      'the connection class has no command()',
      { Connection: class {}, clientOptions: { connectionType: {} } },
      /no Connection class with a command\(\) method/,
    ],
    [
      'connectionType is not an accepted option',
      { Connection: FakeConnection, clientOptions: {} },
      /does not accept the connectionType/,
    ],
  ])('falls back to command monitoring when %s, and says so once', async (_, internals, why) => {
    const commands = new MongoCommandMetrics(metrics, 'orders', warn, () => internals);
    const options = commands.clientOptions();
    expect(options).toEqual({ monitorCommands: true });
    const mongoClient = client(options);
    commands.attach(mongoClient);
    expect(commands.timing).toBe('command-monitoring');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(why);
    mongoClient.emit('commandStarted', {
      requestId: 7,
      commandName: 'find',
      command: { find: 'items' },
      databaseName: 'shop',
    } as unknown as mongoose.mongo.CommandStartedEvent);
    mongoClient.emit('commandSucceeded', {
      requestId: 7,
      duration: 3,
    } as unknown as mongoose.mongo.CommandSucceededEvent);
    expect(await counts(registry)).toEqual({ 'find items shop ok': 1 });
    commands.detach();
  });

  it('falls back when the client did not take the timed connection class', async () => {
    const commands = new MongoCommandMetrics(metrics, 'orders', warn);
    // As a driver would that drops an option it no longer knows.
    const mongoClient = client({ monitorCommands: false });
    commands.attach(mongoClient);
    expect(commands.timing).toBe('command-monitoring');
    expect(mongoClient.options.monitorCommands).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/did not take the connectionType option/);
    mongoClient.emit('commandStarted', {
      requestId: 8,
      commandName: 'insert',
      command: { insert: 'items' },
      databaseName: 'shop',
    } as unknown as mongoose.mongo.CommandStartedEvent);
    mongoClient.emit('commandFailed', {
      requestId: 8,
      duration: 2,
      failure: Object.assign(new Error('E11000'), { codeName: 'DuplicateKey' }),
    } as unknown as mongoose.mongo.CommandFailedEvent);
    expect(await counts(registry)).toEqual({ 'insert items shop DuplicateKey': 1 });
    commands.detach();
  });
});
