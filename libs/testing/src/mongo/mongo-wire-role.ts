import type { Document } from 'bson';

import type { MongoWireEngine } from './mongo-wire-engine.js';
import type { StatementHistory } from './mongo-wire-retryable.js';

/**
 * What a server is in a deployment. A standalone has no role; a replica-set member gets one
 * from {@link MongoWireReplicaSet}, which decides its state (primary or secondary), the `hello`
 * fields that announce it and which commands it refuses.
 */
export interface WireMemberRole {
  /** The store shared by every member of the set. */
  readonly engine: MongoWireEngine;
  /** `hello` fields of the member now, including whether it is writable. */
  helloFields(): Document & { writable: boolean };
  /** Throws the error the member answers `name` with in its state (not primary, transactions). */
  admit(name: string, cmd: Document): void;
  /** Member commands (`replSetGetStatus`, `replSetStepDown`…); undefined for other names. */
  serverCommand(name: string, cmd: Document): Document | undefined;
  /**
   * Runs a data command through `execute` on the engine the member serves it from (its own
   * lagging copy for a secondary's reads), with the statement history of a retryable write (same
   * `lsid` and `txnNumber`: statements already applied are answered, not run again).
   */
  run(
    name: string,
    cmd: Document,
    execute: (engine: MongoWireEngine, statements?: StatementHistory) => Document,
  ): MemberReply;
}

/** What a member answers a data command with. */
export interface MemberReply {
  reply: Document;
  /** Drop the reply and close the socket (the lost-acknowledgement fault). */
  close?: boolean;
  /** Wait this long before replying (a write concern waiting for lagging secondaries). */
  delayMs?: number;
}
