// Fidelity to a standalone mongod 7/8 where tests can tell: exact BSON number types, the write
// errors of update operators on the wrong type, the 16 MiB and batch limits, the answers to
// legacy opcodes and malformed OP_MSG, and retryable-write txnNumbers on a standalone. Written
// against mongod's behaviour, so it also runs on a real server (MONGODB_TEST_URL).
import type { MongoTestBackend } from '@nest-pools/testing';
import { startMongo, waitFor } from '@nest-pools/testing';
import type { Document } from 'bson';
import { Decimal128, Double, Int32, Long, UUID } from 'bson';
import type { Collection, Db, UpdateFilter } from 'mongodb';
import { MongoClient, MongoServerError } from 'mongodb';

import {
  frame,
  header,
  OP_MSG,
  OP_QUERY,
  OP_REPLY,
  opQueryBody,
  RawClient,
} from './raw-wire-client.js';

/** Documents with plain `_id`s (the driver's default schema wants ObjectIds). */
interface Loose {
  _id: string | number;
  [field: string]: unknown;
}

/** An update document the schema types cannot describe (numbers of any BSON type). */
const asUpdate = (update: Document): UpdateFilter<Loose> => update;

const OP_GET_MORE = 2005;
const QUERY_FAILURE = 2;
const MiB = 1024 * 1024;

/** The server error a promise rejects with. */
async function serverError(promise: Promise<unknown>): Promise<MongoServerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MongoServerError) return error;
    throw error;
  }
  throw new Error('expected a MongoServerError');
}

