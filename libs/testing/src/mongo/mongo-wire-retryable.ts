import type { Binary, Document } from 'bson';

import { toJsNumber } from './bson-values.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';

/** Commands a driver may send as retryable writes (with `lsid` + `txnNumber`). */
export const RETRYABLE_WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);

interface SessionRecord {
  txnNumber: number;
  /** Reply of the first execution of `txnNumber` (undefined until it completed). */
  reply?: Document;
}

/**
 * The retryable-write history of a replica set (mongod's `config.transactions`), shared by every
 * member as mongod replicates it: per logical session, the highest `txnNumber` seen and the reply
 * of its first execution. A retry of that `txnNumber` gets the stored reply and is not applied
 * again; an older `txnNumber` is refused with `TransactionTooOld` (225).
 *
 * Granularity is the whole command, not each `stmtId`: a retried batch is answered with the
 * first execution's reply, write errors included (mongod would re-run the failed statements,
 * which fail the same way for the errors the wire server produces).
 */
export class RetryableWriteStore {
  private readonly sessions = new Map<string, SessionRecord>();
  /** Retries answered from the history (no write applied). */
  retriesAnswered = 0;

  /**
   * Runs `execute` once per (`lsid`, `txnNumber`); a retry gets the stored reply, marked with
   * `retriedStmtIds` as mongod 5+ does (and `retried: true` for the caller).
   */
  run(name: string, cmd: Document, execute: () => Document): { reply: Document; retried: boolean } {
    const txnNumber = toJsNumber(cmd.txnNumber);
    const key = sessionKey(cmd.lsid);
    if (txnNumber === undefined || key === undefined || !RETRYABLE_WRITE_COMMANDS.has(name)) {
      return { reply: execute(), retried: false };
    }
    const record = this.sessions.get(key);
    if (record !== undefined && txnNumber < record.txnNumber) {
      throw new CommandError(
        MongoErrorCode.TransactionTooOld,
        `Retryable write with txnNumber ${txnNumber} is prohibited on session ${key} because a ` +
          `newer retryable write with txnNumber ${record.txnNumber} has already started on this session.`,
      );
    }
    if (record !== undefined && txnNumber === record.txnNumber && record.reply !== undefined) {
      this.retriesAnswered += 1;
      return { reply: { ...record.reply, ...retriedStmtIds(name, cmd) }, retried: true };
    }
    const next: SessionRecord = { txnNumber };
    this.sessions.set(key, next);
    const reply = execute();
    // A command error (ok: 0) applied nothing: the retry runs it again, as on mongod.
    if (reply.ok === 1) next.reply = reply;
    return { reply, retried: false };
  }
}

function sessionKey(lsid: unknown): string | undefined {
  if (!lsid || typeof lsid !== 'object') return undefined;
  const id = (lsid as { id?: Binary }).id;
  if (!id || typeof id !== 'object' || !('buffer' in id)) return undefined;
  return Buffer.from(id.buffer).toString('hex');
}

function retriedStmtIds(name: string, cmd: Document): Document {
  const field = name === 'insert' ? 'documents' : name === 'update' ? 'updates' : 'deletes';
  const items: unknown = cmd[field];
  if (!Array.isArray(items) || items.length === 0) return {};
  const first = toJsNumber(cmd.stmtId) ?? 0;
  return { retriedStmtIds: items.map((_, i) => first + i) };
}
