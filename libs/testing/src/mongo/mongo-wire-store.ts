import type { Document } from 'bson';
import { deserialize, EJSON, ObjectId, serialize, UUID } from 'bson';
import { resolve } from 'mingo/util';

import { canonicalKey, EXACT_BSON, renderBson } from './bson-values.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { Matcher, QueryViews } from './query-view.js';

/** An index definition as `listIndexes` reports it. */
export interface IndexSpec extends Document {
  v: 2;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
}

/**
 * A change made to a {@link WireStore}, reported to its observer once it succeeded. Documents are
 * the stored objects themselves (a stored document is never changed in place: updates replace
 * it), so an observer can map them to copies of its own.
 */
export type StoreMutation =
  | { op: 'create'; db: string; coll: string; options: Document }
  | { op: 'insert'; db: string; coll: string; doc: Document }
  | { op: 'replace'; db: string; coll: string; previous: Document; next: Document }
  | { op: 'remove'; db: string; coll: string; docs: Document[] }
  | { op: 'addIndex'; db: string; coll: string; spec: IndexSpec }
  | { op: 'dropIndex'; db: string; coll: string; name: string }
  | { op: 'drop'; db: string; coll: string }
  | { op: 'dropDatabase'; db: string };

/** Receives every {@link StoreMutation} of a store. */
export type StoreObserver = (mutation: StoreMutation) => void;

/** Deep copy through BSON, so every BSON type survives exactly as the server would store it. */
export function cloneDocument<T extends Document>(doc: T): T {
  return deserialize(serialize(doc), EXACT_BSON) as T;
}

/** True when both documents encode to the same BSON bytes. */
export function sameDocument(a: Document, b: Document): boolean {
  return Buffer.from(serialize(a)).equals(Buffer.from(serialize(b)));
}

/** Index-key encoding: numbers of any BSON type that compare equal give the same key. */
function keyString(values: unknown[]): string {
  return canonicalKey(values);
}

function renderKeyValue(keyValue: Document): string {
  const parts = Object.entries(keyValue).map(([k, v]) => `${k}: ${renderBson(v)}`);
  return `{ ${parts.join(', ')} }`;
}

/** A unique index with a lookup map from encoded key to the document holding it. */
class UniqueConstraint {
  readonly entries = new Map<string, Document>();
  private readonly fields: string[];
  private readonly partial?: Matcher;

  constructor(
    readonly spec: IndexSpec,
    views: QueryViews,
  ) {
    this.fields = Object.keys(spec.key);
    if (spec.partialFilterExpression) this.partial = views.compile(spec.partialFilterExpression);
  }

  /** Every key tuple `doc` contributes (arrays fan out as in a multikey index). */
  keysOf(doc: Document): Array<{ key: string; values: unknown[] }> {
    if (this.partial && !this.partial(doc)) return [];
    const perField = this.fields.map((field) => {
      const value: unknown = resolve(doc, field);
      if (Array.isArray(value)) return value.length ? (value as unknown[]) : [undefined];
      return [value];
    });
    if (this.spec.sparse && perField.every((values) => values.every((v) => v === undefined))) {
      return [];
    }
    let tuples: unknown[][] = [[]];
    for (const values of perField) {
      tuples = tuples.flatMap((tuple) => values.map((v) => [...tuple, v ?? null]));
    }
    const unique = new Map<string, unknown[]>();
    for (const tuple of tuples) unique.set(keyString(tuple), tuple);
    return [...unique].map(([key, values]) => ({ key, values }));
  }

  duplicateError(ns: string, values: unknown[]): CommandError {
    const keyValue: Document = {};
    this.fields.forEach((field, i) => (keyValue[field] = values[i]));
    const message =
      `E11000 duplicate key error collection: ${ns} index: ${this.spec.name} ` +
      `dup key: ${renderKeyValue(keyValue)}`;
    return new CommandError(MongoErrorCode.DuplicateKey, message, {
      keyPattern: this.spec.key,
      keyValue,
    });
  }
}

