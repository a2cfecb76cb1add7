import type { Document } from 'bson';
import { calculateObjectSize, EJSON, Long, ObjectId } from 'bson';
import { aggregate, find, ProcessingMode, Query, update as applyOperators } from 'mingo';
import type { Options as MingoOptions } from 'mingo/types';
import { MingoError, resolve } from 'mingo/util';

import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { WireCollection } from './mongo-wire-store.js';
import { cloneDocument, sameDocument, WireStore } from './mongo-wire-store.js';

/** Documents in a first batch when the client sets no batchSize (mongod's default). */
const DEFAULT_BATCH_SIZE = 101;
/** A batch never grows past this many bytes (mongod's 16 MiB reply budget). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Idle cursors are reaped after this long, as mongod's cursorTimeoutMillis. */
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Update operators accepted in update documents. Every one except `$setOnInsert` (handled here)
 * is executed by mingo.
 */
const UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$rename',
  '$currentDate',
  '$push',
  '$addToSet',
  '$pop',
  '$pull',
  '$pullAll',
  '$bit',
  '$setOnInsert',
]);

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

/** Pipeline stages that write to other collections; refused instead of bypassing indexes. */
const WRITE_STAGES = new Set(['$out', '$merge']);

interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
  lastUsed: number;
}

/** Context of a command: the database it targets (`$db`). */
export interface CommandScope {
  db: string;
}

function isObject(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (Long.isLong(value)) return value.toNumber();
  return undefined;
}

function stringArg(cmd: Document, name: string): string {
  const value: unknown = cmd[name];
  if (typeof value !== 'string') {
    throw new CommandError(
      MongoErrorCode.InvalidNamespace,
      `collection name has invalid type ${value === null ? 'null' : typeof value}`,
    );
  }
  return value;
}

function documentArg(cmd: Document, name: string): Document | undefined {
  const value: unknown = cmd[name];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    throw new CommandError(
      MongoErrorCode.TypeMismatch,
      `BSON field '${name}' is the wrong type '${Array.isArray(value) ? 'array' : typeof value}', expected type 'object'`,
    );
  }
  return value;
}

function arrayArg(cmd: Document, name: string): Document[] {
  const value: unknown = cmd[name];
  if (!Array.isArray(value)) {
    throw new CommandError(
      MongoErrorCode.TypeMismatch,
      `BSON field '${name}' is missing or is not an array`,
    );
  }
  return value as Document[];
}

/** Keeps `_id` as the first field, as mongod stores it. */
function idFirst(doc: Document): Document {
  if (!('_id' in doc) || Object.keys(doc)[0] === '_id') return doc;
  const id: unknown = doc._id;
  const rest: Document = { ...doc };
  delete rest._id;
  return { _id: id, ...rest };
}

/**
 * Maps query-engine failures to the server's codes (`ImmutableField` for `_id` changes,
 * `BadValue` otherwise); command errors pass through, anything else is rethrown.
 */
function toCommandError(error: unknown): CommandError {
  if (error instanceof CommandError) return error;
  if (error instanceof MingoError) {
    const code = /immutable field '_id'/.test(error.message)
      ? MongoErrorCode.ImmutableField
      : MongoErrorCode.BadValue;
    return new CommandError(code, error.message);
  }
  throw error;
}

/** mongod refuses one update touching a path twice (`a` and `a.b`, or `a` in two operators). */
function assertNoConflictingPaths(update: Document): void {
  const paths: string[] = [];
  for (const [op, fields] of Object.entries(update)) {
    if (!isObject(fields)) continue;
    for (const [path, value] of Object.entries(fields)) {
      paths.push(path);
      if (op === '$rename' && typeof value === 'string') paths.push(value);
    }
  }
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i += 1) {
    const prev = sorted[i - 1] as string;
    const cur = sorted[i] as string;
    if (cur === prev || cur.startsWith(`${prev}.`)) {
      throw new CommandError(
        MongoErrorCode.ConflictingUpdateOperators,
        `Updating the path '${cur}' would create a conflict at '${prev}'`,
      );
    }
  }
}

/** Turns a failure into the write error entry of an insert/update/delete reply. */
function writeError(index: number, error: CommandError): Document {
  return { index, code: error.code, errmsg: error.message, ...error.extra };
}

/**
 * Executes data commands against a {@link WireStore} using mingo for filters, projections,
 * sorts, update operators and aggregation. Handshake and server commands live in the server.
 */
