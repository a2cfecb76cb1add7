import type { Socket } from 'node:net';

import type { Document } from 'bson';
import { ObjectId } from 'bson';

import { toJsNumber } from './bson-values.js';
import type { MessageFramer } from './wire-framer.js';
import type { SupportedCompressor } from './wire-protocol.js';

/** Command names of the handshake (never slowed or failed by default fault injection). */
export const HANDSHAKE_COMMANDS = new Set(['hello', 'isMaster', 'ismaster']);

/** One client socket and what the server tracks about it. */
export interface WireConnection {
  id: number;
  socket: Socket;
  framer: MessageFramer;
  queue: Promise<void>;
  compressors: SupportedCompressor[];
  handshakeDone: boolean;
  activeCommands: number;
  awaitingHello: boolean;
  streamingHello: boolean;
  timers: Set<NodeJS.Timeout>;
  closed: boolean;
  /** Settles once the socket has closed and the bookkeeping is done. */
  whenClosed: Promise<void>;
}

/** Marker reply: the connection was closed on purpose, nothing is sent. */
export const CLOSED: Document = Object.freeze({ closed: true });

/** A hello a driver monitor sends to wait for the next topology change. */
export function isAwaitableHello(cmd: Document): boolean {
  return cmd.topologyVersion !== undefined && cmd.maxAwaitTimeMS !== undefined;
}

/** How long an awaitable hello waits (capped at a minute). */
export function maxAwaitTime(cmd: Document): number {
  const ms = toJsNumber(cmd.maxAwaitTimeMS) ?? 10_000;
  return Math.max(0, Math.min(ms, 60_000));
}

/** True when the client's topologyVersion is this process's (nothing changed since). */
export function sameTopologyVersion(tv: unknown, processId: ObjectId): boolean {
  if (!tv || typeof tv !== 'object') return false;
  const candidate = (tv as { processId?: unknown }).processId;
  return candidate instanceof ObjectId && candidate.equals(processId);
}
