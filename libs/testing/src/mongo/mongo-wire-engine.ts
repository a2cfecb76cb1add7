import type { Document } from 'bson';

import { canonicalKey } from './bson-values.js';
import type { CommandScope } from './mongo-wire-args.js';
import {
  arrayArg,
  asNumber,
  documentArg,
  isObject,
  stringArg,
  toCommandError,
} from './mongo-wire-args.js';
import { CatalogCommands } from './mongo-wire-catalog.js';
import { CursorRegistry } from './mongo-wire-cursors.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import { DocumentQuery } from './mongo-wire-query.js';
import { WireStore } from './mongo-wire-store.js';
import { WriteCommands } from './mongo-wire-writes.js';
import { QueryViews, valuesAt } from './query-view.js';

export type { CommandScope } from './mongo-wire-args.js';

/** Pipeline stages that write to other collections; refused instead of bypassing indexes. */
const WRITE_STAGES = new Set(['$out', '$merge']);

type Handler = (cmd: Document, scope: CommandScope) => Document;

/**
 * Executes data commands against a {@link WireStore}. Documents keep their exact BSON types
 * (int32, int64, double, decimal128…); filters run through mingo on number views, sorts and
 * comparisons follow mongod's BSON order, updates follow mongod's operator rules. Handshake and
 * server commands live in the server.
 */
export class MongoWireEngine {
  private readonly views = new QueryViews();
  /** The databases. */
  readonly store = new WireStore(this.views);
  private readonly reads = new DocumentQuery(this.views, this.store);
  private readonly writes = new WriteCommands(this.store, this.reads);
  private readonly catalog: CatalogCommands;

  /**
   * @param cursors open cursors; engines over copies of one data set (a replica set's members)
   *   share theirs, so a cursor opened on one view is continued wherever its member reads
   */
  constructor(private readonly cursors: CursorRegistry = new CursorRegistry()) {
    this.catalog = new CatalogCommands(this.store, this.cursors, this.views);
  }

  /** A new engine over its own empty store, sharing this engine's cursors. */
  sibling(): MongoWireEngine {
    return new MongoWireEngine(this.cursors);
  }

  /** Command names this engine answers. */
  readonly commands: Readonly<Record<string, Handler>> = {
    insert: (c, s) => this.writes.insert(c, s),
    find: (c, s) => this.find(c, s),
    getMore: (c, s) => this.cursors.getMore(c, s),
    killCursors: (c) => this.cursors.kill(c),
    update: (c, s) => this.writes.update(c, s),
    delete: (c, s) => this.writes.delete(c, s),
    findAndModify: (c, s) => this.writes.findAndModify(c, s),
    findandmodify: (c, s) => this.writes.findAndModify(c, s),
    count: (c, s) => this.count(c, s),
    distinct: (c, s) => this.distinct(c, s),
    aggregate: (c, s) => this.aggregate(c, s),
    create: (c, s) => this.catalog.create(c, s),
    createIndexes: (c, s) => this.catalog.createIndexes(c, s),
    listIndexes: (c, s) => this.catalog.listIndexes(c, s),
    dropIndexes: (c, s) => this.catalog.dropIndexes(c, s),
    listCollections: (c, s) => this.catalog.listCollections(c, s),
    drop: (c, s) => this.catalog.drop(c, s),
    dropDatabase: (c, s) => this.catalog.dropDatabase(c, s),
    listDatabases: (c, s) => this.catalog.listDatabases(c, s),
  };

  /**
   * Runs one command. Query-engine failures become command errors (see `toCommandError`);
   * anything else propagates.
   */
  run(name: string, cmd: Document, scope: CommandScope): Document {
    const handler = this.commands[name];
    if (!handler) {
      throw new CommandError(MongoErrorCode.CommandNotFound, `no such command: '${name}'`);
    }
    try {
      return handler(cmd, scope);
    } catch (error) {
      throw toCommandError(error);
    }
  }

  /** Number of open cursors. */
  get openCursors(): number {
    return this.cursors.size;
  }

  /** Forgets every cursor (used when the server restarts, like a mongod restart does). */
  clearCursors(): void {
    this.cursors.clear();
  }

  private find(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'find');
    const limit = asNumber(cmd.limit) ?? 0;
    const docs = this.reads.select(this.store.get(scope.db, name), {
      filter: documentArg(cmd, 'filter'),
      sort: documentArg(cmd, 'sort'),
      skip: asNumber(cmd.skip),
      limit,
      collation: documentArg(cmd, 'collation'),
    });
    return this.cursors.reply(
      `${scope.db}.${name}`,
      this.reads.project(docs, documentArg(cmd, 'projection')),
      asNumber(cmd.batchSize),
      cmd.singleBatch === true || limit < 0,
    );
  }

  private count(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'count');
    const docs = this.reads.select(this.store.get(scope.db, name), {
      filter: documentArg(cmd, 'query'),
      skip: asNumber(cmd.skip),
      limit: asNumber(cmd.limit),
      collation: documentArg(cmd, 'collation'),
    });
    return { n: docs.length, ok: 1 };
  }

  private distinct(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'distinct');
    const key: unknown = cmd.key;
    if (typeof key !== 'string') {
      throw new CommandError(
        MongoErrorCode.TypeMismatch,
        `BSON field 'distinct.key' is missing or is not a string`,
      );
    }
    const docs = this.reads.select(this.store.get(scope.db, name), {
      filter: documentArg(cmd, 'query'),
      collation: documentArg(cmd, 'collation'),
    });
    // Values mongod holds equal (1, NumberLong(1), 1.0) are one distinct value.
    const seen = new Map<string, unknown>();
    for (const doc of docs) {
      for (const value of valuesAt(doc, key.split('.'))) {
        for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
          const k = canonicalKey(v);
          if (!seen.has(k)) seen.set(k, v);
        }
      }
    }
    return { values: [...seen.values()], ok: 1 };
  }

  private aggregate(cmd: Document, scope: CommandScope): Document {
    const target: unknown = cmd.aggregate;
    const pipeline = arrayArg(cmd, 'pipeline');
    if (cmd.explain === true) {
      throw new CommandError(
        MongoErrorCode.IllegalOperation,
        'explain is not supported by MongoWireServer',
      );
    }
    if (!isObject(cmd.cursor)) {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        `The 'cursor' option is required, except for aggregate with the explain argument`,
      );
    }
    for (const stage of pipeline) {
      const stageName = Object.keys(stage)[0] ?? '';
      if (WRITE_STAGES.has(stageName)) {
        throw new CommandError(
          MongoErrorCode.Location40324,
          `Unrecognized pipeline stage name: '${stageName}' (MongoWireServer does not write from pipelines)`,
        );
      }
    }
    let source: Document[] = [];
    let ns = `${scope.db}.$cmd.aggregate`;
    if (typeof target === 'string') {
      source = this.store.get(scope.db, target)?.docs ?? [];
      ns = `${scope.db}.${target}`;
    } else if (asNumber(target) !== 1) {
      throw new CommandError(
        MongoErrorCode.TypeMismatch,
        `Invalid {aggregate: ...} value: must be a collection name or 1`,
      );
    }
    const docs = this.reads.aggregate(scope.db, source, pipeline, documentArg(cmd, 'collation'));
    return this.cursors.reply(ns, docs, asNumber(cmd.cursor.batchSize), false);
  }
}
