import { withTimeout } from '@nest-pools/core';
import { Cluster, type Command, Redis } from 'ioredis';

import type { RedisCommandTimer } from './redis-command-metrics.js';
import type { RedisPoolClient } from './redis-pool.client.js';

type SendStream = Parameters<Redis['sendCommand']>[1];

/**
 * What a borrower changed on a dedicated connection while it held it, read from the commands it
 * sent. Flags are raised when a command is *sent*, whatever its reply: a reset that turns out to
 * be unneeded costs one round trip, a missed one would hand the state to the next borrower.
 */
export class RedisLeaseState {
  /** Whether commands are being observed (only while the connection is lent). */
  observing = false;
  /** `WATCH` sent and not ended by `UNWATCH`, `EXEC` or `DISCARD`. */
  watching = false;
  /** `MULTI` sent and not ended by `EXEC` or `DISCARD`. */
  inMulti = false;
  /** `SELECT` sent. */
  selected = false;
  /** `CLIENT SETNAME` sent. */
  renamed = false;
  /** Why the connection cannot be made clean again (subscriber mode, MONITOR…), if it cannot. */
  tainted: string | undefined;

  /** Starts observing a fresh lease. */
  begin(): void {
    this.watching = this.inMulti = this.selected = this.renamed = false;
    this.tainted = undefined;
    this.observing = true;
  }

  /**
   * Records what `command` changes. Called for every command sent while lent: one lower-casing
   * (a no-op for ioredis' own lower-case names) and one string switch.
   */
  observe(command: Command): void {
    const name = command.name.toLowerCase();
    switch (name) {
      case 'watch':
        this.watching = true;
        return;
      case 'unwatch':
        this.watching = false;
        return;
      case 'multi':
        this.inMulti = true;
        return;
      case 'exec':
      case 'discard':
        // Both end the transaction and unwatch every key.
        this.inMulti = this.watching = false;
        return;
      case 'select':
        this.selected = true;
        return;
      case 'client':
        this.observeClient(String(command.args[0] ?? '').toLowerCase());
        return;
      case 'subscribe':
      case 'psubscribe':
      case 'ssubscribe':
        this.tainted ??= `${name.toUpperCase()} (subscriber mode)`;
        return;
      case 'monitor':
        this.tainted ??= 'MONITOR';
        return;
      // AUTH/HELLO change who the connection is or how it speaks, RESET drops the configured
      // credentials and name, READONLY sends reads to replicas: not the connection we lent.
      case 'auth':
      case 'hello':
      case 'reset':
      case 'readonly':
        this.tainted ??= name.toUpperCase();
        return;
      default:
        return;
    }
  }

  private observeClient(sub: string): void {
    if (sub === 'setname') this.renamed = true;
    // Reply suppression, tracking/caching and eviction flags: not worth resetting one by one.
    else if (['reply', 'tracking', 'caching', 'no-evict', 'no-touch'].includes(sub)) {
      this.tainted ??= `CLIENT ${sub.toUpperCase()}`;
    }
  }
}

/** A dedicated connection that records what its borrower changes. */
export interface ObservedConnection {
  /** What the current borrower changed. */
  readonly leaseState: RedisLeaseState;
  /** Times the borrower's commands, when operation metrics are on. */
  commandTimer: RedisCommandTimer | undefined;
}

/**
 * What a dedicated connection does with each command a borrower sends: records what it changes
 * and, with operation metrics on, times it (`once` where a command can be sent through again).
 */
function observeLeased(conn: ObservedConnection, command: Command, once: boolean): void {
  // Both are assigned after ioredis' constructor, which may already send commands.
  const state = conn.leaseState as RedisLeaseState | undefined;
  if (state?.observing !== true) return;
  state.observe(command);
  if (once) conn.commandTimer?.timeOnce(command);
  else conn.commandTimer?.time(command);
}

/** Dedicated connection to a standalone or Sentinel-managed server. */
export class DedicatedRedis extends Redis implements ObservedConnection {
  readonly leaseState = new RedisLeaseState();
  commandTimer: RedisCommandTimer | undefined;

