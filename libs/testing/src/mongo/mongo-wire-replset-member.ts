import type { Document, ObjectId } from 'bson';
import { Long, Timestamp } from 'bson';

import type { MongoWireEngine } from './mongo-wire-engine.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { RetryableWriteStore, StatementHistory } from './mongo-wire-retryable.js';
import { RETRYABLE_WRITE_COMMANDS } from './mongo-wire-retryable.js';
import type { MemberReply, WireMemberRole } from './mongo-wire-role.js';

/** Commands that write (refused by a secondary with `NotWritablePrimary`). */
const WRITE_COMMANDS = new Set([
  ...RETRYABLE_WRITE_COMMANDS,
  'create',
  'drop',
  'dropDatabase',
  'createIndexes',
  'dropIndexes',
  'renameCollection',
  'collMod',
]);

/** Commands that read (a secondary serves them only with a non-primary read preference). */
const READ_COMMANDS = new Set([
  'find',
  'aggregate',
  'count',
  'distinct',
  'listCollections',
  'listIndexes',
  'dbStats',
  'collStats',
  'explain',
]);

/** What a member needs to know about its set. */
export interface ReplicaSetView {
  readonly name: string;
  readonly setVersion: number;
  readonly engine: MongoWireEngine;
  readonly retryable: RetryableWriteStore;
  hosts(): string[];
  primary(): number | undefined;
  electionId(): ObjectId;
  term(): number;
  /** Member states for `replSetGetStatus` (1 primary, 2 secondary, 8 down). */
  memberState(index: number): 1 | 2 | 8;
  /** Records a write (for `lastWrite`). */
  wrote(): void;
  /** True when the acknowledgement of a write must be lost (the lost-acknowledgement fault). */
  takeLostAck(): boolean;
  /** `lastWrite` as member `index` reports it (a lagging secondary's is older). */
  lastWrite(index: number): { ts: Timestamp; date: Date };
  /** The engine member `index` serves reads from in its state. */
  readEngine(index: number): MongoWireEngine;
  /** How long the acknowledgement of write `cmd` waits for its write concern. */
  acknowledgementDelay(cmd: Document): number;
  /** `replSetStepDown` received by `index` (answered first, applied right after). */
  stepDownFromCommand(index: number): void;
}

/** The role of member `index` of a {@link MongoWireReplicaSet}. */
export class ReplicaMemberRole implements WireMemberRole {
  constructor(
    private readonly set: ReplicaSetView,
    private readonly index: number,
  ) {}

  get engine(): MongoWireEngine {
    return this.set.engine;
  }

  private get isPrimary(): boolean {
    return this.set.primary() === this.index;
  }

  helloFields(): Document & { writable: boolean } {
    const hosts = this.set.hosts();
    const primary = this.set.primary();
    const { ts, date } = this.set.lastWrite(this.index);
    const opTime = { ts, t: Long.fromNumber(this.set.term()) };
    return {
      writable: this.isPrimary,
      secondary: !this.isPrimary,
      setName: this.set.name,
      setVersion: this.set.setVersion,
      hosts,
      ...(primary !== undefined ? { primary: hosts[primary] } : {}),
      me: hosts[this.index],
      ...(this.isPrimary ? { electionId: this.set.electionId() } : {}),
      lastWrite: {
        opTime,
        lastWriteDate: date,
        majorityOpTime: opTime,
        majorityWriteDate: date,
      },
    };
  }

  admit(name: string, cmd: Document): void {
    if (cmd.startTransaction === true || cmd.autocommit === false) {
      // What mongod answers when its storage engine cannot run multi-document transactions.
      throw new CommandError(
        MongoErrorCode.IllegalOperation,
        'Multi-document transactions are only allowed on storage engines that support ' +
          'document-level locking (MongoWireServer supports retryable writes, not transactions)',
      );
    }
    if (cmd.txnNumber !== undefined && !RETRYABLE_WRITE_COMMANDS.has(name)) {
      throw new CommandError(
        MongoErrorCode.Location50768,
        `txnNumber may only be provided for multi-document transactions and retryable write ` +
          `commands. autocommit:false was not provided, and ${name} is not a retryable write command.`,
      );
    }
    if (this.isPrimary) return;
    if (WRITE_COMMANDS.has(name) || (name === 'aggregate' && writesOut(cmd))) {
      throw new CommandError(MongoErrorCode.NotWritablePrimary, 'not primary', {
        ...(cmd.txnNumber !== undefined ? { errorLabels: ['RetryableWriteError'] } : {}),
      });
    }
    if (READ_COMMANDS.has(name) && !secondaryOk(cmd)) {
      throw new CommandError(
        MongoErrorCode.NotPrimaryNoSecondaryOk,
        'not primary and secondaryOk=false',
      );
    }
  }

  serverCommand(name: string): Document | undefined {
    switch (name) {
      case 'replSetGetStatus':
        return this.status();
      case 'replSetStepDown':
        if (!this.isPrimary) {
          throw new CommandError(
            MongoErrorCode.NotWritablePrimary,
            "not primary so can't step down",
          );
        }
        this.set.stepDownFromCommand(this.index);
        return { ok: 1 };
      default:
        return undefined;
    }
  }

  run(
    name: string,
    cmd: Document,
    execute: (engine: MongoWireEngine, statements?: StatementHistory) => Document,
  ): MemberReply {
    if (!WRITE_COMMANDS.has(name)) return { reply: execute(this.set.readEngine(this.index)) };
    const { reply, retried, interrupted } = this.set.retryable.run(name, cmd, (statements) =>
      execute(this.engine, statements),
    );
    this.set.wrote();
    if (interrupted) return { reply, close: true };
    const delayMs = this.set.acknowledgementDelay(cmd);
    if (!retried && cmd.txnNumber !== undefined && this.set.takeLostAck()) {
      return { reply, close: true };
    }
    return { reply, delayMs };
  }

  private status(): Document {
    const hosts = this.set.hosts();
    const names = { 1: 'PRIMARY', 2: 'SECONDARY', 8: '(not reachable/healthy)' } as const;
    return {
      set: this.set.name,
      date: new Date(),
      myState: this.set.memberState(this.index),
      term: Long.fromNumber(this.set.term()),
      members: hosts.map((host, i) => {
        const state = this.set.memberState(i);
        return {
          _id: i,
          name: host,
          health: state === 8 ? 0 : 1,
          state,
          stateStr: names[state],
          ...(i === this.index ? { self: true } : {}),
        };
      }),
      ok: 1,
    };
  }
}

function writesOut(cmd: Document): boolean {
  const pipeline: unknown = cmd.pipeline;
  if (!Array.isArray(pipeline)) return false;
  return pipeline.some(
    (stage) =>
      stage !== null && typeof stage === 'object' && ('$out' in stage || '$merge' in stage),
  );
}

function secondaryOk(cmd: Document): boolean {
  const pref: unknown = cmd.$readPreference;
  if (!pref || typeof pref !== 'object') return false;
  const mode = (pref as { mode?: unknown }).mode;
  return typeof mode === 'string' && mode !== 'primary';
}

/** A `Timestamp` for the `n`th write of second `secs`. */
export function opTimestamp(secs: number, n: number): Timestamp {
  return new Timestamp({ t: secs, i: n });
}
