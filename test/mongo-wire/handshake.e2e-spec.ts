import { MongoWireServer, waitFor } from '@nest-pools/testing';
import { MongoClient, MongoServerError } from 'mongodb';

describe('MongoWireServer handshake and basic commands (mongodb driver)', () => {
  let server: MongoWireServer;
  let client: MongoClient;

  beforeAll(async () => {
    server = await MongoWireServer.create();
    client = new MongoClient(server.uri(), { serverSelectionTimeoutMS: 1000 });
    await client.connect();
  });

  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('binds the loopback interface on a free port', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`mongodb://127.0.0.1:${server.port}`);
  });

  it('answers hello like a writable standalone the driver accepts', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      logicalSessionTimeoutMinutes: 30,
      minWireVersion: 0,
      ok: 1,
    });
    expect(hello.maxWireVersion).toBeGreaterThanOrEqual(9);
    expect(hello.localTime).toBeInstanceOf(Date);
    expect(typeof hello.connectionId).toBe('number');
    expect(hello.topologyVersion).toMatchObject({ processId: expect.anything() });
    expect(hello.setName).toBeUndefined();
  });

  it('answers ping and round-trips inserted documents', async () => {
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    const items = client.db('basic').collection<{ name: string; qty: number }>('items');
    const { insertedId } = await items.insertOne({ name: 'pen', qty: 3 });
    const found = await items.findOne({ _id: insertedId });
    expect(found).toEqual({ _id: insertedId, name: 'pen', qty: 3 });
  });

  it('answers unknown commands with CommandNotFound (59) and keeps the socket', async () => {
    const error = await client
      .db('admin')
      .command({ noSuchCommand: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  it('reports buildInfo like a MongoDB 8.0 server', async () => {
    const info = await client.db('admin').command({ buildInfo: 1 });
    expect(info).toMatchObject({ version: '8.0.0', versionArray: [8, 0, 0, 0], bits: 64, ok: 1 });
  });

  it('drops collections and databases', async () => {
    const db = client.db('dropme');
    await db.collection('a').insertOne({});
    await db.collection('b').insertOne({});
    await expect(db.collection('a').drop()).resolves.toBe(true);
    expect((await db.listCollections().toArray()).map((c) => c.name)).toEqual(['b']);
    await expect(db.dropDatabase()).resolves.toBe(true);
    const { databases } = await client.db('admin').admin().listDatabases({ nameOnly: true });
    expect(databases.map((d) => d.name)).not.toContain('dropme');
  });

  it('receives endSessions when a client that used sessions closes', async () => {
    const other = new MongoClient(server.uri(), { serverSelectionTimeoutMS: 1000 });
    await other.db('basic').collection('items').findOne({});
    const before = server.commandsSeen.endSessions ?? 0;
    await other.close();
    await waitFor(() => (server.commandsSeen.endSessions ?? 0) === before + 1, {
      timeoutMs: 2000,
      description: 'endSessions from the closing client',
    });
  });

  it('counts the commands it saw by name', async () => {
    server.resetCommandsSeen();
    const items = client.db('basic').collection('counted');
    await items.insertOne({ a: 1 });
    await items.insertOne({ a: 2 });
    await items.find({}).toArray();
    expect(server.commandsSeen).toMatchObject({ insert: 2, find: 1 });
    expect(server.commandsSeen.ping).toBeUndefined();
    expect(server.totalAccepted).toBeGreaterThanOrEqual(server.openSockets);
  });
});
