import type { Document } from 'bson';
import { calculateObjectSize, ObjectId } from 'bson';

import type { CommandScope } from './mongo-wire-args.js';
import {
  arrayArg,
  asNumber,
  documentArg,
  idFirst,
  isObject,
  stringArg,
  toCommandError,
  writeError,
} from './mongo-wire-args.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import { MAX_BSON_OBJECT_SIZE, MAX_WRITE_BATCH_SIZE } from './mongo-wire-limits.js';
import type { DocumentQuery } from './mongo-wire-query.js';
import type { WireCollection, WireStore } from './mongo-wire-store.js';
import { cloneDocument, sameDocument } from './mongo-wire-store.js';
import { applyUpdateOperators } from './update-operators.js';
import { locate, write } from './update-paths.js';

const isOperatorUpdate = (u: unknown): u is Document =>
  isObject(u) && Object.keys(u).some((k) => k.startsWith('$'));

/** mongod refuses empty batches and batches over `maxWriteBatchSize` (InvalidLength). */
function statementsOf(cmd: Document, name: string): Document[] {
  const statements = arrayArg(cmd, name);
  if (statements.length < 1 || statements.length > MAX_WRITE_BATCH_SIZE) {
    throw new CommandError(
      MongoErrorCode.InvalidLength,
      `Write batch sizes must be between 1 and ${MAX_WRITE_BATCH_SIZE}. Got ${statements.length} operations.`,
    );
  }
  return statements;
}

function assertSize(doc: Document, code: number, message: string): void {
  if (calculateObjectSize(doc) > MAX_BSON_OBJECT_SIZE) throw new CommandError(code, message);
}

/** What an update statement carries besides its target document. */
interface Statement {
  filter: Document;
  update: unknown;
  arrayFilters?: Document[];
}

/** insert, update, delete and findAndModify over a {@link WireStore}. */
export class WriteCommands {
  constructor(
    private readonly store: WireStore,
    private readonly reads: DocumentQuery,
  ) {}

