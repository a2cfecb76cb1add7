import { type MongoWireReplicaSet, startMongoReplicaSet, waitFor } from '@nest-pools/testing';
import { Long, MongoClient, type MongoServerError, ObjectId } from 'mongodb';

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
  lastWrite: { lastWriteDate: Date };
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