describe('MongoDB wire fidelity (types, write errors, limits, legacy opcodes)', () => {
  let mongo: MongoTestBackend;
  let client: MongoClient;
  let db: Db;
  const raws: RawClient[] = [];
  const open = async (): Promise<RawClient> => {
    const url = new URL(mongo.url);
    const raw = await RawClient.open(Number(url.port));
    raws.push(raw);
    return raw;
  };
  /** A collection read back without number promotion: every BSON type shows as its class. */
  const exact = (name: string): Collection<Loose> =>
    db.collection<Loose>(name, { promoteValues: false });

  beforeAll(async () => {
    mongo = await startMongo({ dbPrefix: 'fidelity' });
    client = await MongoClient.connect(mongo.url, { serverSelectionTimeoutMS: 5000 });
    db = client.db(mongo.dbName);
  });

  afterEach(() => {
    for (const raw of raws.splice(0)) raw.close();
  });

  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  it('keeps int32, int64, double and decimal128 exactly, compares them numerically and follows mongod $inc/$mul types', async () => {
    const coll = exact('numbers');
    await coll.insertMany([
      { _id: 'int', v: new Int32(1) },
      { _id: 'long', v: Long.fromNumber(1) },
      { _id: 'double', v: new Double(1) },
      { _id: 'decimal', v: Decimal128.fromString('1') },
    ]);
    const stored = await coll.find({}, { sort: { _id: 1 } }).toArray();
    expect(stored.map((d) => (d.v as { _bsontype: string })._bsontype)).toEqual([
      'Decimal128',
      'Double',
      'Int32',
      'Long',
    ]);
    const count = (filter: Document): Promise<number> =>
      db.collection<Loose>('numbers').countDocuments(filter);
    expect(await count({ v: 1 })).toBe(4);
    expect(await count({ v: { $type: 'int' } })).toBe(1);
    expect(await count({ v: { $type: 'long' } })).toBe(1);
    expect(await count({ v: { $type: 'number' } })).toBe(4);
    expect(await count({ v: { $gt: new Double(0.5), $lt: Long.fromNumber(2) } })).toBe(4);

    await coll.insertOne({ _id: 'ops', i: new Int32(2147483647), d: Decimal128.fromString('1.5') });
    await coll.updateOne(
      { _id: 'ops' },
      asUpdate({ $inc: { i: new Int32(1), d: new Int32(1) }, $mul: { m: Long.fromNumber(2) } }),
    );
    const ops = (await coll.findOne({ _id: 'ops' })) as Document;
    expect(ops.i).toEqual(Long.fromNumber(2147483648));
    expect(ops.d).toEqual(Decimal128.fromString('2.5'));
    expect(ops.m).toEqual(Long.fromNumber(0));

    await coll.insertOne({ _id: 'max', n: Long.MAX_VALUE });
    const overflow = await serverError(
      db.collection<Loose>('numbers').updateOne({ _id: 'max' }, asUpdate({ $inc: { n: 1 } })),
    );
    expect(overflow.code).toBe(2);
  });

  it('refuses update operators on the wrong type with mongod write errors', async () => {
    const coll = db.collection<Loose>('wrong_types');
    await coll.insertOne({ _id: 1, s: 'text', n: 1, a: [1] });
    const refused = async (update: Document): Promise<[number | string | undefined, string]> => {
      const error = await serverError(coll.updateOne({ _id: 1 }, asUpdate(update)));
      return [error.code, error.message];
    };
    expect(await refused({ $inc: { s: 1 } })).toEqual([
      14,
      "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 's' of non-numeric type string",
    ]);
    expect((await refused({ $mul: { s: 2 } }))[0]).toBe(14);
    expect(await refused({ $push: { s: 1 } })).toEqual([
      2,
      "The field 's' must be an array but is of type string in document {_id: 1}",
    ]);
    expect((await refused({ $addToSet: { n: 1 } }))[0]).toBe(2);
    expect(await refused({ $pull: { n: 1 } })).toEqual([
      2,
      'Cannot apply $pull to a non-array value',
    ]);
    expect(await refused({ $set: { 'n.b': 1 } })).toEqual([
      28,
      "Cannot create field 'b' in element {n: 1}",
    ]);
    expect(await refused({ $inc: { n: 'x' } })).toEqual([
      14,
      'Cannot increment with non-numeric argument: {n: "x"}',
    ]);
    expect(await refused({ $rename: { n: 'n' } })).toEqual([
      2,
      'The source and target field for $rename must differ: n: "n"',
    ]);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1, s: 'text', n: 1, a: [1] });
  });

  it('announces and enforces the 16 MiB document, message and batch limits', async () => {
    const hello = await db.admin().command({ hello: 1 });
    expect(hello).toMatchObject({
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: 48000000,
      maxWriteBatchSize: 100000,
    });
    const coll = db.collection<Loose>('limits');
    const tooBig = await serverError(
      coll.insertOne({ _id: 'big', s: 'x'.repeat(16 * MiB + 1024) }),
    );
    expect(tooBig.code).toBe(2);
    expect(tooBig.message).toMatch(
      /^object to insert too large\. size in bytes: \d+, max size: 16777216$/,
    );

    await coll.insertOne({ _id: 'grows', a: 'x'.repeat(9 * MiB) });
    const grown = await serverError(
      coll.updateOne({ _id: 'grows' }, { $set: { b: 'y'.repeat(8 * MiB) } }),
    );
    expect(grown.code).toBe(17419);
    expect(await coll.countDocuments({ b: { $exists: true } })).toBe(0);

    const batch = await serverError(
      db.command({ insert: 'limits', documents: Array.from({ length: 100001 }, () => ({})) }),
    );
    expect(batch.code).toBe(16);
    expect(await coll.countDocuments({})).toBe(1);

    const raw = await open();
    raw.send(header(48000001, OP_MSG, 1));
    await waitFor(() => raw.closed, { timeoutMs: 5000, description: 'connection closed' });
  });

  it('answers legacy opcodes and malformed OP_MSG as mongod 7 does, never with OP_MSG for legacy ones', async () => {
    const raw = await open();
    raw.send(frame(OP_QUERY, opQueryBody(`${mongo.dbName}.coll`, { a: 1 })));
    const legacyFind = await raw.next();
    expect(legacyFind.opCode).toBe(OP_REPLY);
    expect(legacyFind.flags & QUERY_FAILURE).toBe(QUERY_FAILURE);
    expect(legacyFind.doc).toMatchObject({ code: 5739101 });
    expect(String(legacyFind.doc.$err)).toMatch(/OP_QUERY is no longer supported/);

    raw.send(frame(OP_QUERY, opQueryBody('admin.$cmd', { find: 'coll' })));
    const command = await raw.next();
    expect(command.opCode).toBe(OP_REPLY);
    expect(command.flags & QUERY_FAILURE).toBe(0);
    expect(command.doc).toMatchObject({ ok: 0, code: 352, codeName: 'UnsupportedOpQueryCommand' });

    const getMore = Buffer.concat([Buffer.alloc(4), Buffer.from('db.coll\0'), Buffer.alloc(12)]);
    raw.send(frame(OP_GET_MORE, getMore));
    const getMoreReply = await raw.next();
    expect(getMoreReply.opCode).toBe(OP_REPLY);
    expect(getMoreReply.flags & QUERY_FAILURE).toBe(QUERY_FAILURE);

    const flagged = await raw.command({ ping: 1, $db: 'admin' }, { flags: 1 << 3 });
    expect(flagged.doc).toMatchObject({ ok: 0, code: 223, codeName: 'IllegalOpMsgFlag' });
    const badSum = await raw.command({ ping: 1, $db: 'admin' }, { checksum: 'wrong' });
    expect(badSum.doc).toMatchObject({ ok: 0, codeName: 'ChecksumMismatch' });
    const goodSum = await raw.command({ ping: 1, $db: 'admin' }, { checksum: true });
    expect(goodSum.doc).toMatchObject({ ok: 1 });
    expect(raw.closed).toBe(false);
  });

  it('refuses a bare retryable-write txnNumber on a standalone (IllegalOperation)', async () => {
    const error = await serverError(
      db.command({
        insert: 'txn',
        documents: [{ _id: 1 }],
        lsid: { id: new UUID() },
        txnNumber: Long.fromNumber(1),
      }),
    );
    expect(error.code).toBe(20);
    expect(error.codeName).toBe('IllegalOperation');
    expect(error.message).toBe(
      'Transaction numbers are only allowed on a replica set member or mongos',
    );
    expect(await db.collection('txn').countDocuments({})).toBe(0);
  });
});
