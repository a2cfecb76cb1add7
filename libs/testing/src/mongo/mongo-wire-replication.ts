import type { Document, Timestamp } from 'bson';

import { toJsNumber } from './bson-values.js';
import { isObject } from './mongo-wire-args.js';
import type { MongoWireEngine } from './mongo-wire-engine.js';
import type { StoreMutation, WireStore } from './mongo-wire-store.js';
import { cloneDocument } from './mongo-wire-store.js';

/** The last write a member has applied, as its `hello` reports it. */
export interface AppliedWrite {
  ts: Timestamp;
  date: Date;
}

interface PendingChange {
  /** `performance.now()` of the write on the primary. */
  at: number;
  apply(): void;
}

/**
 * One member's own copy of the data, applying the primary's changes in order once they are
 * old enough (mongod's oplog application on a lagging secondary).
 */
class MemberCopy {
  readonly engine: MongoWireEngine;
  /** Last write applied here. */
  applied: AppliedWrite;
  private readonly pending: PendingChange[] = [];
  /** Stored document of the primary → this copy's document. */
  private readonly copies = new WeakMap<Document, Document>();

  constructor(source: MongoWireEngine, current: AppliedWrite) {
    this.engine = source.sibling();
    this.applied = current;
    // Initial sync: the data as it is now, at once.
    for (const db of source.store.databaseNames()) {
      for (const coll of source.store.collections(db)) {
        this.record({ op: 'create', db, coll: coll.name, options: coll.options }, -Infinity);
        for (const spec of coll.indexes) {
          if (spec.name !== '_id_')
            this.record({ op: 'addIndex', db, coll: coll.name, spec }, -Infinity);
        }
        for (const doc of coll.docs)
          this.record({ op: 'insert', db, coll: coll.name, doc }, -Infinity);
      }
    }
    this.applyUntil(-Infinity);
  }

  /** Queues `mutation` (made on the primary at `at`) for application. */
  record(mutation: StoreMutation, at: number): void {
    this.pending.push({ at, apply: this.change(mutation, this.engine.store) });
  }

  /** Queues the primary's `lastWrite` of `at`, reported once the writes before it are applied. */
  recordWrite(write: AppliedWrite, at: number): void {
    this.pending.push({ at, apply: () => (this.applied = write) });
  }

  /** Applies every change made at or before `until`. */
  applyUntil(until: number): void {
    let next = this.pending[0];
    while (next !== undefined && next.at <= until) {
      this.pending.shift();
      next.apply();
      next = this.pending[0];
    }
  }

  /**
   * What applying `m` does to this copy. Documents are copied now: the primary's stored
   * documents are never changed in place, but copying at once keeps that an assumption of one
   * place only.
   */
  private change(m: StoreMutation, store: WireStore): () => void {
    switch (m.op) {
      case 'create': {
        const options = cloneDocument(m.options);
        return () => void store.getOrCreate(m.db, m.coll, options);
      }
      case 'insert': {
        const copy = cloneDocument(m.doc);
        this.copies.set(m.doc, copy);
        return () => void store.getOrCreate(m.db, m.coll).insert(copy);
      }
      case 'replace': {
        const previous = this.copies.get(m.previous);
        const copy = cloneDocument(m.next);
        this.copies.set(m.next, copy);
        return () => {
          if (previous) store.get(m.db, m.coll)?.replace(previous, copy);
        };
      }
      case 'remove': {
        const docs = m.docs.flatMap((d) => this.copies.get(d) ?? []);
        return () => void store.get(m.db, m.coll)?.remove(docs);
      }
      case 'addIndex': {
        const spec = cloneDocument(m.spec);
        return () => void store.getOrCreate(m.db, m.coll).addIndex(spec);
      }
      case 'dropIndex':
        return () => store.get(m.db, m.coll)?.dropIndex(m.name);
      case 'drop':
        return () => void store.drop(m.db, m.coll);
      case 'dropDatabase':
        return () => store.dropDatabase(m.db);
    }
  }
}

/**
 * The replication-lag fault of a {@link MongoWireReplicaSet}. Without lag every member reads the
 * one shared store, so a write is visible everywhere at once. With a lag every member keeps its
 * own copy, which applies the primary's writes `lagMs` after they were made; a secondary answers
 * reads (and reports `lastWrite` in `hello`) from its copy, the primary from the store itself.
 * A member that stops being primary has every write it took, so its copy catches up at once.
 */
export class ReplicationLag {
  private lag = 0;
  private members: MemberCopy[] | undefined;
  private lastChangeAt = -Infinity;

  constructor(
    private readonly source: MongoWireEngine,
    private readonly size: number,
  ) {}

  /** The lag in milliseconds (0: none). */
  get ms(): number {
    return this.lag;
  }

  /**
   * Sets the lag. From 0 every member copies the data as it is now (an initial sync); back to
   * 0 the copies are dropped and every member sees every write again at once. `current` is the
   * primary's `lastWrite` now.
   */
  set(ms: number, current: AppliedWrite): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`replication lag must be >= 0 ms, got ${ms}`);
    }
    this.lag = ms;
    if (ms === 0) {
      this.source.store.observe(undefined);
      this.members = undefined;
      return;
    }
    if (this.members !== undefined) return;
    const members = Array.from({ length: this.size }, () => new MemberCopy(this.source, current));
    this.members = members;
    this.source.store.observe((mutation) => {
      const at = performance.now();
      this.lastChangeAt = at;
      for (const member of members) member.record(mutation, at);
    });
  }

  /** The engine member `index` reads from as a secondary, caught up to `lagMs` ago. */
  readEngine(index: number): MongoWireEngine {
    const member = this.members?.[index];
    if (!member) return this.source;
    member.applyUntil(performance.now() - this.lag);
    return member.engine;
  }

  /** `lastWrite` of member `index` as a secondary; undefined without lag (it has every write). */
  appliedWrite(index: number): AppliedWrite | undefined {
    const member = this.members?.[index];
    if (!member) return undefined;
    member.applyUntil(performance.now() - this.lag);
    return member.applied;
  }

  /** The primary recorded a write with `lastWrite` `write` (after its changes). */
  wrote(write: AppliedWrite): void {
    const at = performance.now();
    for (const member of this.members ?? []) member.recordWrite(write, at);
  }

  /** Member `index` stops being primary: it has every write it took. */
  caughtUp(index: number): void {
    this.members?.[index]?.applyUntil(Infinity);
  }

  /**
   * How long the acknowledgement of a write just applied waits for its write concern: until the
   * secondaries that make up a majority hold it (`lagMs` after the last change), for
   * `w: 'majority'`, `w` above 1 or no `writeConcern` (mongod 5+'s implicit default is
   * majority); 0 for `w: 0`/`w: 1`, without lag, or in a one-member set.
   */
  acknowledgementDelay(cmd: Document): number {
    if (this.members === undefined || this.size < 2 || !waitsForSecondaries(cmd)) return 0;
    return Math.max(0, this.lastChangeAt + this.lag - performance.now());
  }
}

function waitsForSecondaries(cmd: Document): boolean {
  const concern: unknown = cmd.writeConcern;
  if (!isObject(concern) || concern.w === undefined) return true;
  if (typeof concern.w === 'string') return true;
  return (toJsNumber(concern.w) ?? 1) > 1;
}
