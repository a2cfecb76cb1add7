import type { Document } from 'bson';
import { deserialize, serialize, Timestamp } from 'bson';

import { MongoWireEngine } from './mongo-wire-engine.js';
import { ReplicationLag } from './mongo-wire-replication.js';

const write = (i: number) => ({ ts: new Timestamp({ t: 1, i }), date: new Date(i) });

/** Databases, collections (options, indexes) and documents of an engine, in order, decoded. */
function snapshot(engine: MongoWireEngine): Document {
  const store = engine.store;
  const state = Object.fromEntries(
    store
      .databaseNames()
      .map((db) => [
        db,
        Object.fromEntries(
          store
            .collections(db)
            .map((c) => [c.name, { options: c.options, indexes: c.indexes, docs: c.docs }]),
        ),
      ]),
  );
  return deserialize(serialize(state));
}

describe('ReplicationLag', () => {
  let source: MongoWireEngine;
  let lag: ReplicationLag;
  const run = (db: string, cmd: Document): Document =>
    source.run(Object.keys(cmd)[0] as string, cmd, { db });

  beforeEach(() => {
    source = new MongoWireEngine();
    lag = new ReplicationLag(source, 2);
  });

  it('without lag every member reads the source itself', () => {
    expect(lag.readEngine(1)).toBe(source);
    expect(lag.appliedWrite(1)).toBeUndefined();
    expect(lag.acknowledgementDelay({})).toBe(0);
  });

  it('copies the data when the lag starts, then replays every kind of change in order', () => {
    run('a', { insert: 'kept', documents: [{ _id: 1, v: 1 }, { _id: 2 }] });
    run('a', { createIndexes: 'kept', indexes: [{ key: { v: 1 }, name: 'v_1', unique: true }] });
    lag.set(60_000, write(1));
    expect(snapshot(lag.readEngine(1))).toEqual(snapshot(source));

    run('a', { insert: 'kept', documents: [{ _id: 3, v: 3 }] });
    run('a', { update: 'kept', updates: [{ q: { _id: 1 }, u: { $set: { v: 10 } } }] });
    run('a', { update: 'kept', updates: [{ q: { _id: 9 }, u: { $set: { v: 9 } }, upsert: true }] });
    run('a', { delete: 'kept', deletes: [{ q: { _id: 2 }, limit: 1 }] });
    run('a', { findAndModify: 'kept', query: { _id: 3 }, update: { $inc: { v: 1 } } });
    run('a', { dropIndexes: 'kept', index: 'v_1' });
    run('a', { create: 'capped', capped: true, size: 4096 });
    run('a', { insert: 'gone', documents: [{ x: 1 }] });
    run('a', { drop: 'gone' });
    run('b', { insert: 'c', documents: [{ y: 1 }] });
    run('b', { dropDatabase: 1 });
    lag.wrote(write(2));

    const before = snapshot(lag.readEngine(1)) as { a: Record<string, Document | undefined> };
    expect(before.a.kept?.docs).toEqual([{ _id: 1, v: 1 }, { _id: 2 }]);
    expect(before.a.gone).toBeUndefined();
    expect(lag.appliedWrite(1)).toEqual(write(1));
    expect(lag.acknowledgementDelay({})).toBeGreaterThan(59_000);
    expect(lag.acknowledgementDelay({ writeConcern: { w: 1 } })).toBe(0);
    expect(lag.acknowledgementDelay({ writeConcern: { w: 2 } })).toBeGreaterThan(59_000);

    lag.caughtUp(1);
    expect(snapshot(lag.readEngine(1))).toEqual(snapshot(source));
    expect(lag.appliedWrite(1)).toEqual(write(2));
    // Member 0 is still behind, and its documents are its own copies.
    expect(snapshot(lag.readEngine(0))).toEqual(before);
    expect(lag.readEngine(0).store.get('a', 'kept')?.docs[0]).not.toBe(
      source.store.get('a', 'kept')?.docs[0],
    );
  });

  it('continues a cursor opened on a copy from any engine of the set', () => {
    run('a', { insert: 'c', documents: Array.from({ length: 5 }, (_, i) => ({ _id: i })) });
    lag.set(60_000, write(1));
    const first = lag.readEngine(1).run('find', { find: 'c', batchSize: 2 }, { db: 'a' });
    const id: unknown = (first.cursor as Document).id;
    const more = source.run('getMore', { getMore: id, collection: 'c' }, { db: 'a' });
    expect((more.cursor as Document).nextBatch).toHaveLength(3);
  });

  it('back to 0 drops the copies: every write is visible at once', () => {
    lag.set(60_000, write(1));
    run('a', { insert: 'c', documents: [{ _id: 1 }] });
    expect(lag.readEngine(1).store.get('a', 'c')).toBeUndefined();
    lag.set(0, write(2));
    expect(lag.readEngine(1)).toBe(source);
    expect(() => lag.set(-1, write(3))).toThrow(RangeError);
  });
});
