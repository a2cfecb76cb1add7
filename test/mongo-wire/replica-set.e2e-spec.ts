import { type MongoWireReplicaSet, startMongoReplicaSet, waitFor } from '@nest-pools/testing';
import {
  type AnyBulkWriteOperation,
  type Collection,
  type Document,
  Long,
  MongoBulkWriteError,
  MongoClient,
  type MongoServerError,
  ObjectId,
  type Timestamp,
  UUID,
} from 'mongodb';

import { watchDriver } from '../support/mongo-failover.js';
import { RawClient } from './raw-wire-client.js';

/** A client connected straight to one member (no replica-set discovery). */
function direct(rs: MongoWireReplicaSet, index: number): MongoClient {
  return new MongoClient(`mongodb://${rs.hosts[index]}/?directConnection=true`, {
    serverSelectionTimeoutMS: 2000,
  });
}

interface Hello {
  isWritablePrimary: boolean;
  secondary: boolean;
  setVersion: number;
  primary?: string;
  electionId?: ObjectId;
  topologyVersion: { processId: ObjectId; counter: number };
  lastWrite: { lastWriteDate: Date; opTime: { ts: Timestamp } };
}

async function hello(rs: MongoWireReplicaSet, index: number): Promise<Hello> {
  const client = direct(rs, index);
  try {
    return (await client.db('admin').command({ hello: 1 })) as unknown as Hello;
  } finally {
    await client.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<MongoServerError> {
  try {
    await promise;
  } catch (error) {
    return error as MongoServerError;
  }
  throw new Error('expected the command to fail');
}

describe('MongoWireReplicaSet (wire server as a replica set)', () => {
  let rs: MongoWireReplicaSet;

  beforeEach(async () => {
    rs = await startMongoReplicaSet({ members: 3, name: 'rsT', electionDelayMs: 100 });
  });
  afterEach(async () => {
    await rs.stop();
  });

  it('answers hello as replica-set members do', async () => {
    const primary = await hello(rs, 0);
    expect(primary).toMatchObject({
      isWritablePrimary: true,
      secondary: false,
      setName: 'rsT',
      setVersion: 1,
      hosts: rs.hosts,
      primary: rs.hosts[0],
      me: rs.hosts[0],
    });
    expect(primary.electionId).toBeInstanceOf(ObjectId);
    expect(primary.topologyVersion.processId).toBeInstanceOf(ObjectId);
    expect(primary.lastWrite.lastWriteDate).toBeInstanceOf(Date);
    const secondary = await hello(rs, 2);
    expect(secondary).toMatchObject({
      isWritablePrimary: false,
      secondary: true,
      primary: rs.hosts[0],
      me: rs.hosts[2],
    });
    expect(secondary.electionId).toBeUndefined();
  });

  it('refuses writes and primary reads on a secondary, serves secondaryPreferred reads', async () => {
    // Raw commands: a driver connected directly always adds $readPreference primaryPreferred.
    const raw = await RawClient.open(rs.members[1]!.port);
    const client = direct(rs, 1);
    try {
      const write = await raw.command({ insert: 'c', documents: [{ a: 1 }], $db: 'rs' });
      expect(write.doc).toMatchObject({ ok: 0, code: 10107, codeName: 'NotWritablePrimary' });
      expect(write.doc.errorLabels).toBeUndefined();
      const retryable = await raw.command({
        insert: 'c',
        documents: [{ a: 1 }],
        lsid: { id: new ObjectId().id },
        txnNumber: Long.fromNumber(1),
        $db: 'rs',
      });
      expect(retryable.doc).toMatchObject({ code: 10107, errorLabels: ['RetryableWriteError'] });
      const read = await raw.command({ find: 'c', filter: {}, $db: 'rs' });
      expect(read.doc).toMatchObject({ ok: 0, code: 13435, codeName: 'NotPrimaryNoSecondaryOk' });
      const preferred = await raw.command({
        find: 'c',
        filter: {},
        $readPreference: { mode: 'secondaryPreferred' },
        $db: 'rs',
      });
      expect(preferred.doc.ok).toBe(1);
      const ok = await client
        .db('rs')
        .collection('c')
        .find({}, { readPreference: 'secondaryPreferred' })
        .toArray();
      expect(ok).toEqual([]);
    } finally {
      raw.close();
      await client.close();
    }
  });

  it('steps down like an election: no primary, then a higher electionId, same setVersion', async () => {
    const before = await hello(rs, 0);
    rs.stepDown();
    expect(rs.primary).toBeUndefined();
    const during = await hello(rs, 1);
    expect(during.primary).toBeUndefined();
    expect(during.isWritablePrimary).toBe(false);
    const next = await rs.waitForPrimary();
    expect(next).not.toBe(0);
    const after = await hello(rs, next);
    expect(after).toMatchObject({ isWritablePrimary: true, setVersion: before.setVersion });
    expect(Buffer.compare(after.electionId!.id, before.electionId!.id)).toBe(1);
    const old = await hello(rs, 0);
    expect(old).toMatchObject({ isWritablePrimary: false, primary: rs.hosts[next] });
    expect(old.topologyVersion.counter).toBeGreaterThanOrEqual(2);
    expect(rs.events.map((e) => e.kind)).toEqual(['elected', 'steppedDown', 'elected']);
  });

  it('a stepped-down primary refuses writes with its new topologyVersion, as mongod 4.4+', async () => {
    const before = (await hello(rs, 0)).topologyVersion;
    const raw = await RawClient.open(rs.members[0]!.port);
    try {
      rs.stepDown();
      const write = await raw.command({
        insert: 'c',
        documents: [{ a: 1 }],
        lsid: { id: new UUID() },
        txnNumber: Long.fromNumber(1),
        $db: 'rs',
      });
      expect(write.doc).toMatchObject({ ok: 0, code: 10107, errorLabels: ['RetryableWriteError'] });
      const version = write.doc.topologyVersion as Hello['topologyVersion'];
      expect(version.processId).toEqual(before.processId);
      // Newer than any monitor reply sent before the step-down: a driver drops those.
      expect(Number(version.counter)).toBeGreaterThan(Number(before.counter));
      expect(version).toEqual((await hello(rs, 0)).topologyVersion);
    } finally {
      raw.close();
    }
  });

  it('replSetStepDown moves the primary; a secondary refuses it', async () => {
    const secondary = direct(rs, 1);
    const primary = direct(rs, 0);
    try {
      const refused = await failure(secondary.db('admin').command({ replSetStepDown: 60 }));
      expect(refused.code).toBe(10107);
      await expect(primary.db('admin').command({ replSetStepDown: 60 })).resolves.toMatchObject({
        ok: 1,
      });
      await rs.waitForPrimary();
      expect(rs.primary).not.toBe(0);
    } finally {
      await Promise.all([secondary.close(), primary.close()]);
    }
  });

  it('applies a retried write once and answers with the first result', async () => {
    const client = new MongoClient(rs.uri('rs'), { serverSelectionTimeoutMS: 5000 });
    try {
      const c = client.db('rs').collection('retry');
      rs.loseNextAcks(2);
      await c.insertOne({ n: 1 });
      await c.updateOne({ n: 1 }, { $inc: { v: 1 } });
      expect(rs.retriesAnswered).toBe(2);
      expect(await c.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ n: 1, v: 1 }]);
    } finally {
      await client.close();
    }
  });

  it('refuses transactions with IllegalOperation (20), never runs them', async () => {
    const client = new MongoClient(rs.uri('rs'), { serverSelectionTimeoutMS: 5000 });
    try {
      const c = client.db('rs').collection('txn');
      const session = client.startSession();
      session.startTransaction();
      const read = await failure(c.findOne({}, { session }));
      expect(read).toMatchObject({ code: 20, codeName: 'IllegalOperation' });
      expect(read.message).toMatch(/transactions are only allowed/i);
      // For writes the driver replaces code 20 with its own advice, as against a mongod that
      // cannot run transactions; the server's answer stays in originalError.
      const write = await failure(c.insertOne({ t: 1 }, { session }));
      expect(write.errorResponse.originalError).toMatchObject({ code: 20 });
      await session.abortTransaction().catch(() => undefined);
      await session.endSession();
      expect(await c.countDocuments()).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('kill and restart: a new primary is elected, the killed member rejoins as secondary', async () => {
    await rs.kill(0);
    const next = await rs.waitForPrimary();
    expect(next).not.toBe(0);
    await rs.restart(0);
    await waitFor(async () => (await hello(rs, 0)).secondary === true, {
      timeoutMs: 5000,
      description: 'restarted member answers as secondary',
    });
    expect((await hello(rs, 0)).primary).toBe(rs.hosts[next]);
  });
});

describe('MongoWireReplicaSet replication lag', () => {
  /** Long enough that a local read right after a write certainly completes within it. */
  const LAG_MS = 2000;
  const W1 = { writeConcern: { w: 1 } } as const;
  const SECONDARY = { readPreference: 'secondaryPreferred' } as const;
  let rs: MongoWireReplicaSet;
  let client: MongoClient;

  beforeEach(async () => {
    rs = await startMongoReplicaSet({ members: 3, name: 'rsL', electionDelayMs: 100 });
    client = new MongoClient(rs.uri('rs'), {
      serverSelectionTimeoutMS: 5000,
      heartbeatFrequencyMS: 500,
    });
    // secondaryPreferred goes to the primary while the driver knows no secondary.
    const driver = watchDriver(client);
    await client.connect();
    await waitFor(() => rs.hosts.slice(1).every((h) => driver.types.get(h) === 'RSSecondary'), {
      timeoutMs: 5000,
      description: 'driver knows both secondaries',
    });
    driver.detach();
  });
  afterEach(async () => {
    await client.close();
    await rs.stop();
  });

  const finds = (): number[] => rs.members.map((m) => m.commandsSeen.find ?? 0);

  it('a secondaryPreferred read misses a w:1 write until the lag has passed', async () => {
    const c = client.db('rs').collection<{ k: string; v?: number }>('lag');
    await c.insertMany([
      { k: 'updated', v: 1 },
      { k: 'deleted' },
      ...[1, 2, 3].map((i) => ({ k: `old${i}` })),
    ]);
    rs.setReplicationLag(LAG_MS);
    expect(rs.replicationLagMs).toBe(LAG_MS);
    // Data from before the lag is on every secondary (initial sync), cursors continue there.
    expect(await c.find({}, { ...SECONDARY, batchSize: 2 }).toArray()).toHaveLength(5);

    const before = performance.now();
    await c.insertOne({ k: 'inserted' }, W1);
    await c.updateOne({ k: 'updated' }, { $set: { v: 2 } }, W1);
    await c.deleteOne({ k: 'deleted' }, W1);
    const view = async () => {
      const docs = await c.find({}, SECONDARY).toArray();
      return {
        inserted: docs.some((d) => d.k === 'inserted'),
        v: docs.find((d) => d.k === 'updated')?.v,
        deleted: !docs.some((d) => d.k === 'deleted'),
      };
    };
    const secondaryFinds = finds();
    const stale = await view();
    expect(performance.now() - before).toBeLessThan(LAG_MS);
    expect(stale).toEqual({ inserted: false, v: 1, deleted: false });
    const primary = await c.find({}, { readPreference: 'primary' }).toArray();
    expect(primary.map((d) => d.k)).toContain('inserted');
    // The hello of a lagging secondary reports an older lastWrite than the primary's.
    const opTime = async (i: number) => (await hello(rs, i)).lastWrite.opTime.ts;
    expect((await opTime(1)).lessThan(await opTime(0))).toBe(true);

    let firstSeenAt: number | undefined;
    await waitFor(
      async () => {
        const v = await view();
        if (v.inserted || v.v === 2 || v.deleted) firstSeenAt ??= performance.now();
        return v.inserted && v.v === 2 && v.deleted;
      },
      { timeoutMs: LAG_MS + 5000, intervalMs: 50, description: 'secondary applies the writes' },
    );
    // A change shows on a secondary no sooner than the lag after it was made.
    expect(firstSeenAt! - before).toBeGreaterThanOrEqual(LAG_MS);
    expect(await opTime(1)).toEqual(await opTime(0));
    const served = finds().map((n, i) => n - (secondaryFinds[i] ?? 0));
    expect(served[0]).toBe(1); // the readPreference: 'primary' read
    expect((served[1] ?? 0) + (served[2] ?? 0)).toBeGreaterThanOrEqual(2);
  });

  it('a majority write concern (and the implicit default) waits for the lag; w:1 does not', async () => {
    const c = client.db('rs').collection<{ k: string }>('wc');
    rs.setReplicationLag(LAG_MS);
    let started = performance.now();
    await c.insertOne({ k: 'w1' }, W1);
    expect(performance.now() - started).toBeLessThan(LAG_MS);
    started = performance.now();
    await c.insertOne({ k: 'default' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(LAG_MS);
    // Acknowledged by a majority: the secondaries have it (and the w:1 write before it).
    expect((await c.find({}, SECONDARY).toArray()).map((d) => d.k)).toEqual(['w1', 'default']);
    started = performance.now();
    await c.insertOne({ k: 'majority' }, { writeConcern: { w: 'majority' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(LAG_MS);
  });

  it('with lag 0 a write is visible on the secondaries at once; clearing the lag flushes it', async () => {
    const c = client.db('rs').collection<{ k: string }>('nolag');
    const before = finds();
    await c.insertOne({ k: 'a' }, W1);
    expect(await c.findOne({ k: 'a' }, SECONDARY)).toMatchObject({ k: 'a' });
    rs.setReplicationLag(60_000);
    await c.insertOne({ k: 'b' }, W1);
    expect(await c.findOne({ k: 'b' }, SECONDARY)).toBeNull();
    rs.setReplicationLag(0);
    expect(await c.findOne({ k: 'b' }, SECONDARY)).toMatchObject({ k: 'b' });
    const served = finds().map((n, i) => n - (before[i] ?? 0));
    expect(served[0]).toBe(0);
    expect((served[1] ?? 0) + (served[2] ?? 0)).toBe(3);
  });

  it('a primary that steps down keeps its writes; the new primary has every write', async () => {
    const c = client.db('rs').collection<{ k: string }>('failover');
    rs.setReplicationLag(60_000);
    await c.insertOne({ k: 'before' }, W1);
    rs.stepDown();
    const next = await rs.waitForPrimary();
    const other = [1, 2].find((i) => i !== next)!;
    const read = async (i: number) => {
      // A direct connection reads the member itself, whatever its state.
      const member = direct(rs, i);
      try {
        return await member.db('rs').collection('failover').findOne({ k: 'before' });
      } finally {
        await member.close();
      }
    };
    expect(await read(0)).toMatchObject({ k: 'before' });
    expect(await read(next)).toMatchObject({ k: 'before' });
    expect(await read(other)).toBeNull();
  });
});

/** Documents of the retryable-write tests, with readable string ids. */
interface Row {
  _id: string;
  k?: number;
  v?: number;
}

describe('MongoWireReplicaSet retryable writes, statement by statement', () => {
  let rs: MongoWireReplicaSet;
  let client: MongoClient;
  /** Replies of the primary to write commands, as the driver received them. */
  const replies: Array<{ name: string; reply: Document }> = [];

  beforeEach(async () => {
    rs = await startMongoReplicaSet({ members: 3, name: 'rsS', electionDelayMs: 100 });
    client = new MongoClient(rs.uri('rs'), {
      serverSelectionTimeoutMS: 5000,
      monitorCommands: true,
    });
    client.on('commandSucceeded', (e) => {
      if (['insert', 'update', 'delete'].includes(e.commandName)) {
        replies.push({ name: e.commandName, reply: e.reply as Document });
      }
    });
    await client.connect();
  });
  afterEach(async () => {
    replies.length = 0;
    await client.close();
    await rs.stop();
  });

  const rowsOf = (name: string) => client.db('rs').collection<Row>(name);

  /** The same operation on a fresh collection with and without `fault` first: same outcome. */
  const withAndWithout = async <T>(
    operation: (c: Collection<Row>) => Promise<T>,
    fault: () => void,
  ): Promise<{ faulted: unknown; clean: unknown; data: [Document[], Document[]] }> => {
    const outcome = (p: Promise<T>) => p.catch((error: unknown) => error);
    const clean = rowsOf('clean');
    const faulted = rowsOf('faulted');
    for (const c of [clean, faulted]) await c.insertOne({ _id: 'existing', k: 0 });
    const cleanResult = await outcome(operation(clean));
    fault();
    const faultedResult = await outcome(operation(faulted));
    const rows = (c: Collection<Row>) => c.find({}, { sort: { _id: 1 } }).toArray();
    return {
      faulted: faultedResult,
      clean: cleanResult,
      data: [await rows(faulted), await rows(clean)],
    };
  };

  it('insertMany cut after 4 of 10 documents: the retry inserts the other 6 and answers n: 10', async () => {
    const docs = Array.from({ length: 10 }, (_, i) => ({ _id: `d${i}` }));
    const { faulted, clean, data } = await withAndWithout(
      (c) => c.insertMany(docs.map((d) => ({ ...d }))),
      () => rs.interruptNextWrite(4, 'insert'),
    );
    expect(faulted).toEqual(clean);
    expect(data[0]).toEqual(data[1]);
    expect(data[0]).toHaveLength(11);
    expect(rs.retriesAnswered).toBe(1);
    const retry = replies.at(-1)!.reply;
    expect(retry).toMatchObject({ n: 10, retriedStmtIds: [0, 1, 2, 3] });
    expect(retry.writeErrors).toBeUndefined();
  });

  it('an ordered bulkWrite cut inside its update batch: matched, modified and upserted as without the cut', async () => {
    const ops: AnyBulkWriteOperation<Row>[] = [
      { insertOne: { document: { _id: 'a', k: 1 } } },
      { insertOne: { document: { _id: 'b', k: 2 } } },
      { updateOne: { filter: { _id: 'existing' }, update: { $inc: { k: 1 } } } },
      { updateOne: { filter: { _id: 'u' }, update: { $set: { k: 9 } }, upsert: true } },
      { replaceOne: { filter: { _id: 'a' }, replacement: { k: 10 } } },
      { updateOne: { filter: { _id: 'nothing' }, update: { $set: { k: 1 } } } },
      { deleteOne: { filter: { _id: 'b' } } },
    ];
    const { faulted, clean, data } = await withAndWithout(
      (c) => c.bulkWrite(ops, { ordered: true }),
      () => rs.interruptNextWrite(2, 'update'),
    );
    expect(faulted).toEqual(clean);
    expect(faulted).toMatchObject({
      insertedCount: 2,
      matchedCount: 2,
      modifiedCount: 2,
      upsertedCount: 1,
      upsertedIds: { 3: 'u' },
      deletedCount: 1,
    });
    expect(data[0]).toEqual(data[1]);
    expect(data[0]).toEqual([
      { _id: 'a', k: 10 },
      { _id: 'existing', k: 1 },
      { _id: 'u', k: 9 },
    ]);
    const retry = replies.filter((r) => r.name === 'update').at(-1)!.reply;
    expect(retry).toMatchObject({
      n: 3,
      nModified: 2,
      upserted: [{ index: 1, _id: 'u' }],
      retriedStmtIds: [0, 1],
    });
  });

  it('an unordered insertMany with a duplicate, cut after 3: the retry re-runs only the failed and the rest', async () => {
    const docs = ['a', 'b', 'existing', 'c', 'd'].map((_id) => ({ _id }));
    const { faulted, clean, data } = await withAndWithout(
      (c) =>
        c.insertMany(
          docs.map((d) => ({ ...d })),
          { ordered: false },
        ),
      () => rs.interruptNextWrite(3, 'insert'),
    );
    expect(faulted).toBeInstanceOf(MongoBulkWriteError);
    const error = faulted as MongoBulkWriteError;
    expect(error.insertedCount).toBe((clean as MongoBulkWriteError).insertedCount);
    expect(error.insertedCount).toBe(4);
    expect(error.writeErrors).toEqual([expect.objectContaining({ index: 2, code: 11000 })]);
    expect(data[0]).toEqual(data[1]);
    // Statements 0 and 1 from the history, 2 run again (and failing again), 3 and 4 run.
    expect(replies.at(-1)?.reply).toMatchObject({
      n: 4,
      retriedStmtIds: [0, 1],
      writeErrors: [expect.objectContaining({ index: 2, code: 11000 })],
    });
    expect(rs.retriesAnswered).toBe(1);
  });

  describe('exact retries over the wire (same lsid and txnNumber)', () => {
    let raw: RawClient;
    const lsid = { id: new UUID() };
    const txn = (n: number) => ({ lsid, txnNumber: Long.fromNumber(n), $db: 'rs' });
    const send = async (cmd: Document) => (await raw.command(cmd)).doc;
    const rows = () =>
      rowsOf('raw')
        .find({}, { sort: { _id: 1 } })
        .toArray();

    beforeEach(async () => {
      raw = await RawClient.open(rs.members[0]!.port);
      await rowsOf('raw').createIndex({ k: 1 }, { unique: true, sparse: true });
    });
    afterEach(() => raw.close());

    it('an ordered batch stopped by an error: a retry skips what was applied and runs the rest', async () => {
      await rowsOf('raw').insertOne({ _id: 'blocker', k: 2 });
      const cmd = {
        update: 'raw',
        updates: [
          { q: { _id: 'a' }, u: { $inc: { v: 1 } }, upsert: true },
          { q: { _id: 'b' }, u: { $set: { k: 2 } }, upsert: true },
          { q: { _id: 'c' }, u: { $inc: { v: 1 } }, upsert: true },
        ],
        ordered: true,
        ...txn(1),
      };
      const first = await send(cmd);
      expect(first).toMatchObject({
        ok: 1,
        n: 1,
        nModified: 0,
        upserted: [{ index: 0, _id: 'a' }],
      });
      expect(first.writeErrors).toEqual([expect.objectContaining({ index: 1, code: 11000 })]);
      expect(first.retriedStmtIds).toBeUndefined();

      const again = await send(cmd);
      expect(again).toMatchObject({
        n: 1,
        upserted: [{ index: 0, _id: 'a' }],
        retriedStmtIds: [0],
      });
      expect(again.writeErrors).toEqual([expect.objectContaining({ index: 1, code: 11000 })]);

      await rowsOf('raw').deleteOne({ _id: 'blocker' });
      const resumed = await send(cmd);
      expect(resumed).toMatchObject({
        ok: 1,
        n: 3,
        nModified: 0,
        upserted: [
          { index: 0, _id: 'a' },
          { index: 1, _id: 'b' },
          { index: 2, _id: 'c' },
        ],
        retriedStmtIds: [0],
      });
      expect(resumed.writeErrors).toBeUndefined();
      const last = await send(cmd);
      expect(last).toMatchObject({ n: 3, upserted: resumed.upserted, retriedStmtIds: [0, 1, 2] });
      expect(await rows()).toEqual([
        { _id: 'a', v: 1 },
        { _id: 'b', k: 2 },
        { _id: 'c', v: 1 },
      ]);

      expect(await send({ ...cmd, ...txn(0) })).toMatchObject({ ok: 0, code: 225 });
      // A new txnNumber is a new write: every statement runs (the $inc and $set update now).
      const next = await send({ ...cmd, ...txn(2) });
      expect(next).toMatchObject({ n: 3, nModified: 2 });
      expect(next.retriedStmtIds).toBeUndefined();
      expect(await rows()).toEqual([
        { _id: 'a', v: 2 },
        { _id: 'b', k: 2 },
        { _id: 'c', v: 2 },
      ]);
    });

    it('statements are known by stmtIds: a retry carrying one more statement runs only that one', async () => {
      const docs = [
        { _id: 1, k: 1 },
        { _id: 2, k: 2 },
        { _id: 3, k: 3 },
      ];
      const first = await send({
        insert: 'raw',
        documents: docs.slice(0, 2),
        stmtIds: [10, 20],
        ordered: false,
        ...txn(5),
      });
      expect(first).toMatchObject({ ok: 1, n: 2 });
      const retry = await send({
        insert: 'raw',
        documents: docs,
        stmtIds: [10, 20, 30],
        ordered: false,
        ...txn(5),
      });
      expect(retry).toMatchObject({ ok: 1, n: 3, retriedStmtIds: [10, 20] });
      expect(retry.writeErrors).toBeUndefined();
      // stmtId: the first statement's id, the others follow.
      const updates = [
        { q: { _id: 1 }, u: { $inc: { k: 100 } } },
        { q: { _id: 2 }, u: { $inc: { k: 100 } } },
      ];
      await send({ update: 'raw', updates: updates.slice(0, 1), stmtId: 7, ...txn(6) });
      const both = await send({ update: 'raw', updates, stmtId: 7, ...txn(6) });
      expect(both).toMatchObject({ n: 2, nModified: 2, retriedStmtIds: [7] });
      expect((await rows()).map((d) => d.k as number)).toEqual([101, 102, 3]);
    });

    it('deletes and no-op updates: only statements that wrote are kept', async () => {
      await rowsOf('raw').insertMany([
        { _id: 'x', k: 1 },
        { _id: 'y', k: 2 },
      ]);
      const cmd = {
        delete: 'raw',
        deletes: [
          { q: { _id: 'x' }, limit: 1 },
          { q: { _id: 'later' }, limit: 1 },
        ],
        ordered: false,
        ...txn(8),
      };
      expect(await send(cmd)).toMatchObject({ ok: 1, n: 1 });
      await rowsOf('raw').insertOne({ _id: 'later', k: 3 });
      // Statement 1 deleted nothing, so nothing was kept for it: the retry runs it.
      expect(await send(cmd)).toMatchObject({ ok: 1, n: 2, retriedStmtIds: [0] });
      const noop = {
        update: 'raw',
        updates: [{ q: { _id: 'y' }, u: { $set: { k: 2 } } }],
        ...txn(9),
      };
      expect(await send(noop)).toMatchObject({ n: 1, nModified: 0 });
      const rerun = await send(noop);
      expect(rerun).toMatchObject({ n: 1, nModified: 0 });
      expect(rerun.retriedStmtIds).toBeUndefined();
      expect(await rows()).toEqual([{ _id: 'y', k: 2 }]);
    });

    it('refuses multi updates and limit 0 deletes statement by statement', async () => {
      const update = await send({
        update: 'raw',
        updates: [
          { q: { _id: 'm' }, u: { $set: { k: 1 } }, upsert: true },
          { q: {}, u: { $set: { z: 1 } }, multi: true },
        ],
        ordered: true,
        ...txn(10),
      });
      expect(update).toMatchObject({ ok: 1, n: 1 });
      expect(update.writeErrors).toEqual([
        expect.objectContaining({
          index: 1,
          code: 72,
          errmsg: 'Cannot use (or request) retryable writes with multi=true',
        }),
      ]);
      const del = await send({
        delete: 'raw',
        deletes: [
          { q: { _id: 'm' }, limit: 1 },
          { q: {}, limit: 0 },
        ],
        ordered: false,
        ...txn(11),
      });
      expect(del).toMatchObject({ ok: 1, n: 1 });
      expect(del.writeErrors).toEqual([
        expect.objectContaining({ index: 1, code: 72, errmsg: expect.stringMatching(/limit=0/) }),
      ]);
    });

    it('findAndModify: a retry gets the stored pre-image and retriedStmtId, the write applied once', async () => {
      await rowsOf('raw').insertOne({ _id: 'f', v: 1 });
      const cmd = {
        findAndModify: 'raw',
        query: { _id: 'f' },
        update: { $inc: { v: 1 } },
        ...txn(12),
      };
      const first = await send(cmd);
      expect(first).toMatchObject({ ok: 1, value: { _id: 'f', v: 1 } });
      expect(first.retriedStmtId).toBeUndefined();
      const retry = await send(cmd);
      expect(retry).toMatchObject({
        ok: 1,
        value: { _id: 'f', v: 1 },
        lastErrorObject: { n: 1, updatedExisting: true },
        retriedStmtId: 0,
      });
      expect(await rows()).toEqual([{ _id: 'f', v: 2 }]);
    });
  });
});
