import type { Socket } from 'node:net';

import type { Document } from 'bson';
import { ObjectId } from 'bson';

import { toJsNumber } from './bson-values.js';
import { MAX_MESSAGE_SIZE_BYTES } from './mongo-wire-limits.js';
import type { WireConnectionStats } from './mongo-wire-options.js';
import { MessageFramer } from './wire-framer.js';
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

/** True when the client's topologyVersion is this process's current one (nothing changed). */
export function sameTopologyVersion(tv: unknown, processId: ObjectId, counter: number): boolean {
  if (!tv || typeof tv !== 'object') return false;
  const candidate = (tv as { processId?: unknown; counter?: unknown }).processId;
  const seen = toJsNumber((tv as { counter?: unknown }).counter);
  return candidate instanceof ObjectId && candidate.equals(processId) && seen === counter;
}

/** Bookkeeping of a freshly accepted socket; `markClosed` settles `whenClosed`. */
export function newConnection(
  id: number,
  socket: Socket,
): { conn: WireConnection; markClosed: () => void } {
  let markClosed = (): void => undefined;
  const whenClosed = new Promise<void>((resolve) => (markClosed = resolve));
  const conn: WireConnection = {
    id,
    socket,
    framer: new MessageFramer(MAX_MESSAGE_SIZE_BYTES),
    queue: Promise.resolve(),
    compressors: [],
    handshakeDone: false,
    activeCommands: 0,
    awaitingHello: false,
    streamingHello: false,
    timers: new Set(),
    closed: false,
    whenClosed,
  };
  return { conn, markClosed };
}

/** `serverStatus.connections` of a set of open sockets. */
export function connectionStats(
  connections: Iterable<WireConnection>,
  totals: { maxIncoming: number; accepted: number; rejected: number },
): WireConnectionStats {
  let current = 0;
  let active = 0;
  let exhaustHello = 0;
  let awaiting = 0;
  for (const conn of connections) {
    current += 1;
    if (conn.activeCommands > 0 && !conn.awaitingHello) active += 1;
    if (conn.streamingHello) exhaustHello += 1;
    if (conn.awaitingHello) awaiting += 1;
  }
  return {
    current,
    available: Math.max(0, totals.maxIncoming - current),
    totalCreated: totals.accepted,
    active,
    rejected: totals.rejected,
    exhaustHello,
    awaitingTopologyChanges: awaiting,
  };
}

/**
 * Resolves after `ms`, unless the connection closes first (then it never resolves). With
 * `wakers`, it also resolves early when the server calls the wakers (a topology change).
 *
 * At least `ms` by `performance.now()`: a Node timer fires once the event loop's millisecond clock
 * passed its delay, which can be up to a millisecond early on a finer clock, so a timer that fires
 * early is set again for the rest. A replication lag or an added latency is then never shorter
 * than asked, as a client measuring it sees.
 */
export function delayOn(conn: WireConnection, ms: number, wakers?: Set<() => void>): Promise<void> {
  const until = performance.now() + ms;
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout;
    const wake = (): void => {
      clearTimeout(timer);
      conn.timers.delete(timer);
      wakers?.delete(wake);
      resolve();
    };
    const arm = (delay: number): void => {
      timer = setTimeout(() => {
        conn.timers.delete(timer);
        const left = until - performance.now();
        if (left > 0) arm(Math.ceil(left));
        else wake();
      }, delay);
      conn.timers.add(timer);
    };
    arm(ms);
    wakers?.add(wake);
  });
}