  override sendCommand(command: Command, stream?: SendStream): unknown {
    // No offline queue and no reconnect on a dedicated connection: each command is sent once.
    observeLeased(this, command, false);
    return super.sendCommand(command, stream);
  }
}

/** Dedicated Cluster client: one per borrower, with the node connections it opens. */
export class DedicatedCluster extends Cluster implements ObservedConnection {
  readonly leaseState = new RedisLeaseState();
  commandTimer: RedisCommandTimer | undefined;

  override sendCommand(command: Command, stream?: SendStream, node?: unknown): unknown {
    // A Cluster sends a redirected command through here again.
    observeLeased(this, command, true);
    return super.sendCommand(command, stream, node);
  }
}

/** What release did with a connection. */
export type ReleaseOutcome =
  | { action: 'reuse' }
  | { action: 'reset'; commands: string[] }
  | { action: 'destroy'; reason: string };

/** The connection settings a reset restores. */
export interface CleanTarget {
  /** db index of the URL (0 when none). */
  readonly db: number;
  /** `CLIENT SETNAME` the connection was created with. */
  readonly connectionName: string | undefined;
  /** Time limit of the reset round trip. */
  readonly timeoutMs: number;
}

function pendingReplies(conn: RedisPoolClient): number {
  const queues = conn as unknown as {
    commandQueue?: { length: number };
    offlineQueue?: { length: number };
  };
  return (queues.commandQueue?.length ?? 0) + (queues.offlineQueue?.length ?? 0);
}

/**
 * Decides, when a borrower gives a connection back, whether it can be lent again as it is, after
 * a reset, or not at all — and runs the reset. Destroyed: a connection that is not `ready`, still
 * owes a reply (a blocking command whose caller gave up: the reply, and the element it pops, may
 * still arrive), was tainted (subscriber mode, MONITOR, AUTH, HELLO, RESET, CLIENT REPLY…), or is
 * a Cluster client with any state changed (the state lives on whichever node took the command).
 * Reset: `DISCARD`, `UNWATCH`, `SELECT <configured db>`, `CLIENT SETNAME <configured name>` —
 * only those needed, in one round trip. Not `RESET`: it also de-authenticates the connection,
 * clears its name and drops it to RESP2, so it would need a whole new handshake.
 * @param conn The connection given back.
 * @param target Settings to restore.
 */
export async function cleanForReuse(
  conn: RedisPoolClient & ObservedConnection,
  target: CleanTarget,
): Promise<ReleaseOutcome> {
  const state = conn.leaseState;
  state.observing = false;
  if (conn.status !== 'ready') return { action: 'destroy', reason: `status ${conn.status}` };
  if (state.tainted !== undefined) return { action: 'destroy', reason: state.tainted };
  // ioredis' own record of subscriber / monitor mode (RESP2), for what the commands did not show.
  if (conn instanceof Redis && conn.mode !== 'normal') {
    return { action: 'destroy', reason: `${conn.mode} mode` };
  }
  const pending = pendingReplies(conn);
  if (pending > 0) {
    return { action: 'destroy', reason: `${pending} command(s) still awaiting a reply` };
  }
  const commands: string[] = [];
  if (state.inMulti) commands.push('DISCARD');
  if (state.watching) commands.push('UNWATCH');
  if (state.selected) commands.push('SELECT');
  if (state.renamed) commands.push('CLIENT SETNAME');
  if (commands.length === 0) return { action: 'reuse' };
  if (conn instanceof Cluster) return { action: 'destroy', reason: `cluster ${commands[0]}` };
  const pipeline = conn.pipeline();
  if (state.inMulti) pipeline.discard();
  if (state.watching) pipeline.unwatch();
  if (state.selected) pipeline.select(target.db);
  if (state.renamed) pipeline.client('SETNAME', target.connectionName ?? '');
  try {
    const results = await withTimeout(pipeline.exec(), target.timeoutMs, 'resetting a connection');
    const failed = (results ?? []).find(([err], i) => err !== null && commands[i] !== 'DISCARD');
    if (failed) return { action: 'destroy', reason: `reset failed: ${String(failed[0])}` };
  } catch (err) {
    return { action: 'destroy', reason: `reset failed: ${String(err)}` };
  }
  return { action: 'reset', commands };
}
