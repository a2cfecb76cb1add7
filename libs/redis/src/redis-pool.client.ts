import { Cluster, type ClusterNode, type Command, Redis } from 'ioredis';

import type { ClusterOptions, RedisOptions } from './redis-pool.client-options.js';

/** A client of the module: a standalone or Sentinel `Redis`, or a `Cluster`. */
export type RedisPoolClient = Redis | Cluster;

/** What the main client asks of its pool on every command. */
export interface RedisClientGuard {
  /** Commands allowed to wait in the offline queue while disconnected; `0` refuses them all. */
  readonly offlineQueueMax: number;
  /** Builds the error a command gets when the offline queue is full. */
  offlineQueueFull(commandName: string, queued: number): Error;
  /** Sees every command that failed (timeouts, reply errors, closed connections). */
  commandFailed(err: unknown): void;
}

type SendStream = Parameters<Redis['sendCommand']>[1];

/** `offlineQueue` is private in ioredis' typings; its length is all the guard reads. */
function offlineQueueLength(client: Redis | Cluster): number {
  return (client as unknown as { offlineQueue: { length: number } }).offlineQueue.length;
}

/**
 * Redis (standalone or Sentinel) main client: ioredis plus a bound on the offline queue, so a long
 * outage turns into fast errors instead of unbounded memory, and a hook that counts failed
 * commands for the pool's metrics.
 */
export class GuardedRedis extends Redis {
  private readonly guard: RedisClientGuard;
  private readonly watched = new WeakSet<Command>();
  private readonly onFailure: (err: unknown) => void;

  /**
   * @param options ioredis options (connection, timeouts, retry strategy).
   * @param guard Offline-queue bound and failure hook.
   */
  constructor(options: RedisOptions, guard: RedisClientGuard) {
    super(options);
    this.guard = guard;
    this.onFailure = (err: unknown) => guard.commandFailed(err);
  }

  override sendCommand(command: Command, stream?: SendStream): unknown {
    // `this.guard` is unset while ioredis' own constructor runs; nothing is sent then.
    const guard = this.guard as RedisClientGuard | undefined;
    if (guard === undefined) return super.sendCommand(command, stream);
    if (this.status !== 'ready' && this.status !== 'connect' && this.options.enableOfflineQueue) {
      // 'connect' is the handshake (HELLO, AUTH, the ready check): never refuse those.
      const queued = offlineQueueLength(this);
      if (queued >= guard.offlineQueueMax) {
        command.reject(guard.offlineQueueFull(command.name, queued));
        return command.promise;
      }
    }
    // Handshake commands ('connect') may fail by design (CLIENT SETINFO on Redis < 7.2).
    const count = this.status !== 'connect' && !this.watched.has(command);
    const result = super.sendCommand(command, stream);
    // ioredis sends a command through here again after a reconnect (offline queue, unanswered
    // commands); count each failure once.
    if (count) {
      this.watched.add(command);
      command.promise.catch(this.onFailure);
    }
    return result;
  }
}

/**
 * Cluster main client with the same offline-queue bound and failure hook as {@link GuardedRedis}.
 * The bound applies while the cluster as a whole is not ready.
 */
export class GuardedCluster extends Cluster {
  private readonly guard: RedisClientGuard;
  private readonly watched = new WeakSet<Command>();
  private readonly onFailure: (err: unknown) => void;

  /**
   * @param nodes Startup nodes.
   * @param options ioredis cluster options.
   * @param guard Offline-queue bound and failure hook.
   */
  constructor(nodes: ClusterNode[], options: ClusterOptions, guard: RedisClientGuard) {
    super(nodes, options);
    this.guard = guard;
    this.onFailure = (err: unknown) => guard.commandFailed(err);
  }

  override sendCommand(command: Command, stream?: SendStream, node?: unknown): unknown {
    const guard = this.guard as RedisClientGuard | undefined;
    if (guard === undefined) return super.sendCommand(command, stream, node);
    if (this.status !== 'ready' && this.options.enableOfflineQueue) {
      const queued = offlineQueueLength(this);
      if (queued >= guard.offlineQueueMax) {
        command.reject(guard.offlineQueueFull(command.name, queued));
        return command.promise;
      }
    }
    const result = super.sendCommand(command, stream, node);
    // A cluster sends a command through here again after an outage (offline queue); count each
    // failure once.
    if (!this.watched.has(command)) {
      this.watched.add(command);
      command.promise.catch(this.onFailure);
    }
    return result;
  }
}

/**
 * Disconnects and resolves once the client reports `end` (its sockets closed), or after
 * `timeoutMs` at the latest, so shutdown finishes with nothing left open.
 * @param client Main client or dedicated connection.
 * @param timeoutMs Upper bound of the wait.
 */
export async function disconnectAndWait(client: RedisPoolClient, timeoutMs: number): Promise<void> {
  // 'wait': never connected. 'reconnecting'/'close': no socket, only a reconnect timer, which
  // disconnect() clears; ioredis stays in that status without emitting 'end'.
  if (['end', 'wait', 'reconnecting', 'close'].includes(client.status)) {
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect();
  await ended;
}