export class MongoWireEngine {
  /** The databases. */
  readonly store = new WireStore();
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = Math.floor(Math.random() * 2 ** 40) + 1;

  /**
   * Queries run on the stored objects (CLONE_OFF) so writes can find them by reference;
   * pipelines clone their input so no stage can alter stored documents.
   */
  private mingoOptions(
    db: string,
    collation?: Document,
    mode: ProcessingMode = ProcessingMode.CLONE_INPUT,
  ): Partial<MingoOptions> {
    return {
      scriptEnabled: false,
      processingMode: mode,
      collectionResolver: (name: string) => this.store.get(db, name)?.docs ?? [],
      ...(collation ? { collation: collation as MingoOptions['collation'] } : {}),
    };
  }

  /** Command names this engine answers. */
  readonly commands: Readonly<Record<string, (cmd: Document, scope: CommandScope) => Document>> = {
    insert: (c, s) => this.insert(c, s),
    find: (c, s) => this.find(c, s),
    getMore: (c, s) => this.getMore(c, s),
    killCursors: (c, s) => this.killCursors(c, s),
    update: (c, s) => this.update(c, s),
    delete: (c, s) => this.delete(c, s),
    findAndModify: (c, s) => this.findAndModify(c, s),
    findandmodify: (c, s) => this.findAndModify(c, s),
    count: (c, s) => this.count(c, s),
    distinct: (c, s) => this.distinct(c, s),
    aggregate: (c, s) => this.aggregate(c, s),
    create: (c, s) => this.create(c, s),
    createIndexes: (c, s) => this.createIndexes(c, s),
    listIndexes: (c, s) => this.listIndexes(c, s),
    dropIndexes: (c, s) => this.dropIndexes(c, s),
    listCollections: (c, s) => this.listCollections(c, s),
    drop: (c, s) => this.drop(c, s),
    dropDatabase: (_c, s) => this.dropDatabase(s),
    listDatabases: (c) => this.listDatabases(c),
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

  // ---------------------------------------------------------------- cursors

  private cursorReply(
    ns: string,
    docs: Document[],
    batchSize: number | undefined,
    singleBatch: boolean,
  ): Document {
    const [firstBatch, rest] = this.takeBatch(docs, 0, batchSize ?? DEFAULT_BATCH_SIZE);
    let id = 0;
    if (rest < docs.length && !singleBatch) {
      this.reapCursors();
      id = this.nextCursorId++;
      this.cursors.set(id, { ns, docs, position: rest, lastUsed: Date.now() });
    }
    return { cursor: { firstBatch, id: Long.fromNumber(id), ns }, ok: 1 };
  }

  private takeBatch(docs: Document[], from: number, batchSize: number): [Document[], number] {
    const batch: Document[] = [];
    let bytes = 0;
    let at = from;
    const max = batchSize > 0 ? batchSize : Number.POSITIVE_INFINITY;
    while (at < docs.length && batch.length < max) {
      const doc = docs[at] as Document;
      bytes += calculateObjectSize(doc);
      if (batch.length > 0 && bytes > MAX_BATCH_BYTES) break;
      batch.push(doc);
      at += 1;
    }
    return [batch, at];
  }

  private reapCursors(): void {
    const deadline = Date.now() - CURSOR_TIMEOUT_MS;
    for (const [id, cursor] of this.cursors)
      if (cursor.lastUsed < deadline) this.cursors.delete(id);
  }

  private getMore(cmd: Document, scope: CommandScope): Document {
    const id = asNumber(cmd.getMore);
    const collection = stringArg(cmd, 'collection');
    const cursor = id === undefined ? undefined : this.cursors.get(id);
    if (id === undefined || !cursor) {
      throw new CommandError(MongoErrorCode.CursorNotFound, `cursor id ${String(id)} not found`);
    }
    const ns = `${scope.db}.${collection}`;
    if (cursor.ns !== ns) {
      throw new CommandError(
        MongoErrorCode.Unauthorized,
        `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`,
      );
    }
    const [nextBatch, position] = this.takeBatch(
      cursor.docs,
      cursor.position,
      asNumber(cmd.batchSize) ?? 0,
    );
    cursor.position = position;
    cursor.lastUsed = Date.now();
    const exhausted = position >= cursor.docs.length;
    if (exhausted) this.cursors.delete(id);
    return { cursor: { nextBatch, id: Long.fromNumber(exhausted ? 0 : id), ns }, ok: 1 };
  }

  private killCursors(cmd: Document, _scope: CommandScope): Document {
    stringArg(cmd, 'killCursors');
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of arrayArg(cmd, 'cursors') as unknown[]) {
      const id = asNumber(raw) ?? 0;
      (this.cursors.delete(id) ? killed : notFound).push(Long.fromNumber(id));
    }
    return {
      cursorsKilled: killed,
      cursorsNotFound: notFound,
      cursorsAlive: [],
      cursorsUnknown: [],
      ok: 1,
    };
  }

