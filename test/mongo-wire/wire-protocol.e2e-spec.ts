// Raw-socket checks of the framing the drivers rely on: OP_MSG sections and flags, the legacy
// OP_QUERY handshake, OP_COMPRESSED (zlib) and the refusal of everything else.
import { deflateSync } from 'node:zlib';

import { MongoWireServer, waitFor } from '@nest-pools/testing';
import type { Document } from 'bson';
import { serialize } from 'bson';
import { MongoClient } from 'mongodb';

import type { ZlibStats } from './raw-wire-client.js';
import {
  frame,
  header,
  newRequestId,
  OP_COMPRESSED,
  OP_INSERT,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  opMsgBody,
  opQueryBody,
  RawClient,
} from './raw-wire-client.js';

describe('MongoWireServer wire protocol (raw sockets)', () => {
  let server: MongoWireServer;
  const raws: RawClient[] = [];
  const open = async (): Promise<RawClient> => {
    const raw = await RawClient.open(server.port);
    raws.push(raw);
    return raw;
  };

  beforeAll(async () => {
    server = await MongoWireServer.create();
  });

  afterEach(() => {
    for (const raw of raws.splice(0)) raw.close();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('answers the legacy OP_QUERY isMaster handshake with OP_REPLY', async () => {
    const raw = await open();
    raw.send(
      frame(OP_QUERY, opQueryBody('admin.$cmd', { isMaster: 1, helloOk: true, client: {} })),
    );
    const reply = await raw.next();
    expect(reply.opCode).toBe(OP_REPLY);
    expect(reply.doc).toMatchObject({ ismaster: true, helloOk: true, ok: 1 });
    expect(reply.doc.isWritablePrimary).toBeUndefined();
  });

  it('accepts $query-wrapped OP_QUERY handshakes', async () => {
    const raw = await open();
    raw.send(
      frame(
        OP_QUERY,
        opQueryBody('admin.$cmd', {
          $query: { ismaster: 1 },
          $readPreference: { mode: 'primary' },
        }),
      ),
    );
    expect((await raw.next()).doc).toMatchObject({ ismaster: true, ok: 1 });
  });

  it('refuses other commands over OP_QUERY with UnsupportedOpQueryCommand (352)', async () => {
    const raw = await open();
    raw.send(frame(OP_QUERY, opQueryBody('test.$cmd', { find: 'x' })));
    const reply = await raw.next();
    expect(reply.opCode).toBe(OP_REPLY);
    expect(reply.doc).toMatchObject({ ok: 0, code: 352 });
  });

  it('merges kind-1 document sequences into the command and verifies the checksum', async () => {
    const raw = await open();
    const inserted = await raw.command(
      { insert: 'seq', $db: 'proto' },
      { sequences: { documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }] }, checksum: true },
    );
    expect(inserted.opCode).toBe(OP_MSG);
    expect(inserted.doc).toMatchObject({ n: 3, ok: 1 });
    const found = await raw.command({ find: 'seq', filter: {}, sort: { _id: -1 }, $db: 'proto' });
    expect((found.doc.cursor as Document).firstBatch).toEqual([{ _id: 3 }, { _id: 2 }, { _id: 1 }]);
  });

  it('does not answer requests flagged moreToCome, but runs them', async () => {
    const raw = await open();
    raw.send(
      frame(
        OP_MSG,
        opMsgBody({ insert: 'fire', documents: [{ _id: 'x' }], $db: 'proto' }, { flags: 2 }),
      ),
    );
    const count = await raw.command({ count: 'fire', $db: 'proto' });
    expect(count.doc).toMatchObject({ n: 1, ok: 1 });
  });

  it('answers with an error when $db is missing', async () => {
    const raw = await open();
    const reply = await raw.command({ ping: 1 });
    expect(reply.doc).toMatchObject({ ok: 0, code: 40571 });
  });

  it('answers legacy fire-and-forget OP_INSERT with nothing, like mongod 6+, and keeps the connection', async () => {
    const raw = await open();
    raw.send(
      frame(
        OP_INSERT,
        Buffer.concat([
          Buffer.alloc(4),
          Buffer.from('proto.legacy\0'),
          Buffer.from(serialize({ a: 1 })),
        ]),
      ),
    );
    // The next reply is the ping's: OP_INSERT got none, and inserted nothing.
    await expect(raw.command({ ping: 1, $db: 'admin' })).resolves.toMatchObject({ doc: { ok: 1 } });
    const count = await raw.command({ count: 'legacy', $db: 'proto' });
    expect(count.doc).toMatchObject({ n: 0, ok: 1 });
  });

  it('decodes zlib OP_COMPRESSED requests and answers compressed the same way', async () => {
    const raw = await open();
    const body = opMsgBody({ ping: 1, $db: 'admin' });
    const prefix = Buffer.alloc(9);
    prefix.writeInt32LE(OP_MSG, 0);
    prefix.writeInt32LE(body.length, 4);
    prefix.writeUInt8(2, 8);
    raw.send(frame(OP_COMPRESSED, Buffer.concat([prefix, deflateSync(body)])));
    const reply = await raw.next();
    expect(reply.compressorId).toBe(2);
    expect(reply.doc).toMatchObject({ ok: 1 });
  });

  it('refuses compressors it did not advertise (snappy) with an error reply', async () => {
    const raw = await open();
    const prefix = Buffer.alloc(9);
    prefix.writeInt32LE(OP_MSG, 0);
    prefix.writeInt32LE(10, 4);
    prefix.writeUInt8(1, 8);
    raw.send(frame(OP_COMPRESSED, Buffer.concat([prefix, Buffer.alloc(10)])));
    const reply = await raw.next();
    expect(reply.doc).toMatchObject({ ok: 0 });
    expect(String(reply.doc.errmsg)).toMatch(/compressor/);
  });

  it('negotiates only zlib in the handshake', async () => {
    const raw = await open();
    const reply = await raw.command({
      hello: 1,
      compression: ['snappy', 'zstd', 'zlib'],
      $db: 'admin',
    });
    expect(reply.doc.compression).toEqual(['zlib']);
    const none = await (await open()).command({ hello: 1, compression: ['snappy'], $db: 'admin' });
    expect(none.doc.compression).toEqual([]);
  });

  it('works with a driver configured for zlib compression', async () => {
    const client = new MongoClient(server.uri('zlib'), {
      compressors: ['zlib'],
      serverSelectionTimeoutMS: 1000,
    });
    try {
      const coll = client.db('zlib').collection('docs');
      await coll.insertMany(Array.from({ length: 50 }, (_, i) => ({ i, text: 'x'.repeat(200) })));
      expect(await coll.countDocuments({ i: { $gte: 25 } })).toBe(25);
      const status = await client.db('admin').command({ serverStatus: 1 });
      const zlib = (status as { network: { compression: { zlib: ZlibStats } } }).network.compression
        .zlib;
      // The inserted text compresses well: compressed bytes in < decompressed bytes out.
      expect(Number(zlib.decompressor.bytesIn)).toBeGreaterThan(0);
      expect(Number(zlib.decompressor.bytesIn)).toBeLessThan(Number(zlib.decompressor.bytesOut));
      expect(Number(zlib.compressor.bytesOut)).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('closes the connection on a malformed message length', async () => {
    const raw = await open();
    raw.send(header(8, OP_MSG, 1));
    await waitFor(() => raw.closed, { timeoutMs: 2000, description: 'socket closed by server' });
  });

  it('streams awaitable hello replies with moreToCome when exhaust is allowed', async () => {
    const raw = await open();
    const first = await raw.command({ hello: 1, $db: 'admin' });
    const topologyVersion = first.doc.topologyVersion as Document;
    const id = newRequestId();
    raw.send(
      frame(
        OP_MSG,
        opMsgBody(
          { hello: 1, topologyVersion, maxAwaitTimeMS: 100, $db: 'admin' },
          { flags: 1 << 16 },
        ),
        id,
      ),
    );
    const a = await raw.next();
    const b = await raw.next();
    expect(a.responseTo).toBe(id);
    expect(a.flags & 2).toBe(2);
    expect(b.flags & 2).toBe(2);
    expect(b.doc).toMatchObject({ isWritablePrimary: true, ok: 1 });
    expect(server.connectionStats().exhaustHello).toBeGreaterThanOrEqual(1);
  });

  it('answers getMore on an unknown cursor with CursorNotFound (43)', async () => {
    const raw = await open();
    const reply = await raw.command({ getMore: 12345, collection: 'x', $db: 'proto' });
    expect(reply.doc).toMatchObject({ ok: 0, code: 43, codeName: 'CursorNotFound' });
  });

  it('refuses transactions like a standalone mongod', async () => {
    const raw = await open();
    const reply = await raw.command({
      insert: 'tx',
      documents: [{}],
      startTransaction: true,
      autocommit: false,
      txnNumber: 1,
      $db: 'proto',
    });
    expect(reply.doc).toMatchObject({ ok: 0, code: 20 });
  });
});

describe('MongoWireServer connection limit', () => {
  it('closes connections beyond maxIncomingConnections and counts them as rejected', async () => {
    const server = await MongoWireServer.create({ maxIncomingConnections: 1 });
    const first = await RawClient.open(server.port);
    const second = await RawClient.open(server.port);
    try {
      await waitFor(() => second.closed, { timeoutMs: 2000, description: 'second socket closed' });
      expect(first.closed).toBe(false);
      expect(server.connectionStats()).toMatchObject({ current: 1, available: 0, rejected: 1 });
    } finally {
      first.close();
      second.close();
      await server.stop();
    }
  });
});
