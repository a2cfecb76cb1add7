import { MongoWireServer, startMongo, withDatabase } from '@nest-pools/testing';
import { MongoClient } from 'mongodb';

describe('withDatabase', () => {
  it('replaces or adds the database path and keeps hosts, credentials and options', () => {
    expect(withDatabase('mongodb://localhost:27017', 'a')).toBe('mongodb://localhost:27017/a');
    expect(withDatabase('mongodb://h1:1,h2:2/old?replicaSet=rs', 'b')).toBe(
      'mongodb://h1:1,h2:2/b?replicaSet=rs',
    );
    expect(withDatabase('mongodb+srv://u:p@cluster.example.net/?retryWrites=true', 'c')).toBe(
      'mongodb+srv://u:p@cluster.example.net/c?retryWrites=true',
    );
  });

  it('refuses strings that are not connection strings, without echoing passwords', () => {
    expect(() => withDatabase('user:secret@host', 'x')).toThrow(/Not a MongoDB connection string/);
    expect(() => withDatabase('user:secret@host', 'x')).not.toThrow(/secret/);
  });
});

describe('startMongo', () => {
  it('falls back to MongoWireServer and gives each call its own database', async () => {
    const lines: string[] = [];
    const a = await startMongo({ env: {}, tryMemoryServer: false, log: (l) => lines.push(l) });
    const b = await startMongo({
      env: {},
      tryMemoryServer: false,
      log: (l) => lines.push(l),
      dbPrefix: 'other',
    });
    try {
      expect(a.kind).toBe('wire');
      expect(a.wire).toBeInstanceOf(MongoWireServer);
      expect(a.dbName).not.toBe(b.dbName);
      expect(b.dbName.startsWith('other_')).toBe(true);
      expect(a.url).toContain(`/${a.dbName}?`);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/MongoDB backend: MongoWireServer/);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(a.wire?.isRunning).toBe(false);
  });

  it('uses MONGODB_TEST_URL as an external server and drops its database on stop', async () => {
    const server = await MongoWireServer.create();
    const lines: string[] = [];
    try {
      const external = await startMongo({
        env: { MONGODB_TEST_URL: `${server.url}/ignored?directConnection=true` },
        log: (l) => lines.push(l),
      });
      expect(external.kind).toBe('external');
      expect(external.wire).toBeUndefined();
      expect(external.url).toBe(`${server.url}/${external.dbName}?directConnection=true`);
      expect(lines[0]).toMatch(/external server from MONGODB_TEST_URL/);

      const client = new MongoClient(external.url, { serverSelectionTimeoutMS: 1000 });
      try {
        await client.db().collection('x').insertOne({ a: 1 });
        const before = await client.db('admin').admin().listDatabases({ nameOnly: true });
        expect(before.databases.map((d) => d.name)).toContain(external.dbName);
        await external.stop();
        const after = await client.db('admin').admin().listDatabases({ nameOnly: true });
        expect(after.databases.map((d) => d.name)).not.toContain(external.dbName);
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('masks the password of an external URL in its log line', async () => {
    const lines: string[] = [];
    const backend = await startMongo({
      env: { MONGODB_TEST_URL: 'mongodb://app:s3cret@127.0.0.1:1/x' },
      log: (l) => lines.push(l),
    });
    expect(lines[0]).toContain('app:***@');
    expect(lines[0]).not.toContain('s3cret');
    expect(backend.url).toContain('app:s3cret@');
  });
});
