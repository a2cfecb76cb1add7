import type { Document } from 'bson';

import { HANDSHAKE_COMMANDS } from './mongo-wire-connection.js';
import { CommandError, MongoErrorCode } from './mongo-wire-errors.js';
import type { LegacyRequest, OpQueryRequest } from './wire-protocol.js';
import { OpCode } from './wire-protocol.js';

const REMOVAL_NOTE =
  'The client driver may require an upgrade. For more details see ' +
  'https://dochub.mongodb.org/core/legacy-opcode-removal';

/** How mongod 6+ answers a legacy message. */
export type LegacyAnswer =
  /** Run the command (an OP_QUERY handshake) and answer with OP_REPLY. */
  | { kind: 'handshake' }
  /** OP_REPLY with this document, and the QueryFailure flag when `queryFailure`. */
  | { kind: 'reply'; doc: Document; queryFailure: boolean }
  /** Nothing is sent; the connection stays open (fire-and-forget opcodes). */
  | { kind: 'silent'; reason: string };

/** mongod's legacy query-failure document (`$err` first, `code`, `ok: 0`). */
function queryFailure(code: number, message: string): LegacyAnswer {
  return { kind: 'reply', doc: { $err: message, code, ok: 0 }, queryFailure: true };
}

/**
 * OP_QUERY after the removal of legacy opcodes (5.1): `hello`/`isMaster` on `*.$cmd` still runs;
 * other commands get a command error (352) in an ordinary OP_REPLY; a query on a collection is
 * a query failure (QueryFailure flag, `{ $err, code: 5739101 }`).
 */
export function answerOpQuery(request: OpQueryRequest, name: string): LegacyAnswer {
  if (!request.fullCollectionName.endsWith('.$cmd')) {
    return queryFailure(
      MongoErrorCode.Location5739101,
      `OP_QUERY is no longer supported. ${REMOVAL_NOTE}`,
    );
  }
  if (HANDSHAKE_COMMANDS.has(name)) return { kind: 'handshake' };
  const error = new CommandError(
    MongoErrorCode.UnsupportedOpQueryCommand,
    `Unsupported OP_QUERY command: ${name}. ${REMOVAL_NOTE}`,
  );
  return { kind: 'reply', doc: error.toDocument(), queryFailure: false };
}

/**
 * The removed opcodes: OP_GET_MORE is a query failure in OP_REPLY; OP_INSERT, OP_UPDATE,
 * OP_DELETE and OP_KILL_CURSORS are fire-and-forget, so mongod logs the failure and sends
 * nothing. None of them is ever answered with OP_MSG.
 */
export function answerLegacy(request: LegacyRequest): LegacyAnswer {
  if (request.opCode === OpCode.OP_GET_MORE) {
    return queryFailure(
      MongoErrorCode.Location5739101,
      `OP_GET_MORE is no longer supported. ${REMOVAL_NOTE}`,
    );
  }
  return { kind: 'silent', reason: `legacy opcode ${request.opCode} is no longer supported` };
}
