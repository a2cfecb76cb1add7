// Conformance through mongoose 9 models. Written against MongoDB's documented behaviour only, so
// the same suite passes on a real mongod (MONGODB_TEST_URL) and on MongoWireServer.
import type { MongoTestBackend } from '@nest-pools/testing';
import { startMongo, waitFor } from '@nest-pools/testing';
import type { CommandStartedEvent } from 'mongodb';
import { MongoClient, MongoServerError } from 'mongodb';
import type { Connection, Model } from 'mongoose';
import mongoose, { Schema } from 'mongoose';

interface Book {
  title: string;
  author: string;
  year: number;
  tags: string[];
  stock?: number;
}

/** The `serverStatus.connections` fields both mongod and the wire server report. */
interface ConnectionCounts {
  current: number;
  available: number;
  totalCreated: number;
  active: number;
}

interface Account {
  email: string;
  name?: string;
  logins: number;
}

describe('MongoDB conformance through mongoose models', () => {
  let mongo: MongoTestBackend;
  let conn: Connection;
  let Books: Model<Book>;
  let Accounts: Model<Account>;
  const started: CommandStartedEvent[] = [];

  beforeAll(async () => {
    mongo = await startMongo({ dbPrefix: 'conformance' });
    conn = await mongoose
      .createConnection(mongo.url, { serverSelectionTimeoutMS: 1500, monitorCommands: true })
      .asPromise();
    conn.getClient().on('commandStarted', (event: CommandStartedEvent) => started.push(event));
    Books = conn.model<Book>(
      'Book',
      new Schema<Book>({
        title: { type: String, required: true },
        author: String,
        year: Number,
        tags: [String],
        stock: Number,
      }),
    );
    Accounts = conn.model<Account>(
      'Account',
      new Schema<Account>(
        {
          email: { type: String, required: true, unique: true },
          name: String,
          logins: { type: Number, default: 0 },
        },
        { timestamps: true },
      ),
    );
    await Promise.all([Books.init(), Accounts.init()]);
  });

  afterAll(async () => {
    await conn?.close();
    await mongo?.stop();
  });

  beforeEach(async () => {
    await Books.deleteMany({});
    await Books.insertMany([
      { title: 'Dune', author: 'Herbert', year: 1965, tags: ['sf', 'classic'], stock: 4 },
      { title: 'Neuromancer', author: 'Gibson', year: 1984, tags: ['sf', 'cyberpunk'], stock: 0 },
      { title: 'Emma', author: 'Austen', year: 1815, tags: ['classic'], stock: 2 },
      { title: 'Persuasion', author: 'Austen', year: 1817, tags: ['classic'], stock: 1 },
      { title: 'Count Zero', author: 'Gibson', year: 1986, tags: ['sf', 'cyberpunk'] },
    ]);
  });

  it('creates documents and reads them back with their generated _id', async () => {
    const created = await Books.create({ title: 'Ubik', author: 'Dick', year: 1969, tags: [] });
    const found = await Books.findById(created._id).lean();
    expect(found).toMatchObject({ title: 'Ubik', author: 'Dick', year: 1969, tags: [] });
    expect(String(found?._id)).toBe(String(created._id));
  });

  it('finds with filters, sort, skip, limit and projection', async () => {
    const sf = await Books.find({ tags: 'sf', year: { $gte: 1980 } })
      .sort({ year: -1 })
      .lean();
    expect(sf.map((b) => b.title)).toEqual(['Count Zero', 'Neuromancer']);

    const page = await Books.find({}).sort({ year: 1 }).skip(1).limit(2).lean();
    expect(page.map((b) => b.title)).toEqual(['Persuasion', 'Dune']);

    const names = await Books.find({ author: { $in: ['Austen'] } }, { title: 1, _id: 0 })
      .sort({ title: 1 })
      .lean();
    expect(names).toEqual([{ title: 'Emma' }, { title: 'Persuasion' }]);

    const regex = await Books.find({ title: /^n/i }).lean();
    expect(regex.map((b) => b.title)).toEqual(['Neuromancer']);

    const either = await Books.countDocuments({
      $or: [{ stock: 0 }, { stock: { $exists: false } }],
    });
    expect(either).toBe(2);
  });

  it('iterates a cursor across several batches (getMore)', async () => {
    await Books.insertMany(
      Array.from({ length: 120 }, (_, i) => ({
        title: `bulk-${String(i).padStart(3, '0')}`,
        author: 'Bulk',
        year: 2000 + (i % 10),
        tags: ['bulk'],
      })),
    );
    started.length = 0;
    const titles: string[] = [];
    for await (const book of Books.find({ author: 'Bulk' })
      .sort({ title: 1 })
      .batchSize(25)
      .cursor()) {
      titles.push(book.title);
    }
    expect(titles).toHaveLength(120);
    expect(titles[0]).toBe('bulk-000');
    expect(titles[119]).toBe('bulk-119');
    const getMores = started.filter((e) => e.commandName === 'getMore');
    expect(getMores.length).toBeGreaterThanOrEqual(4);
  });

  it('closes a cursor early with killCursors', async () => {
    await Books.insertMany(
      Array.from({ length: 30 }, (_, i) => ({ title: `k${i}`, author: 'K', year: i, tags: [] })),
    );
    started.length = 0;
    const cursor = Books.find({ author: 'K' }).batchSize(5).cursor();
    const first = await cursor.next();
    expect(first).not.toBeNull();
    await cursor.close();
    expect(started.some((e) => e.commandName === 'killCursors')).toBe(true);
  });

  it('updates with operators, counts matched and modified, and upserts', async () => {
    const res = await Books.updateMany(
      { author: 'Gibson' },
      { $inc: { stock: 5 }, $push: { tags: 'reread' } },
    );
    expect(res).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const gibson = await Books.find({ author: 'Gibson' }).sort({ year: 1 }).lean();
    expect(gibson.map((b) => b.stock)).toEqual([5, 5]);
    expect(gibson[0]?.tags).toEqual(['sf', 'cyberpunk', 'reread']);

    const noop = await Books.updateOne({ title: 'Dune' }, { $set: { stock: 4 } });
    expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });

    await Books.updateOne({ title: 'Emma' }, { $unset: { stock: 1 }, $set: { year: 1816 } });
    expect(await Books.findOne({ title: 'Emma' }).lean()).toMatchObject({ year: 1816 });
    expect((await Books.findOne({ title: 'Emma' }).lean())?.stock).toBeUndefined();

    const up = await Books.updateOne(
      { title: 'Solaris', author: 'Lem' },
      { $set: { year: 1961 }, $setOnInsert: { tags: ['new'] } },
      { upsert: true },
    );
    expect(up.upsertedCount).toBe(1);
    expect(up.upsertedId).toBeTruthy();
    expect(await Books.findOne({ title: 'Solaris' }).lean()).toMatchObject({
      author: 'Lem',
      year: 1961,
      tags: ['new'],
    });

    const again = await Books.updateOne(
      { title: 'Solaris', author: 'Lem' },
      { $set: { year: 1962 }, $setOnInsert: { tags: ['ignored'] } },
      { upsert: true },
    );
    expect(again).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    expect((await Books.findOne({ title: 'Solaris' }).lean())?.tags).toEqual(['new']);
  });

  it('findOneAndUpdate returns before/after documents and upserts', async () => {
    const before = await Books.findOneAndUpdate({ title: 'Dune' }, { $inc: { stock: -1 } }).lean();
    expect(before?.stock).toBe(4);
    const after = await Books.findOneAndUpdate(
      { title: 'Dune' },
      { $inc: { stock: -1 } },
      { returnDocument: 'after' },
    ).lean();
    expect(after?.stock).toBe(2);

    const created = await Accounts.findOneAndUpdate(
      { email: 'new@example.com' },
      { $inc: { logins: 1 } },
      { upsert: true, returnDocument: 'after' },
    ).lean();
    expect(created).toMatchObject({ email: 'new@example.com', logins: 1 });
    expect(created).toHaveProperty('createdAt');

    const removed = await Books.findOneAndDelete({ title: 'Emma' }).lean();
    expect(removed?.title).toBe('Emma');
    expect(await Books.exists({ title: 'Emma' })).toBeNull();
  });

  it('replaces a whole document but keeps its _id', async () => {
    const dune = await Books.findOne({ title: 'Dune' }).lean();
    await Books.replaceOne(
      { _id: dune?._id },
      { title: 'Dune Messiah', author: 'Herbert', year: 1969, tags: [] },
    );
    const replaced = await Books.findById(dune?._id).lean();
    expect(replaced).toMatchObject({ title: 'Dune Messiah', year: 1969 });
    expect(replaced?.stock).toBeUndefined();
  });

  it('deletes one or many documents', async () => {
    expect(await Books.deleteOne({ author: 'Austen' })).toMatchObject({ deletedCount: 1 });
    expect(await Books.deleteMany({ tags: 'sf' })).toMatchObject({ deletedCount: 3 });
    expect(await Books.countDocuments()).toBe(1);
  });

  it('enforces unique indexes with a duplicate-key error (E11000)', async () => {
    await Accounts.deleteMany({});
    await Accounts.create({ email: 'ada@example.com', name: 'Ada' });
    const error = await Accounts.create({ email: 'ada@example.com', name: 'Other' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error).toMatchObject({
      code: 11000,
      keyPattern: { email: 1 },
      keyValue: { email: 'ada@example.com' },
    });
    expect((error as MongoServerError).message).toMatch(/E11000 duplicate key error/);

    const bulk = await Accounts.insertMany(
      [{ email: 'b@example.com' }, { email: 'ada@example.com' }, { email: 'c@example.com' }],
      { ordered: false },
    ).catch((e: unknown) => e);
    expect(bulk).toMatchObject({ code: 11000 });
    expect(await Accounts.countDocuments()).toBe(3);

    await Accounts.create({ email: 'd@example.com' });
    const clash = await Accounts.updateOne(
      { email: 'd@example.com' },
      { $set: { email: 'b@example.com' } },
    ).catch((e: unknown) => e);
    expect(clash).toMatchObject({ code: 11000 });

    const indexes = await Accounts.listIndexes();
    expect(indexes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: '_id_', key: { _id: 1 } }),
        expect.objectContaining({ key: { email: 1 }, unique: true }),
      ]),
    );
  });

  it('counts documents (countDocuments, estimatedDocumentCount) and lists distinct values', async () => {
    expect(await Books.countDocuments({ tags: 'classic' })).toBe(3);
    expect(await Books.countDocuments({ year: { $lt: 0 } })).toBe(0);
    expect(await Books.estimatedDocumentCount()).toBe(5);
    const authors = await Books.distinct('author');
    expect([...authors].sort()).toEqual(['Austen', 'Gibson', 'Herbert']);
    const tags = await Books.distinct('tags', { author: 'Gibson' });
    expect([...tags].sort()).toEqual(['cyberpunk', 'sf']);
  });

  it('runs an aggregation pipeline', async () => {
    const perAuthor = await Books.aggregate<{ _id: string; books: number; firstYear: number }>([
      { $match: { year: { $gt: 1800 } } },
      { $group: { _id: '$author', books: { $sum: 1 }, firstYear: { $min: '$year' } } },
      { $sort: { books: -1, _id: 1 } },
      { $skip: 0 },
      { $limit: 2 },
      { $project: { books: 1, firstYear: 1 } },
    ]);
    expect(perAuthor).toEqual([
      { _id: 'Austen', books: 2, firstYear: 1815 },
      { _id: 'Gibson', books: 2, firstYear: 1984 },
    ]);
    const [counted] = await Books.aggregate<{ total: number }>([
      { $match: { tags: 'sf' } },
      { $count: 'total' },
    ]);
    expect(counted).toEqual({ total: 3 });
    const unwound = await Books.aggregate<{ _id: string; n: number }>([
      { $unwind: '$tags' },
      { $group: { _id: '$tags', n: { $sum: 1 } } },
      { $sort: { _id: 1 } },
    ]);
    expect(unwound).toEqual([
      { _id: 'classic', n: 3 },
      { _id: 'cyberpunk', n: 2 },
      { _id: 'sf', n: 3 },
    ]);
  });

  it('keeps databases apart ($db) and lists collections', async () => {
    const otherName = `${mongo.dbName}_b`;
    const other = conn.useDb(otherName, { useCache: false });
    try {
      const OtherBooks = other.model<Book>('Book', Books.schema);
      await OtherBooks.create({ title: 'Only here', author: 'X', year: 1, tags: [] });
      expect(await OtherBooks.countDocuments()).toBe(1);
      expect(await Books.countDocuments({ title: 'Only here' })).toBe(0);
      const collections = await conn.db!.listCollections({}, { nameOnly: true }).toArray();
      expect(collections.map((c) => c.name)).toEqual(expect.arrayContaining(['books', 'accounts']));
    } finally {
      await other.dropDatabase();
    }
  });

  it('reports serverStatus connection counts that match the sockets a client opens and closes', async () => {
    const admin = conn.db!.admin();
    const connections = async (): Promise<ConnectionCounts> =>
      ((await admin.command({ serverStatus: 1 })) as { connections: ConnectionCounts }).connections;

    const before = await connections();
    expect(before.current).toBeGreaterThanOrEqual(1);
    expect(before.available).toBeGreaterThan(0);
    expect(before.totalCreated).toBeGreaterThanOrEqual(before.current);
    expect(before.active).toBeGreaterThanOrEqual(1);

    const poolSize = 3;
    const extra = new MongoClient(mongo.url, {
      minPoolSize: poolSize,
      maxPoolSize: poolSize,
      serverSelectionTimeoutMS: 1500,
    });
    let ready = 0;
    extra.on('connectionReady', () => (ready += 1));
    try {
      await extra.connect();
      await extra.db('admin').command({ ping: 1 });
      await waitFor(() => ready >= poolSize, { timeoutMs: 3000, description: 'min pool filled' });
      // Pool sockets plus one or two monitoring sockets (heartbeat and RTT pinger).
      const during = await waitFor(
        async () => {
          const c = await connections();
          return c.current - before.current >= poolSize ? c : undefined;
        },
        { timeoutMs: 3000, description: 'server to see the new sockets' },
      );
      expect(during.current - before.current).toBeLessThanOrEqual(poolSize + 2);
      expect(during.totalCreated - before.totalCreated).toBeGreaterThanOrEqual(poolSize);
      expect(during.available).toBeLessThan(before.available);
    } finally {
      await extra.close();
    }
    const after = await waitFor(
      async () => {
        const c = await connections();
        return c.current <= before.current ? c : undefined;
      },
      { timeoutMs: 3000, description: 'server to see the sockets closed' },
    );
    expect(after.current).toBe(before.current);
  });

  it('answers connectionStatus and unknown commands like mongod', async () => {
    const status = await conn.db!.admin().command({ connectionStatus: 1 });
    expect(status).toMatchObject({ ok: 1, authInfo: expect.any(Object) });
    const error = await conn.db!.command({ definitelyNotACommand: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });
});
