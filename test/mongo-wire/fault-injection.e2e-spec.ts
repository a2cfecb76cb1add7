// Fault injection on MongoWireServer, observed through the real mongodb driver.
import { MongoWireServer, waitFor } from '@nest-pools/testing';
import type { MongoClientOptions } from 'mongodb';
import {
  MongoClient,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
} from 'mongodb';

describe('MongoWireServer fault injection seen by the mongodb driver', () => {
  let server: MongoWireServer;
  const clients: MongoClient[] = [];

  const client = async (options: MongoClientOptions = {}): Promise<MongoClient> => {
    const c = new MongoClient(server.uri('faults'), {
      serverSelectionTimeoutMS: 800,
      connectTimeoutMS: 500,
      heartbeatFrequencyMS: 500,
      ...options,
    });
    clients.push(c);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    server = await MongoWireServer.create();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.clearFaults();
    if (!server.isRunning) await server.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('command latency beyond socketTimeoutMS surfaces as a network timeout', async () => {
    const c = await client({ socketTimeoutMS: 300 });
    const items = c.db('faults').collection('latency');
    await items.insertOne({ a: 1 });
    server.setLatency(900, 'find');
    const started = Date.now();
    const error = await items.findOne({ a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkTimeoutError);
    expect(Date.now() - started).toBeLessThan(850);
    server.setLatency(0, 'find');
    await expect(items.findOne({ a: 1 })).resolves.toMatchObject({ a: 1 });
  });

  it('latency reaching maxTimeMS answers MaxTimeMSExpired (50) after maxTimeMS', async () => {
    const c = await client();
    const items = c.db('faults').collection('maxtime');
    server.setLatency(2000);
    const started = Date.now();
    const error = await items
      .find({})
      .maxTimeMS(150)
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({ code: 50, codeName: 'MaxTimeMSExpired' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1500);
  });

  it('global latency delays every command but the handshake', async () => {
    const c = await client();
    server.setLatency(120);
    const started = Date.now();
    await c.db('admin').command({ ping: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('failNext(n) makes the next n commands fail with the given code', async () => {
    const c = await client({ retryReads: false });
    const items = c.db('faults').collection('fail');
    server.failNext(2, { code: 2, errmsg: 'injected failure', commands: ['find'] });
    for (let i = 0; i < 2; i += 1) {
      const error = await items.findOne({}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoServerError);
      expect(error).toMatchObject({ code: 2, codeName: 'BadValue', errmsg: 'injected failure' });
    }
    await expect(items.findOne({})).resolves.toBeNull();
  });

  it('a retryable failure is retried once by the driver and succeeds', async () => {
    const c = await client({ retryReads: true });
    const items = c.db('faults').collection('retry');
    await items.insertOne({ ok: true });
    server.resetCommandsSeen();
    server.failNext(1, { code: 189, codeName: 'PrimarySteppedDown', commands: ['find'] });
    await expect(items.findOne({})).resolves.toMatchObject({ ok: true });
    expect(server.commandsSeen.find).toBe(2);
  });

  it('failNext with closeConnection drops the socket (network error)', async () => {
    const c = await client({ retryReads: false });
    server.failNext(1, { code: 0, closeConnection: true, commands: ['find'] });
    const error = await c
      .db('faults')
      .collection('drop')
      .findOne({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkError);
  });

  it('closeAllClientSockets clears the driver pool and the driver recovers', async () => {
    const c = await client();
    let cleared = 0;
    c.on('connectionPoolCleared', () => (cleared += 1));
    await c.db('admin').command({ ping: 1 });
    // The driver notices a lost server through its monitor, so close while the monitor waits
    // in a streaming hello (an idle pooled socket alone is just discarded on next checkout).
    await waitFor(() => server.connectionStats().awaitingTopologyChanges > 0, {
      timeoutMs: 3000,
      description: 'monitor in a streaming hello',
    });
    expect(server.openSockets).toBeGreaterThanOrEqual(2);
    const acceptedBefore = server.totalAccepted;

    expect(server.closeAllClientSockets()).toBeGreaterThanOrEqual(2);
    await waitFor(() => cleared > 0, { timeoutMs: 3000, description: 'connectionPoolCleared' });
    await waitFor(
      async () =>
        (await c
          .db('admin')
          .command({ ping: 1 })
          .then(
            () => true,
            () => false,
          )) || undefined,
      { timeoutMs: 3000, description: 'driver to recover' },
    );
    expect(server.totalAccepted).toBeGreaterThan(acceptedBefore);
  });

  it('refusing connections makes server selection time out; accepting again on the same port works', async () => {
    const port = server.port;
    await server.refuseConnections(true);
    const refused = new MongoClient(server.uri('faults'), { serverSelectionTimeoutMS: 500 });
    clients.push(refused);
    const started = Date.now();
    const error = await refused.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerSelectionError);
    expect(Date.now() - started).toBeLessThan(3000);

    await server.refuseConnections(false);
    expect(server.port).toBe(port);
    const c = await client();
    await expect(c.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('hang mode accepts sockets but never answers: handshakes and commands time out', async () => {
    const c = await client({ socketTimeoutMS: 300, retryReads: false });
    await c.db('admin').command({ ping: 1 });
    server.hang(true);
    const opError = await c
      .db('admin')
      .command({ ping: 1 })
      .catch((e: unknown) => e);
    expect(opError).toBeInstanceOf(MongoNetworkTimeoutError);

    const acceptedBefore = server.totalAccepted;
    const fresh = new MongoClient(server.uri('faults'), {
      serverSelectionTimeoutMS: 600,
      connectTimeoutMS: 200,
    });
    clients.push(fresh);
    const selectError = await fresh.connect().catch((e: unknown) => e);
    expect(selectError).toBeInstanceOf(MongoServerSelectionError);
    expect(server.totalAccepted).toBeGreaterThan(acceptedBefore);

    server.hang(false);
    const recovered = await client();
    await expect(recovered.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('stop() and start() come back on the same port; the driver reconnects and data survives', async () => {
    const c = await client({ serverSelectionTimeoutMS: 1500 });
    const items = c.db('faults').collection('restart');
    await items.insertOne({ survived: true });
    const port = server.port;

    await server.stop();
    expect(server.openSockets).toBe(0);
    const down = await c
      .db('admin')
      .command({ ping: 1 }, { timeoutMS: 400 })
      .catch((e: unknown) => e);
    expect(down).toBeInstanceOf(Error);

    await server.start();
    expect(server.port).toBe(port);
    await expect(items.findOne({ survived: true })).resolves.toMatchObject({ survived: true });
  });

  it('counts sockets and commands', async () => {
    const acceptedBefore = server.totalAccepted;
    server.resetCommandsSeen();
    const c = await client({ maxPoolSize: 2 });
    await Promise.all([1, 2, 3].map(() => c.db('admin').command({ ping: 1 })));
    expect(server.commandsSeen.ping).toBe(3);
    expect(server.openSockets).toBeGreaterThanOrEqual(2);
    expect(server.totalAccepted - acceptedBefore).toBeGreaterThanOrEqual(2);
    await c.close();
    await waitFor(() => server.openSockets === 0, { description: 'sockets closed' });
  });
});
