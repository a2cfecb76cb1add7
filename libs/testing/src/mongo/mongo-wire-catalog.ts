import type { Document } from 'bson';
import { calculateObjectSize } from 'bson';

import type { CommandScope } from './mongo-wire-args.js';
import { arrayArg, asNumber, documentArg, isObject, stringArg } from './mongo-wire-args.js';
import type { CursorRegistry } from './mongo-wire-cursors.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { WireStore } from './mongo-wire-store.js';
import { sameDocument } from './mongo-wire-store.js';
import type { QueryViews } from './query-view.js';

/** Fields every command may carry that are not options of the command itself. */
const GENERIC_FIELDS = new Set([
  'create',
  'lsid',
  'txnNumber',
  'autocommit',
  'writeConcern',
  'readConcern',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'comment',
  'maxTimeMS',
]);

/** Catalog commands: collections, indexes and databases. */
export class CatalogCommands {
  constructor(
    private readonly store: WireStore,
    private readonly cursors: CursorRegistry,
    private readonly views: QueryViews,
  ) {}

  listCollections(cmd: Document, scope: CommandScope): Document {
    const nameOnly = cmd.nameOnly === true;
    const infos = this.store.collections(scope.db).map((c) =>
      nameOnly
        ? { name: c.name, type: 'collection' }
        : {
            name: c.name,
            type: 'collection',
            options: c.options,
            info: { readOnly: false, uuid: c.uuid },
            idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
          },
    );
    const filter = documentArg(cmd, 'filter');
    const docs: Document[] = filter ? infos.filter(this.views.compile(filter)) : infos;
    const cursorOpts = documentArg(cmd, 'cursor');
    return this.cursors.reply(
      `${scope.db}.$cmd.listCollections`,
      docs,
      asNumber(cursorOpts?.batchSize),
      false,
    );
  }

  listIndexes(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'listIndexes');
    const coll = this.store.get(scope.db, name);
    if (!coll) {
      throw new CommandError(
        MongoErrorCode.NamespaceNotFound,
        `ns does not exist: ${scope.db}.${name}`,
      );
    }
    const cursorOpts = documentArg(cmd, 'cursor');
    return this.cursors.reply(
      coll.ns,
      coll.indexes.map((i) => ({ ...i })),
      asNumber(cursorOpts?.batchSize),
      false,
    );
  }

  listDatabases(cmd: Document, _scope: CommandScope): Document {
    const names = this.store.databaseNames();
    if (cmd.nameOnly === true) return { databases: names.map((name) => ({ name })), ok: 1 };
    const databases = names.map((name) => ({
      name,
      sizeOnDisk: this.store
        .collections(name)
        .reduce((sum, c) => sum + c.docs.reduce((s, d) => s + calculateObjectSize(d), 0), 0),
      empty: false,
    }));
    const totalSize = databases.reduce((sum, d) => sum + d.sizeOnDisk, 0);
    return { databases, totalSize, totalSizeMb: Math.floor(totalSize / 1024 / 1024), ok: 1 };
  }

  create(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'create');
    if (this.store.get(scope.db, name)) {
      throw new CommandError(
        MongoErrorCode.NamespaceExists,
        `Collection ${scope.db}.${name} already exists.`,
      );
    }
    const options = Object.fromEntries(
      Object.entries(cmd).filter(([key]) => !key.startsWith('$') && !GENERIC_FIELDS.has(key)),
    );
    this.store.getOrCreate(scope.db, name, options);
    return { ok: 1 };
  }

  createIndexes(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'createIndexes');
    const indexes = arrayArg(cmd, 'indexes');
    const createdCollectionAutomatically = !this.store.get(scope.db, name);
    const coll = this.store.getOrCreate(scope.db, name);
    const before = coll.indexes.length;
    for (const raw of indexes) {
      const key = documentArg(raw, 'key');
      if (!key || !Object.keys(key).length) {
        throw new CommandError(
          MongoErrorCode.FailedToParse,
          `Index key pattern must be a non-empty object`,
        );
      }
      const indexName =
        typeof raw.name === 'string'
          ? raw.name
          : Object.entries(key)
              .map(([k, v]) => `${k}_${String(v)}`)
              .join('_');
      const { key: _key, name: _name, v: _v, ...options } = raw;
      coll.addIndex({ v: 2, key, name: indexName, ...options });
    }
    const reply: Document = {
      numIndexesBefore: before,
      numIndexesAfter: coll.indexes.length,
      createdCollectionAutomatically,
    };
    if (coll.indexes.length === before) reply.note = 'all indexes already exist';
    reply.ok = 1;
    return reply;
  }

  dropIndexes(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'dropIndexes');
    const coll = this.store.get(scope.db, name);
    if (!coll) {
      throw new CommandError(MongoErrorCode.NamespaceNotFound, `ns not found ${scope.db}.${name}`);
    }
    const nIndexesWas = coll.indexes.length;
    const target: unknown = cmd.index;
    let names: string[];
    if (target === '*') names = coll.indexes.map((i) => i.name).filter((n) => n !== '_id_');
    else if (typeof target === 'string') names = [target];
    else if (Array.isArray(target)) names = target.map(String);
    else if (isObject(target)) {
      const found = coll.indexes.find((i) => sameDocument(i.key, target));
      if (!found) {
        throw new CommandError(
          MongoErrorCode.IndexNotFound,
          `can't find index with key: ${JSON.stringify(target)}`,
        );
      }
      names = [found.name];
    } else {
      throw new CommandError(
        MongoErrorCode.TypeMismatch,
        `BSON field 'dropIndexes.index' has an invalid type`,
      );
    }
    for (const indexName of names) coll.dropIndex(indexName);
    return { nIndexesWas, ok: 1 };
  }

  drop(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'drop');
    const nIndexesWas = this.store.drop(scope.db, name);
    return { nIndexesWas, ns: `${scope.db}.${name}`, ok: 1 };
  }

  dropDatabase(_cmd: Document, scope: CommandScope): Document {
    this.store.dropDatabase(scope.db);
    return { dropped: scope.db, ok: 1 };
  }
}
