import type { Document } from 'bson';

import type { MongoWireEngine } from './mongo-wire-engine.js';

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
   * Runs a data command through `execute`, applying a retried write (same `lsid` and
   * `txnNumber`) once only. Returns `'close'` when the reply must be dropped and the socket
   * closed (the lost-acknowledgement fault).
   */
  run(name: string, cmd: Document, execute: () => Document): Document | 'close';
}