  // ---------------------------------------------------------------- reads

  private query(
    coll: WireCollection | undefined,
    scope: CommandScope,
    opts: {
      filter?: Document;
      projection?: Document;
      sort?: Document;
      skip?: number;
      limit?: number;
      collation?: Document;
    },
  ): Document[] {
    if (!coll) return [];
    const projection =
      opts.projection && Object.keys(opts.projection).length ? opts.projection : undefined;
    const cursor = find(
      coll.docs,
      opts.filter ?? {},
      projection,
      this.mingoOptions(scope.db, opts.collation, ProcessingMode.CLONE_OFF),
    );
    if (opts.sort && Object.keys(opts.sort).length) cursor.sort(opts.sort);
    if (opts.skip) cursor.skip(opts.skip);
    if (opts.limit) cursor.limit(Math.abs(opts.limit));
    const docs = cursor.all();
    return projection ? docs.map(idFirst) : docs;
  }

  private find(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'find');
    const limit = asNumber(cmd.limit) ?? 0;
    const docs = this.query(this.store.get(scope.db, name), scope, {
      filter: documentArg(cmd, 'filter'),
      projection: documentArg(cmd, 'projection'),
      sort: documentArg(cmd, 'sort'),
      skip: asNumber(cmd.skip),
      limit,
      collation: documentArg(cmd, 'collation'),
    });
    const batchSize = asNumber(cmd.batchSize);
    return this.cursorReply(
      `${scope.db}.${name}`,
      docs,
      batchSize,
      cmd.singleBatch === true || limit < 0,
    );
  }

  private count(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'count');
    const docs = this.query(this.store.get(scope.db, name), scope, {
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
    const docs = this.query(this.store.get(scope.db, name), scope, {
      filter: documentArg(cmd, 'query'),
      collation: documentArg(cmd, 'collation'),
    });
    const seen = new Map<string, unknown>();
    for (const doc of docs) {
      const value: unknown = resolve(doc, key);
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? (value as unknown[]) : [value]) {
        seen.set(EJSON.stringify({ v }, { relaxed: false }), v);
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
    } else if (target !== 1) {
      throw new CommandError(
        MongoErrorCode.TypeMismatch,
        `Invalid {aggregate: ...} value: must be a collection name or 1`,
      );
    }
    const docs = aggregate(
      source,
      pipeline,
      this.mingoOptions(scope.db, documentArg(cmd, 'collation')),
    );
    return this.cursorReply(ns, docs, asNumber(cmd.cursor.batchSize), false);
  }

  private listCollections(cmd: Document, scope: CommandScope): Document {
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
    const docs: Document[] = filter
      ? new Query(filter, this.mingoOptions(scope.db)).find<Document>(infos).all()
      : infos;
    const cursorOpts = documentArg(cmd, 'cursor');
    return this.cursorReply(
      `${scope.db}.$cmd.listCollections`,
      docs,
      asNumber(cursorOpts?.batchSize),
      false,
    );
  }

  private listIndexes(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'listIndexes');
    const coll = this.store.get(scope.db, name);
    if (!coll) {
      throw new CommandError(
        MongoErrorCode.NamespaceNotFound,
        `ns does not exist: ${scope.db}.${name}`,
      );
    }
    const cursorOpts = documentArg(cmd, 'cursor');
    return this.cursorReply(
      coll.ns,
      coll.indexes.map((i) => ({ ...i })),
      asNumber(cursorOpts?.batchSize),
      false,
    );
  }

  private listDatabases(cmd: Document): Document {
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

  // ---------------------------------------------------------------- writes

  private insert(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'insert');
    const documents = arrayArg(cmd, 'documents');
    const ordered = cmd.ordered !== false;
    const coll = this.store.getOrCreate(scope.db, name);
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, doc] of documents.entries()) {
      try {
        coll.insert(idFirst(doc));
        n += 1;
      } catch (error) {
        writeErrors.push(writeError(index, toCommandError(error)));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  /**
   * Applies an update (operators, replacement or pipeline) to a copy of `doc`.
   * `inserting` is true for the document an upsert creates ($setOnInsert applies); `filter`
   * resolves the positional `$` operator.
   */
  private applyUpdate(
    doc: Document,
    update: unknown,
    arrayFilters: Document[] | undefined,
    inserting: boolean,
    scope: CommandScope,
    filter?: Document,
  ): Document {
    const before = doc;
    let next: Document;
    if (Array.isArray(update)) {
      const out = aggregate(
        [cloneDocument(doc)],
        update as Document[],
        this.mingoOptions(scope.db),
      );
      next = out[0] ?? {};
    } else if (isObject(update) && Object.keys(update).some((k) => k.startsWith('$'))) {
      next = cloneDocument(doc);
      const { $setOnInsert, ...operators } = update;
      for (const op of Object.keys(update)) {
        if (!UPDATE_OPERATORS.has(op)) {
          throw new CommandError(
            MongoErrorCode.FailedToParse,
            `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
          );
        }
      }
      assertNoConflictingPaths(update);
      if (Object.keys(operators).length) {
        applyOperators(next, operators, arrayFilters, filter, { cloneMode: 'deep' });
      }
      if (inserting && isObject($setOnInsert)) {
        applyOperators(next, { $set: $setOnInsert }, undefined, undefined, { cloneMode: 'deep' });
      }
    } else if (isObject(update)) {
      if (Object.keys(update).some((k) => k.includes('.'))) {
        throw new CommandError(
          MongoErrorCode.BadValue,
          `replacement document cannot contain dotted field names`,
        );
      }
      const replacementId: unknown = update._id;
      const previousId: unknown = before._id;
      next = cloneDocument({ ...update, _id: replacementId ?? previousId });
    } else {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        `Update argument must be either an object or an array`,
      );
    }
    const beforeId: unknown = before._id;
    const nextId: unknown = next._id;
    if (nextId === undefined) next._id = beforeId ?? new ObjectId();
    if (!inserting && !sameDocument({ v: next._id as unknown }, { v: beforeId })) {
      throw new CommandError(
        MongoErrorCode.ImmutableField,
        `Performing an update on the path '_id' would modify the immutable field '_id'`,
      );
    }
    return idFirst(next);
  }

  /** The document an upsert starts from: the equality conditions of its filter. */
  private upsertSeed(filter: Document): Document {
    const seed: Document = {};
    const visit = (q: Document): void => {
      for (const [key, value] of Object.entries(q)) {
        if (key === '$and' && Array.isArray(value)) {
          for (const part of value as unknown[]) if (isObject(part)) visit(part);
        } else if (!key.startsWith('$')) {
          const isOperatorDoc =
            isObject(value) && Object.keys(value).some((k) => k.startsWith('$'));
          if (!isOperatorDoc)
            applyOperators(seed, { $set: { [key]: value as unknown } }, undefined, undefined, {
              cloneMode: 'deep',
            });
          else if (isObject(value) && '$eq' in value) {
            applyOperators(seed, { $set: { [key]: value.$eq as unknown } }, undefined, undefined, {
              cloneMode: 'deep',
            });
          }
        }
      }
    };
    visit(filter);
    return seed;
  }

  private upsert(
    coll: WireCollection,
    filter: Document,
    update: unknown,
    arrayFilters: Document[] | undefined,
    scope: CommandScope,
  ): Document {
    const seed = this.upsertSeed(filter);
    const isReplacement = isObject(update) && !Object.keys(update).some((k) => k.startsWith('$'));
    const seedId: unknown = seed._id;
    const base = isReplacement ? { _id: seedId } : seed;
    const doc = this.applyUpdate(base, update, arrayFilters, true, scope);
    return coll.insert(doc);
  }

  private update(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'update');
    const statements = arrayArg(cmd, 'updates');
    const ordered = cmd.ordered !== false;
    const writeErrors: Document[] = [];
    const upserted: Document[] = [];
    let n = 0;
    let nModified = 0;
    for (const [index, stmt] of statements.entries()) {
      try {
        const filter = documentArg(stmt, 'q') ?? {};
        const arrayFilters = Array.isArray(stmt.arrayFilters)
          ? (stmt.arrayFilters as Document[])
          : undefined;
        const multi = stmt.multi === true;
        const existing = this.store.get(scope.db, name);
        const matches = this.query(existing, scope, {
          filter,
          sort: documentArg(stmt, 'sort'),
          limit: multi ? 0 : 1,
          collation: documentArg(stmt, 'collation'),
        });
        if (matches.length === 0) {
          if (stmt.upsert === true) {
            const coll = this.store.getOrCreate(scope.db, name);
            const doc = this.upsert(coll, filter, stmt.u, arrayFilters, scope);
            upserted.push({ index, _id: doc._id as unknown });
            n += 1;
          }
          continue;
        }
        const coll = existing as WireCollection;
        if (
          multi &&
          !Array.isArray(stmt.u) &&
          isObject(stmt.u) &&
          !Object.keys(stmt.u).some((k) => k.startsWith('$'))
        ) {
          throw new CommandError(
            MongoErrorCode.FailedToParse,
            'multi update is not supported for replacement-style update',
          );
        }
        for (const doc of matches) {
          const next = this.applyUpdate(doc, stmt.u, arrayFilters, false, scope, filter);
          n += 1;
          if (!sameDocument(doc, next)) {
            coll.replace(doc, next);
            nModified += 1;
          }
        }
      } catch (error) {
        writeErrors.push(writeError(index, toCommandError(error)));
        if (ordered) break;
      }
    }
    const reply: Document = { n, nModified };
    if (upserted.length) reply.upserted = upserted;
    if (writeErrors.length) reply.writeErrors = writeErrors;
    reply.ok = 1;
    return reply;
  }

  private delete(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'delete');
    const statements = arrayArg(cmd, 'deletes');
    const ordered = cmd.ordered !== false;
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, stmt] of statements.entries()) {
      try {
        const coll = this.store.get(scope.db, name);
        const limit = asNumber(stmt.limit) ?? 0;
        const matches = this.query(coll, scope, {
          filter: documentArg(stmt, 'q') ?? {},
          limit: limit === 1 ? 1 : 0,
          collation: documentArg(stmt, 'collation'),
        });
        if (coll) n += coll.remove(matches);
      } catch (error) {
        writeErrors.push(writeError(index, toCommandError(error)));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  private findAndModify(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(
      cmd,
      typeof cmd.findAndModify === 'string' ? 'findAndModify' : 'findandmodify',
    );
    const filter = documentArg(cmd, 'query') ?? {};
    const fields = documentArg(cmd, 'fields');
    const remove = cmd.remove === true;
    const returnNew = cmd.new === true;
    if (remove && (cmd.update !== undefined || returnNew || cmd.upsert === true)) {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        'Cannot specify both an update and remove=true',
      );
    }
    if (!remove && cmd.update === undefined) {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        'Either an update or remove=true must be specified',
      );
    }
    const arrayFilters = Array.isArray(cmd.arrayFilters)
      ? (cmd.arrayFilters as Document[])
      : undefined;
    const project = (doc: Document | null): Document | null => {
      if (!doc || !fields || !Object.keys(fields).length) return doc;
      return find([doc], {}, fields, this.mingoOptions(scope.db)).all().map(idFirst)[0] ?? null;
    };
    const existing = this.store.get(scope.db, name);
    const [match] = this.query(existing, scope, {
      filter,
      sort: documentArg(cmd, 'sort'),
      limit: 1,
      collation: documentArg(cmd, 'collation'),
    });
    if (remove) {
      if (match && existing) existing.remove([match]);
      return { lastErrorObject: { n: match ? 1 : 0 }, value: project(match ?? null), ok: 1 };
    }
    if (!match) {
      if (cmd.upsert !== true) {
        return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
      }
      const coll = this.store.getOrCreate(scope.db, name);
      const doc = this.upsert(coll, filter, cmd.update, arrayFilters, scope);
      return {
        lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id as unknown },
        value: returnNew ? project(doc) : null,
        ok: 1,
      };
    }
    const coll = existing as WireCollection;
    const next = this.applyUpdate(match, cmd.update, arrayFilters, false, scope, filter);
    if (!sameDocument(match, next)) coll.replace(match, next);
    return {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: project(returnNew ? next : match),
      ok: 1,
    };
  }

  // ---------------------------------------------------------------- DDL

  private create(cmd: Document, scope: CommandScope): Document {
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

  private createIndexes(cmd: Document, scope: CommandScope): Document {
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

  private dropIndexes(cmd: Document, scope: CommandScope): Document {
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

  private drop(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'drop');
    const nIndexesWas = this.store.drop(scope.db, name);
    return { nIndexesWas, ns: `${scope.db}.${name}`, ok: 1 };
  }

  private dropDatabase(scope: CommandScope): Document {
    this.store.dropDatabase(scope.db);
    return { dropped: scope.db, ok: 1 };
  }
}
