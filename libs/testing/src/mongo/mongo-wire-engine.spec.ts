import type { Document } from 'bson';
import { deserialize, Long, ObjectId, serialize } from 'bson';

import { EXACT_BSON } from './bson-values.js';
import { MongoWireEngine } from './mongo-wire-engine.js';
import { CommandError } from './mongo-wire-errors.js';

const scope = { db: 'unit' };

function failure(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CommandError) return error;
    throw error;
  }
  throw new Error('expected a CommandError');
}

describe('MongoWireEngine', () => {
  let engine: MongoWireEngine;
  // Commands go in as the wire decodes them (exact BSON types) and replies come back as the
  // driver decodes them (numbers promoted, int64 kept as Long).
  const run = (cmd: Document): Document => {
    const name = Object.keys(cmd)[0] as string;
    const reply = engine.run(name, deserialize(serialize(cmd), EXACT_BSON), scope);
    return deserialize(serialize(reply), { promoteLongs: false });
  };
  const all = (coll: string, filter: Document = {}): Document[] =>
    (run({ find: coll, filter, batchSize: 0 }).cursor as { firstBatch: Document[] }).firstBatch;

  beforeEach(() => {
    engine = new MongoWireEngine();
  });

  describe('cursors', () => {
    beforeEach(() => {
      run({ insert: 'c', documents: Array.from({ length: 10 }, (_, i) => ({ _id: i })) });
    });

    it('returns batches of batchSize through getMore and closes the cursor at the end', () => {
      const first = run({ find: 'c', batchSize: 4, sort: { _id: 1 } }).cursor as Document;
      expect((first.firstBatch as Document[]).map((d) => d._id as number)).toEqual([0, 1, 2, 3]);
      const id = first.id as Long;
      expect(id.isZero()).toBe(false);
      expect(engine.openCursors).toBe(1);
      const second = run({ getMore: id, collection: 'c', batchSize: 4 }).cursor as Document;
      expect((second.nextBatch as Document[]).map((d) => d._id as number)).toEqual([4, 5, 6, 7]);
      const third = run({ getMore: id, collection: 'c', batchSize: 4 }).cursor as Document;
      expect((third.nextBatch as Document[]).map((d) => d._id as number)).toEqual([8, 9]);
      expect((third.id as Long).isZero()).toBe(true);
      expect(engine.openCursors).toBe(0);
      expect(failure(() => run({ getMore: id, collection: 'c' })).code).toBe(43);
    });

    it('defaults the first batch to 101 documents and honours limit and singleBatch', () => {
      run({ insert: 'big', documents: Array.from({ length: 150 }, (_, i) => ({ i })) });
      const first = run({ find: 'big' }).cursor as Document;
      expect(first.firstBatch).toHaveLength(101);
      const limited = run({ find: 'big', limit: 5 }).cursor as Document;
      expect(limited.firstBatch).toHaveLength(5);
      expect((limited.id as Long).isZero()).toBe(true);
      const single = run({ find: 'big', batchSize: 3, singleBatch: true }).cursor as Document;
      expect((single.id as Long).isZero()).toBe(true);
    });

    it('kills cursors and reports unknown ids', () => {
      const id = (run({ find: 'c', batchSize: 2 }).cursor as Document).id as Long;
      const reply = run({ killCursors: 'c', cursors: [id, Long.fromNumber(999)] });
      expect(reply.cursorsKilled).toEqual([id]);
      expect(reply.cursorsNotFound).toEqual([Long.fromNumber(999)]);
    });

    it('refuses getMore from another namespace', () => {
      const id = (run({ find: 'c', batchSize: 2 }).cursor as Document).id as Long;
      expect(failure(() => run({ getMore: id, collection: 'other' })).code).toBe(13);
    });
  });

  describe('unique indexes', () => {
    it('enforces compound unique keys and reports keyPattern/keyValue', () => {
      run({
        createIndexes: 'u',
        indexes: [{ key: { a: 1, b: 1 }, name: 'a_1_b_1', unique: true }],
      });
      run({
        insert: 'u',
        documents: [
          { a: 1, b: 1 },
          { a: 1, b: 2 },
        ],
      });
      const reply = run({ insert: 'u', documents: [{ a: 1, b: 2 }] });
      const [error] = reply.writeErrors as Document[];
      expect(error).toMatchObject({
        index: 0,
        code: 11000,
        keyPattern: { a: 1, b: 1 },
        keyValue: { a: 1, b: 2 },
      });
      expect(error?.errmsg).toBe(
        'E11000 duplicate key error collection: unit.u index: a_1_b_1 dup key: { a: 1, b: 2 }',
      );
    });

    it('treats missing fields as null unless the index is sparse', () => {
      run({ createIndexes: 'n', indexes: [{ key: { e: 1 }, name: 'e_1', unique: true }] });
      run({ insert: 'n', documents: [{}] });
      expect(run({ insert: 'n', documents: [{}] }).writeErrors).toHaveLength(1);
      run({
        createIndexes: 's',
        indexes: [{ key: { e: 1 }, name: 'e_1', unique: true, sparse: true }],
      });
      expect(run({ insert: 's', documents: [{}, {}, { e: 1 }] })).toEqual({ n: 3, ok: 1 });
    });

    it('applies partialFilterExpression', () => {
      run({
        createIndexes: 'p',
        indexes: [
          { key: { e: 1 }, name: 'e_1', unique: true, partialFilterExpression: { active: true } },
        ],
      });
      expect(run({ insert: 'p', documents: [{ e: 1 }, { e: 1 }, { e: 1, active: true }] }).n).toBe(
        3,
      );
      expect(run({ insert: 'p', documents: [{ e: 1, active: true }] }).writeErrors).toHaveLength(1);
    });

    it('indexes every element of an array (multikey)', () => {
      run({ createIndexes: 'm', indexes: [{ key: { tags: 1 }, name: 'tags_1', unique: true }] });
      run({ insert: 'm', documents: [{ tags: ['a', 'b'] }] });
      const reply = run({ insert: 'm', documents: [{ tags: ['c', 'b'] }] });
      expect((reply.writeErrors as Document[])[0]).toMatchObject({ keyValue: { tags: 'b' } });
    });

    it('refuses to build a unique index over existing duplicates', () => {
      run({ insert: 'd', documents: [{ e: 1 }, { e: 1 }] });
      const error = failure(() =>
        run({ createIndexes: 'd', indexes: [{ key: { e: 1 }, name: 'e_1', unique: true }] }),
      );
      expect(error.code).toBe(11000);
    });

    it('continues after a duplicate only when ordered is false', () => {
      run({ insert: 'o', documents: [{ _id: 1 }] });
      const ordered = run({ insert: 'o', documents: [{ _id: 1 }, { _id: 2 }] });
      expect(ordered.n).toBe(0);
      const unordered = run({ insert: 'o', documents: [{ _id: 1 }, { _id: 3 }], ordered: false });
      expect(unordered.n).toBe(1);
      expect(all('o').map((d) => d._id as number)).toEqual([1, 3]);
    });

    it('frees keys on delete and on update', () => {
      run({ createIndexes: 'f', indexes: [{ key: { e: 1 }, name: 'e_1', unique: true }] });
      run({ insert: 'f', documents: [{ _id: 1, e: 'x' }] });
      run({ update: 'f', updates: [{ q: { _id: 1 }, u: { $set: { e: 'y' } } }] });
      expect(run({ insert: 'f', documents: [{ _id: 2, e: 'x' }] }).n).toBe(1);
      run({ delete: 'f', deletes: [{ q: { _id: 1 }, limit: 1 }] });
      expect(run({ insert: 'f', documents: [{ _id: 3, e: 'y' }] }).n).toBe(1);
    });
  });

  describe('index management', () => {
    it('reports existing indexes, conflicts and drops', () => {
      const created = run({ createIndexes: 'i', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
      expect(created).toMatchObject({
        numIndexesBefore: 1,
        numIndexesAfter: 2,
        createdCollectionAutomatically: true,
      });
      const again = run({ createIndexes: 'i', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
      expect(again).toMatchObject({ numIndexesAfter: 2, note: 'all indexes already exist' });
      expect(
        failure(() => run({ createIndexes: 'i', indexes: [{ key: { b: 1 }, name: 'a_1' }] })).code,
      ).toBe(86);
      expect(
        failure(() =>
          run({ createIndexes: 'i', indexes: [{ key: { a: 1 }, name: 'other', unique: true }] }),
        ).code,
      ).toBe(85);
      expect(run({ dropIndexes: 'i', index: { a: 1 } })).toMatchObject({ nIndexesWas: 2, ok: 1 });
      expect(failure(() => run({ dropIndexes: 'i', index: '_id_' })).code).toBe(72);
      expect(failure(() => run({ dropIndexes: 'i', index: 'nope' })).code).toBe(27);
      expect(failure(() => run({ listIndexes: 'missing' })).code).toBe(26);
    });

    it('creates collections once and lists them with a filter', () => {
      run({ create: 'one' });
      expect(failure(() => run({ create: 'one' })).code).toBe(48);
      run({ create: 'two', capped: true, size: 4096, lsid: { id: 1 }, $db: 'unit', comment: 'c' });
      const listed = run({ listCollections: 1, filter: { name: 'two' } }).cursor as Document;
      expect(listed.firstBatch).toEqual([
        expect.objectContaining({
          name: 'two',
          type: 'collection',
          options: { capped: true, size: 4096 },
        }),
      ]);
      run({ drop: 'two' });
      const after = run({ listCollections: 1, nameOnly: true }).cursor as Document;
      expect(after.firstBatch).toEqual([{ name: 'one', type: 'collection' }]);
    });

    it('rejects invalid namespaces', () => {
      expect(failure(() => run({ insert: 'bad$name', documents: [{}] })).code).toBe(73);
      expect(failure(() => run({ insert: 12, documents: [{}] })).code).toBe(73);
    });
  });

  describe('updates', () => {
    beforeEach(() => {
      run({
        insert: 'u',
        documents: [
          { _id: 1, n: 1, tags: ['a'] },
          { _id: 2, n: 2, tags: [] },
        ],
      });
    });

    it('refuses to change _id and unknown operators', () => {
      const changed = run({ update: 'u', updates: [{ q: { _id: 1 }, u: { $set: { _id: 9 } } }] });
      expect((changed.writeErrors as Document[])[0]).toMatchObject({ code: 66 });
      const replaced = run({ update: 'u', updates: [{ q: { _id: 1 }, u: { _id: 9, n: 0 } }] });
      expect((replaced.writeErrors as Document[])[0]).toMatchObject({ code: 66 });
      const unknown = run({
        update: 'u',
        updates: [{ q: { _id: 1 }, u: { $frobnicate: { n: 1 } } }],
      });
      expect((unknown.writeErrors as Document[])[0]).toMatchObject({ code: 9 });
    });

    it('refuses one update touching the same path twice (ConflictingUpdateOperators)', () => {
      const twice = run({
        update: 'u',
        updates: [{ q: { _id: 1 }, u: { $set: { n: 5 }, $inc: { n: 1 } } }],
      });
      expect((twice.writeErrors as Document[])[0]).toMatchObject({ code: 40 });
      const nested = run({
        update: 'u',
        updates: [{ q: { _id: 1 }, u: { $set: { 'm.a': 1 }, $unset: { m: '' } } }],
      });
      expect((nested.writeErrors as Document[])[0]).toMatchObject({ code: 40 });
      const sibling = run({
        update: 'u',
        updates: [{ q: { _id: 1 }, u: { $set: { 'm.a': 1, 'm.ab': 2 } } }],
      });
      expect(sibling.writeErrors).toBeUndefined();
    });

    it('resolves the positional $ operator from the filter', () => {
      run({
        insert: 'pos',
        documents: [
          {
            _id: 1,
            items: [
              { k: 1, v: 0 },
              { k: 2, v: 0 },
            ],
          },
        ],
      });
      run({ update: 'pos', updates: [{ q: { 'items.k': 2 }, u: { $set: { 'items.$.v': 9 } } }] });
      expect(all('pos')[0]?.items).toEqual([
        { k: 1, v: 0 },
        { k: 2, v: 9 },
      ]);
    });

    it('runs pipeline-style updates', () => {
      run({
        update: 'u',
        updates: [{ q: { _id: 2 }, u: [{ $set: { doubled: { $multiply: ['$n', 2] } } }] }],
      });
      expect(all('u', { _id: 2 })[0]).toMatchObject({ doubled: 4 });
    });

    it('applies arrayFilters', () => {
      run({ insert: 'af', documents: [{ _id: 1, xs: [1, 5, 10] }] });
      run({
        update: 'af',
        updates: [
          { q: { _id: 1 }, u: { $set: { 'xs.$[big]': 0 } }, arrayFilters: [{ big: { $gte: 5 } }] },
        ],
      });
      expect(all('af')[0]?.xs).toEqual([1, 0, 0]);
    });

    it('seeds upserts from equality conditions ($eq, $and, dotted paths) and generates an ObjectId', () => {
      const reply = run({
        update: 'u',
        updates: [
          {
            q: { $and: [{ kind: 'x' }, { 'meta.owner': { $eq: 'me' } }], n: { $gt: 5 } },
            u: { $set: { seen: true } },
            upsert: true,
          },
        ],
      });
      const [upserted] = reply.upserted as Document[];
      expect(upserted?._id).toBeInstanceOf(ObjectId);
      const doc = all('u', { kind: 'x' })[0];
      expect(doc).toMatchObject({ kind: 'x', meta: { owner: 'me' }, seen: true });
      expect(doc?.n).toBeUndefined();
      expect(Object.keys(doc ?? {})[0]).toBe('_id');
    });

    it('refuses multi with a replacement document', () => {
      const reply = run({ update: 'u', updates: [{ q: {}, u: { n: 0 }, multi: true }] });
      expect((reply.writeErrors as Document[])[0]).toMatchObject({ code: 9 });
    });
  });

  describe('findAndModify', () => {
    beforeEach(() => {
      run({
        insert: 'q',
        documents: [
          { _id: 1, p: 3 },
          { _id: 2, p: 1 },
          { _id: 3, p: 2 },
        ],
      });
    });

    it('takes the first document in sort order and can remove it', () => {
      const reply = run({
        findAndModify: 'q',
        query: {},
        sort: { p: 1 },
        remove: true,
        fields: { p: 1 },
      });
      expect(reply).toMatchObject({ lastErrorObject: { n: 1 }, value: { _id: 2, p: 1 }, ok: 1 });
      expect(all('q')).toHaveLength(2);
    });

    it('validates update/remove combinations', () => {
      expect(
        failure(() => run({ findAndModify: 'q', query: {}, remove: true, update: { $set: {} } }))
          .code,
      ).toBe(9);
      expect(failure(() => run({ findAndModify: 'q', query: {} })).code).toBe(9);
    });

    it('returns null without upsert when nothing matches', () => {
      expect(
        run({ findAndModify: 'q', query: { p: 99 }, update: { $set: { x: 1 } } }),
      ).toMatchObject({
        value: null,
        lastErrorObject: { n: 0, updatedExisting: false },
      });
    });
  });

  describe('reads', () => {
    beforeEach(() => {
      run({
        insert: 'r',
        documents: [
          { _id: 1, a: 'x', tags: ['t1', 't2'], n: 1 },
          { _id: 2, a: 'y', tags: ['t2'], n: 2 },
          { _id: 3, a: 'x', n: 3 },
        ],
      });
    });

    it('projects with _id first', () => {
      const [doc] = (
        run({ find: 'r', filter: { _id: 1 }, projection: { n: 1 } }).cursor as Document
      ).firstBatch as Document[];
      expect(Object.keys(doc ?? {})).toEqual(['_id', 'n']);
    });

    it('counts with skip and limit and lists distinct values flattening arrays', () => {
      expect(run({ count: 'r', query: { a: 'x' } }).n).toBe(2);
      expect(run({ count: 'r', skip: 1, limit: 1 }).n).toBe(1);
      expect(run({ distinct: 'r', key: 'tags' }).values).toEqual(['t1', 't2']);
      expect(run({ count: 'missing' }).n).toBe(0);
    });

    it('aggregates with $lookup across collections of the same database', () => {
      run({ insert: 'owners', documents: [{ _id: 'x', name: 'Xavier' }] });
      const out = run({
        aggregate: 'r',
        pipeline: [
          { $match: { a: 'x' } },
          { $lookup: { from: 'owners', localField: 'a', foreignField: '_id', as: 'owner' } },
          { $project: { _id: 1, owner: '$owner.name' } },
        ],
        cursor: {},
      }).cursor as Document;
      expect(out.firstBatch).toEqual([
        { _id: 1, owner: ['Xavier'] },
        { _id: 3, owner: ['Xavier'] },
      ]);
    });

    it('refuses $out/$merge, missing cursor option and server-side JavaScript', () => {
      expect(
        failure(() => run({ aggregate: 'r', pipeline: [{ $out: 'x' }], cursor: {} })).code,
      ).toBe(40324);
      expect(failure(() => run({ aggregate: 'r', pipeline: [] })).code).toBe(9);
      expect(failure(() => run({ find: 'r', filter: { $where: 'true' } })).code).toBe(2);
      expect(all('r')).toHaveLength(3);
    });

    it('answers unknown commands with CommandNotFound', () => {
      const error = failure(() => engine.run('frobnicate', { frobnicate: 1 }, scope));
      expect(error.toDocument()).toEqual({
        ok: 0,
        errmsg: "no such command: 'frobnicate'",
        code: 59,
        codeName: 'CommandNotFound',
      });
    });

    it('keeps stored documents unchanged by pipelines', () => {
      run({ aggregate: 'r', pipeline: [{ $set: { a: 'changed' } }], cursor: {} });
      expect(all('r', { a: 'changed' })).toHaveLength(0);
    });
  });

  describe('databases', () => {
    it('lists and drops databases', () => {
      run({ insert: 'x', documents: [{}] });
      engine.run('insert', { insert: 'y', documents: [{}] }, { db: 'second' });
      expect(
        (run({ listDatabases: 1, nameOnly: true }).databases as Document[]).map(
          (d) => d.name as string,
        ),
      ).toEqual(['unit', 'second']);
      engine.run('dropDatabase', { dropDatabase: 1 }, { db: 'second' });
      expect(
        (run({ listDatabases: 1 }).databases as Document[]).map((d) => d.name as string),
      ).toEqual(['unit']);
    });
  });
});