  insert(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'insert');
    const documents = statementsOf(cmd, 'documents');
    const ordered = cmd.ordered !== false;
    const coll = this.store.getOrCreate(scope.db, name);
    const history = scope.statements;
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, doc] of documents.entries()) {
      if (history?.stored(index)) {
        n += 1;
        continue;
      }
      if (history?.proceed(index) === false) break;
      try {
        const size = calculateObjectSize(doc);
        if (size > MAX_BSON_OBJECT_SIZE) {
          throw new CommandError(
            MongoErrorCode.BadValue,
            `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}`,
          );
        }
        coll.insert(idFirst(doc));
        n += 1;
        history?.applied(index, {});
      } catch (error) {
        writeErrors.push(writeError(index, toCommandError(error)));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  update(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'update');
    const statements = statementsOf(cmd, 'updates');
    const ordered = cmd.ordered !== false;
    const writeErrors: Document[] = [];
    const upserted: Document[] = [];
    const history = scope.statements;
    let n = 0;
    let nModified = 0;
    for (const [index, stmt] of statements.entries()) {
      const stored = history?.stored(index);
      if (stored) {
        n += 1;
        nModified += stored.nModified ?? 0;
        if (stored.upsertedId !== undefined) upserted.push({ index, _id: stored.upsertedId });
        continue;
      }
      if (history?.proceed(index) === false) break;
      try {
        const statement = this.statement(documentArg(stmt, 'q'), stmt.u, stmt.arrayFilters);
        const multi = stmt.multi === true;
        if (multi && history) {
          throw new CommandError(
            MongoErrorCode.InvalidOptions,
            'Cannot use (or request) retryable writes with multi=true',
          );
        }
        if (multi && isObject(stmt.u) && !isOperatorUpdate(stmt.u)) {
          throw new CommandError(
            MongoErrorCode.FailedToParse,
            'multi update is not supported for replacement-style update',
          );
        }
        const existing = this.store.get(scope.db, name);
        const matches = this.reads.select(existing, {
          filter: statement.filter,
          sort: documentArg(stmt, 'sort'),
          limit: multi ? 0 : 1,
          collation: documentArg(stmt, 'collation'),
        });
        if (matches.length === 0) {
          if (stmt.upsert === true) {
            const doc = this.upsert(this.store.getOrCreate(scope.db, name), statement, scope);
            upserted.push({ index, _id: doc._id as unknown });
            n += 1;
            history?.applied(index, { upsertedId: doc._id as unknown });
          }
          continue;
        }
        for (const doc of matches) {
          const next = this.applyUpdate(doc, statement, false, scope);
          n += 1;
          if (!sameDocument(doc, next)) {
            (existing as WireCollection).replace(doc, next);
            nModified += 1;
            // Only a statement that wrote is kept (mongod keeps it through its oplog entry).
            history?.applied(index, { nModified: 1 });
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

  delete(cmd: Document, scope: CommandScope): Document {
    const name = stringArg(cmd, 'delete');
    const statements = statementsOf(cmd, 'deletes');
    const ordered = cmd.ordered !== false;
    const history = scope.statements;
    const writeErrors: Document[] = [];
    let n = 0;
    for (const [index, stmt] of statements.entries()) {
      if (history?.stored(index)) {
        n += 1;
        continue;
      }
      if (history?.proceed(index) === false) break;
      try {
        const single = asNumber(stmt.limit) === 1;
        if (!single && history) {
          throw new CommandError(
            MongoErrorCode.InvalidOptions,
            'Cannot use (or request) retryable writes with limit=0',
          );
        }
        const coll = this.store.get(scope.db, name);
        const matches = this.reads.select(coll, {
          filter: documentArg(stmt, 'q') ?? {},
          limit: single ? 1 : 0,
          collation: documentArg(stmt, 'collation'),
        });
        const removed = coll ? coll.remove(matches) : 0;
        n += removed;
        if (removed > 0) history?.applied(index, {});
      } catch (error) {
        writeErrors.push(writeError(index, toCommandError(error)));
        if (ordered) break;
      }
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  findAndModify(cmd: Document, scope: CommandScope): Document {
    const history = scope.statements;
    const stored = history?.stored(0)?.reply;
    if (stored) return stored;
    // Interrupted before its one statement: nothing runs and the reply is never sent.
    if (history?.proceed(0) === false) return { ok: 1 };
    const { reply, wrote } = this.modifyOne(cmd, scope);
    if (wrote) history?.applied(0, { reply });
    return reply;
  }

  /** One findAndModify, and whether it wrote (only then does a retry get its reply back). */
  private modifyOne(cmd: Document, scope: CommandScope): { reply: Document; wrote: boolean } {
    const name = stringArg(
      cmd,
      typeof cmd.findAndModify === 'string' ? 'findAndModify' : 'findandmodify',
    );
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
    const statement = this.statement(documentArg(cmd, 'query'), cmd.update, cmd.arrayFilters);
    const project = (doc: Document | null): Document | null =>
      doc ? (this.reads.project([doc], fields)[0] ?? null) : null;
    const existing = this.store.get(scope.db, name);
    const [match] = this.reads.select(existing, {
      filter: statement.filter,
      sort: documentArg(cmd, 'sort'),
      limit: 1,
      collation: documentArg(cmd, 'collation'),
    });
    if (remove) {
      if (match && existing) existing.remove([match]);
      const reply = { lastErrorObject: { n: match ? 1 : 0 }, value: project(match ?? null), ok: 1 };
      return { reply, wrote: match !== undefined };
    }
    if (!match) {
      if (cmd.upsert !== true) {
        const reply = { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
        return { reply, wrote: false };
      }
      const doc = this.upsert(this.store.getOrCreate(scope.db, name), statement, scope);
      const reply = {
        lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id as unknown },
        value: returnNew ? project(doc) : null,
        ok: 1,
      };
      return { reply, wrote: true };
    }
    const next = this.applyUpdate(match, statement, false, scope);
    const changed = !sameDocument(match, next);
    if (changed) (existing as WireCollection).replace(match, next);
    const reply = {
      lastErrorObject: { n: 1, updatedExisting: true },
      value: project(returnNew ? next : match),
      ok: 1,
    };
    return { reply, wrote: changed };
  }

  private statement(
    filter: Document | undefined,
    update: unknown,
    arrayFilters: unknown,
  ): Statement {
    return {
      filter: filter ?? {},
      update,
      arrayFilters: Array.isArray(arrayFilters) ? (arrayFilters as Document[]) : undefined,
    };
  }

  /**
   * Applies an update (operators, replacement or pipeline) to a copy of `doc`. `inserting` is
   * true for the document an upsert creates ($setOnInsert applies).
   */
  private applyUpdate(
    doc: Document,
    stmt: Statement,
    inserting: boolean,
    scope: CommandScope,
  ): Document {
    const { update } = stmt;
    let next: Document;
    if (Array.isArray(update)) {
      next = cloneDocument(this.reads.aggregate(scope.db, [doc], update as Document[])[0] ?? {});
    } else if (isOperatorUpdate(update)) {
      next = cloneDocument(doc);
      applyUpdateOperators(next, update, {
        views: this.reads.views,
        filter: stmt.filter,
        arrayFilters: stmt.arrayFilters,
        inserting,
      });
    } else if (isObject(update)) {
      if (Object.keys(update).some((k) => k.includes('.'))) {
        throw new CommandError(
          MongoErrorCode.BadValue,
          `replacement document cannot contain dotted field names`,
        );
      }
      const replacementId: unknown = update._id;
      const previousId: unknown = doc._id;
      next = cloneDocument({ ...update, _id: replacementId ?? previousId });
    } else {
      throw new CommandError(
        MongoErrorCode.FailedToParse,
        `Update argument must be either an object or an array`,
      );
    }
    const beforeId: unknown = doc._id;
    if (next._id === undefined) next._id = beforeId ?? new ObjectId();
    if (!inserting && !sameDocument({ v: next._id as unknown }, { v: beforeId })) {
      throw new CommandError(
        MongoErrorCode.ImmutableField,
        `Performing an update on the path '_id' would modify the immutable field '_id'`,
      );
    }
    const result = idFirst(next);
    if (!inserting) {
      assertSize(
        result,
        MongoErrorCode.Location17419,
        `Resulting document after update is larger than ${MAX_BSON_OBJECT_SIZE}`,
      );
    }
    return result;
  }

  /** The document an upsert starts from: the equality conditions of its filter. */
  private upsertSeed(filter: Document): Document {
    const seed: Document = {};
    const visit = (q: Document): void => {
      for (const [key, value] of Object.entries(q)) {
        if (key === '$and' && Array.isArray(value)) {
          for (const part of value as unknown[]) if (isObject(part)) visit(part);
        } else if (!key.startsWith('$')) {
          const operatorDoc = isOperatorUpdate(value);
          if (operatorDoc && !('$eq' in value)) continue;
          const slot = locate(seed, key.split('.'), true);
          if (slot) write(slot, operatorDoc ? (value.$eq as unknown) : value);
        }
      }
    };
    visit(filter);
    return cloneDocument(seed);
  }

  private upsert(coll: WireCollection, stmt: Statement, scope: CommandScope): Document {
    const seed = this.upsertSeed(stmt.filter);
    const isReplacement = isObject(stmt.update) && !isOperatorUpdate(stmt.update);
    const seedId: unknown = seed._id;
    const base = isReplacement ? (seedId === undefined ? {} : { _id: seedId }) : seed;
    const doc = this.applyUpdate(base, stmt, true, scope);
    assertSize(
      doc,
      MongoErrorCode.Location17420,
      `Document to upsert is larger than ${MAX_BSON_OBJECT_SIZE}`,
    );
    return coll.insert(doc);
  }
}
