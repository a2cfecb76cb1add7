import type { Document } from 'bson';
import { calculateObjectSize, Long } from 'bson';

import type { CommandScope } from './mongo-wire-args.js';
import { arrayArg, asNumber, stringArg } from './mongo-wire-args.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';

/** Documents in a first batch when the client sets no batchSize (mongod's default). */
const DEFAULT_BATCH_SIZE = 101;
/** A batch never grows past this many bytes (mongod's 16 MiB reply budget). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** Idle cursors are reaped after this long, as mongod's cursorTimeoutMillis. */
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

interface OpenCursor {
  ns: string;
  docs: Document[];
  position: number;
  lastUsed: number;
}

/** Open cursors of one server: first batches, `getMore`, `killCursors` and idle reaping. */
export class CursorRegistry {
  private readonly cursors = new Map<number, OpenCursor>();
  private nextCursorId = Math.floor(Math.random() * 2 ** 40) + 1;

  /** Number of open cursors. */
  get size(): number {
    return this.cursors.size;
  }

  /** Forgets every cursor (a restart). */
  clear(): void {
    this.cursors.clear();
  }

  /** A `{ cursor: { firstBatch, id, ns } }` reply; a cursor stays open for the rest. */
  reply(
    ns: string,
    docs: Document[],
    batchSize: number | undefined,
    singleBatch: boolean,
  ): Document {
    const [firstBatch, rest] = takeBatch(docs, 0, batchSize ?? DEFAULT_BATCH_SIZE);
    let id = 0;
    if (rest < docs.length && !singleBatch) {
      this.reap();
      id = this.nextCursorId++;
      this.cursors.set(id, { ns, docs, position: rest, lastUsed: Date.now() });
    }
    return { cursor: { firstBatch, id: Long.fromNumber(id), ns }, ok: 1 };
  }

  /** The `getMore` command. */
  getMore(cmd: Document, scope: CommandScope): Document {
    const raw: unknown = cmd.getMore;
    const id = asNumber(raw);
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
    const [nextBatch, position] = takeBatch(
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

  /** The `killCursors` command. */
  kill(cmd: Document): Document {
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

  private reap(): void {
    const deadline = Date.now() - CURSOR_TIMEOUT_MS;
    for (const [id, cursor] of this.cursors)
      if (cursor.lastUsed < deadline) this.cursors.delete(id);
  }
}

function takeBatch(docs: Document[], from: number, batchSize: number): [Document[], number] {
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