/** One collection: documents in insertion order plus its indexes. */
export class WireCollection {
  /** Documents in natural (insertion) order. */
  docs: Document[] = [];
  /** Index definitions, `_id_` first. */
  readonly indexes: IndexSpec[] = [];
  /** Collection UUID reported by listCollections. */
  readonly uuid = new UUID();
  private readonly constraints: UniqueConstraint[] = [];

  constructor(
    readonly dbName: string,
    readonly name: string,
    /** Options given to `create` (capped, validator… are kept but not enforced). */
    readonly options: Document = {},
    private readonly views: QueryViews,
    private readonly changed: StoreObserver = () => undefined,
  ) {
    this.addIndex({ v: 2, key: { _id: 1 }, name: '_id_' }, true);
  }

  /** `db.collection`. */
  get ns(): string {
    return `${this.dbName}.${this.name}`;
  }

  /**
   * Adds an index; unique ones are checked against existing documents first.
   * @returns false when an identical index already exists
   */
  addIndex(spec: IndexSpec, isIdIndex = false): boolean {
    const sameName = this.indexes.find((i) => i.name === spec.name);
    const sameKey = this.indexes.find((i) => keyString([i.key]) === keyString([spec.key]));
    if (sameName || sameKey) {
      const existing = (sameName ?? sameKey) as IndexSpec;
      if (indexesEquivalent(existing, spec)) return false;
      if (sameName && keyString([sameName.key]) !== keyString([spec.key])) {
        throw new CommandError(
          MongoErrorCode.IndexKeySpecsConflict,
          `An existing index has the same name as the requested index. When index names are ` +
            `not specified, they are auto generated and can cause conflicts. Please refer to ` +
            `our documentation. Requested index: ${EJSON.stringify(spec)}, existing index: ` +
            `${EJSON.stringify(sameName)}`,
        );
      }
      throw new CommandError(
        MongoErrorCode.IndexOptionsConflict,
        `An equivalent index already exists with a different name and options. Requested ` +
          `index: ${EJSON.stringify(spec)}, existing index: ${EJSON.stringify(existing)}`,
      );
    }
    if (isIdIndex || spec.unique) {
      const constraint = new UniqueConstraint(spec, this.views);
      for (const doc of this.docs) {
        for (const { key, values } of constraint.keysOf(doc)) {
          const holder = constraint.entries.get(key);
          if (holder && holder !== doc) throw constraint.duplicateError(this.ns, values);
          constraint.entries.set(key, doc);
        }
      }
      this.constraints.push(constraint);
    }
    this.indexes.push(spec);
    // Every collection starts with its _id index; only the others are changes.
    if (!isIdIndex) this.changed({ op: 'addIndex', ...this.where(), spec });
    return true;
  }

  /** Drops an index by name; `_id_` cannot be dropped. */
  dropIndex(name: string): void {
    if (name === '_id_') {
      throw new CommandError(MongoErrorCode.InvalidOptions, 'cannot drop _id index');
    }
    const at = this.indexes.findIndex((i) => i.name === name);
    if (at < 0) {
      throw new CommandError(MongoErrorCode.IndexNotFound, `index not found with name [${name}]`);
    }
    this.indexes.splice(at, 1);
    const c = this.constraints.findIndex((u) => u.spec.name === name);
    if (c >= 0) this.constraints.splice(c, 1);
    this.changed({ op: 'dropIndex', ...this.where(), name });
  }

  /** Inserts a document (an `_id` is generated when missing), enforcing unique indexes. */
  insert(doc: Document): Document {
    const stored = doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc;
    if (Array.isArray(stored._id)) {
      throw new CommandError(MongoErrorCode.BadValue, `can't use an array for _id`);
    }
    this.checkUnique(stored, undefined);
    this.index(stored);
    this.docs.push(stored);
    this.changed({ op: 'insert', ...this.where(), doc: stored });
    return stored;
  }

