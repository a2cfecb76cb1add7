import type { Binary, Document } from 'bson';

import { toJsNumber } from './bson-values.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';

/** Commands a driver may send as retryable writes (with `lsid` + `txnNumber`). */
export const RETRYABLE_WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);

/**
 * What a statement of a retryable write left in the history: mongod keeps a statement when it
 * wrote an oplog entry, and answers a retry of it from that entry. Every kept statement counts
 * `n: 1`.
 */
export interface StatementResult {
  /** 1 for an update that changed its document. */
  nModified?: number;
  /** `_id` of the document an update statement upserted. */
  upsertedId?: unknown;
  /** The whole reply of a findAndModify. */
  reply?: Document;
}

/**
 * The statements of one retryable write command, by their position in the command; write
 * commands consult it for every statement.
 */
export interface StatementHistory {
  /** The result kept for statement `index` by an earlier execution (then it is not run again). */
  stored(index: number): StatementResult | undefined;
  /** False when the command must stop before running statement `index` (the interruption fault). */
  proceed(index: number): boolean;
  /** Statement `index` wrote: keep `result` for its retries. */
  applied(index: number, result: StatementResult): void;
}

interface SessionRecord {
  txnNumber: number;
  /** Statements of `txnNumber` that wrote, by `stmtId`. */
  statements: Map<number, StatementResult>;
}

/** A pending {@link RetryableWriteStore.interruptNext} fault. */
interface Interruption {
  afterStatements: number;
  command?: string;
}

/** Outcome of {@link RetryableWriteStore.run}. */
export interface RetryableOutcome {
  reply: Document;
  /** Some statements were answered from the history. */
  retried: boolean;
  /** The interruption fault stopped the command: drop the reply, close the connection. */
  interrupted: boolean;
}

/**
 * The retryable-write history of a replica set (mongod's `config.transactions` and the oplog
 * entries it points to), shared by every member as mongod replicates it. Per logical session it
 * keeps the highest `txnNumber` seen and, for that number, the result of every statement that
 * wrote, by `stmtId` (the command's `stmtIds[i]`, else `stmtId + i`, else `i`). A retry with the
 * same `txnNumber` runs only the statements not kept — those that failed, were not reached
 * after an ordered batch's error, or wrote nothing — and answers the kept ones from the history
 * (`n: 1`, `nModified: 1` for an update, `upserted` for an upsert, the stored reply of a
 * findAndModify), listing them in `retriedStmtIds` (`retriedStmtId` for findAndModify), as
 * mongod does. An older `txnNumber` is refused with `TransactionTooOld` (225).
 */
export class RetryableWriteStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly interruptions: Interruption[] = [];
  /** Retryable write commands answered (wholly or partly) from the history. */
  retriesAnswered = 0;

  /**
   * The next retryable write (of `command`, or of any retryable command) runs its first
   * `afterStatements` statements only; the caller then closes the connection without a reply.
   */
  interruptNext(afterStatements: number, command?: string): void {
    if (!Number.isInteger(afterStatements) || afterStatements < 0) {
      throw new RangeError(`afterStatements must be an integer >= 0, got ${afterStatements}`);
    }
    if (command !== undefined && !RETRYABLE_WRITE_COMMANDS.has(command)) {
      throw new RangeError(`${command} is not a retryable write command`);
    }
    this.interruptions.push({ afterStatements, ...(command !== undefined ? { command } : {}) });
  }

  /**
   * Runs `execute` with the history of this (`lsid`, `txnNumber`); commands without both run
   * without one.
   */
  run(
    name: string,
    cmd: Document,
    execute: (statements?: StatementHistory) => Document,
  ): RetryableOutcome {
    const txnNumber = toJsNumber(cmd.txnNumber);
    const key = sessionKey(cmd.lsid);
    if (txnNumber === undefined || key === undefined || !RETRYABLE_WRITE_COMMANDS.has(name)) {
      return { reply: execute(), retried: false, interrupted: false };
    }
    let record = this.sessions.get(key);
    if (record !== undefined && txnNumber < record.txnNumber) {
      throw new CommandError(
        MongoErrorCode.TransactionTooOld,
        `Retryable write with txnNumber ${txnNumber} is prohibited on session ${key} because a ` +
          `newer retryable write with txnNumber ${record.txnNumber} has already started on this session.`,
      );
    }
    if (record === undefined || txnNumber > record.txnNumber) {
      record = { txnNumber, statements: new Map() };
      this.sessions.set(key, record);
    }
    const kept = record.statements;
    const stmtId = stmtIdOf(cmd);
    const at = this.interruptions.findIndex((i) => i.command === undefined || i.command === name);
    const interruption = at >= 0 ? this.interruptions.splice(at, 1)[0] : undefined;
    let run = 0;
    let interrupted = false;
    const retried: number[] = [];
    const reply = execute({
      stored: (index) => {
        const result = kept.get(stmtId(index));
        if (result !== undefined) retried.push(stmtId(index));
        return result;
      },
      proceed: () => {
        if (interruption === undefined || run < interruption.afterStatements) {
          run += 1;
          return true;
        }
        interrupted = true;
        return false;
      },
      applied: (index, result) => void kept.set(stmtId(index), result),
    });
    if (retried.length === 0) return { reply, retried: false, interrupted };
    this.retriesAnswered += 1;
    const marked =
      name === 'findAndModify'
        ? { ...reply, retriedStmtId: retried[0] }
        : { ...reply, retriedStmtIds: retried };
    return { reply: marked, retried: true, interrupted };
  }
}

function sessionKey(lsid: unknown): string | undefined {
  if (!lsid || typeof lsid !== 'object') return undefined;
  const id = (lsid as { id?: Binary }).id;
  if (!id || typeof id !== 'object' || !('buffer' in id)) return undefined;
  return Buffer.from(id.buffer).toString('hex');
}

/** mongod's `getStmtIdForWriteAt`: `stmtIds[i]` when given, else `stmtId + i` (`stmtId` 0). */
function stmtIdOf(cmd: Document): (index: number) => number {
  const ids: unknown = cmd.stmtIds;
  const first = toJsNumber(cmd.stmtId) ?? 0;
  if (Array.isArray(ids)) return (index) => toJsNumber(ids[index]) ?? first + index;
  return (index) => first + index;
}