  /** Replaces `previous` (a stored document) by `next`, enforcing unique indexes. */
  replace(previous: Document, next: Document): void {
    this.checkUnique(next, previous);
    this.unindex(previous);
    this.index(next);
    const at = this.docs.indexOf(previous);
    this.docs[at] = next;
    this.changed({ op: 'replace', ...this.where(), previous, next });
  }

  /** Removes stored documents. */
  remove(docs: Iterable<Document>): number {
    const gone = new Set(docs);
    for (const doc of gone) this.unindex(doc);
    const before = this.docs.length;
    this.docs = this.docs.filter((d) => !gone.has(d));
    const removed = before - this.docs.length;
    if (removed > 0) this.changed({ op: 'remove', ...this.where(), docs: [...gone] });
    return removed;
  }

  private where(): { db: string; coll: string } {
    return { db: this.dbName, coll: this.name };
  }

  private checkUnique(doc: Document, replacing: Document | undefined): void {
    for (const constraint of this.constraints) {
      for (const { key, values } of constraint.keysOf(doc)) {
        const holder = constraint.entries.get(key);
        if (holder && holder !== replacing) throw constraint.duplicateError(this.ns, values);
      }
    }
  }

  private index(doc: Document): void {
    for (const c of this.constraints) for (const { key } of c.keysOf(doc)) c.entries.set(key, doc);
  }

  private unindex(doc: Document): void {
    for (const c of this.constraints) {
      for (const { key } of c.keysOf(doc)) if (c.entries.get(key) === doc) c.entries.delete(key);
    }
  }
}

function indexesEquivalent(a: IndexSpec, b: IndexSpec): boolean {
  const strip = (spec: IndexSpec): Document => {
    const { v: _v, background: _b, ...rest } = spec;
    return rest;
  };
  return keyString([strip(a)]) === keyString([strip(b)]);
}

/** All databases of one server, created lazily like mongod does. */
export class WireStore {
  private readonly dbs = new Map<string, Map<string, WireCollection>>();
  private observer: StoreObserver | undefined;

  /** @param views number views for partial-index filters */
  constructor(private readonly views: QueryViews) {}

  /** Reports every later change to `observer` (one at a time; `undefined` stops reporting). */
  observe(observer: StoreObserver | undefined): void {
    this.observer = observer;
  }

  /** Names of databases holding at least one collection. */
  databaseNames(): string[] {
    return [...this.dbs].filter(([, c]) => c.size > 0).map(([name]) => name);
  }

  /** Collections of `db` (empty when the database does not exist). */
  collections(db: string): WireCollection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  /** The collection, or undefined when it does not exist. */
  get(db: string, name: string): WireCollection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** The collection, created on first use. */
  getOrCreate(db: string, name: string, options?: Document): WireCollection {
    validateNamespace(db, name);
    let collections = this.dbs.get(db);
    if (!collections) {
      collections = new Map();
      this.dbs.set(db, collections);
    }
    let collection = collections.get(name);
    if (!collection) {
      collection = new WireCollection(db, name, options, this.views, (m) => this.observer?.(m));
      collections.set(name, collection);
      this.observer?.({ op: 'create', db, coll: name, options: collection.options });
    }
    return collection;
  }

  /** Drops a collection; returns the number of indexes it had (0 when it did not exist). */
  drop(db: string, name: string): number {
    const collection = this.get(db, name);
    if (!collection) return 0;
    this.dbs.get(db)?.delete(name);
    this.observer?.({ op: 'drop', db, coll: name });
    return collection.indexes.length;
  }

  /** Drops every collection of `db`. */
  dropDatabase(db: string): void {
    if (this.dbs.delete(db)) this.observer?.({ op: 'dropDatabase', db });
  }
}

function validateNamespace(db: string, name: string): void {
  if (!db || /[/\\. "$]/.test(db)) {
    throw new CommandError(MongoErrorCode.InvalidNamespace, `Invalid database name: '${db}'`);
  }
  if (!name || name.includes('$') || name.startsWith('.') || name.includes('\0')) {
    throw new CommandError(
      MongoErrorCode.InvalidNamespace,
      `Invalid collection name: ${db}.${name}`,
    );
  }
}
