import { AsyncResource } from 'node:async_hooks';

import { type ChainableCommander, Cluster, type ClusterNode, Command, Redis } from 'ioredis';

import type { ClusterOptions, RedisOptions } from './config/redis-pool.client-options.js';
import { RedisCommandInterruptedError } from './errors/redis-command-interrupted.error.js';
import { RedisOfflineQueueFullError } from './errors/redis-offline-queue-full.error.js';
import {
  commandInterruptedMessage,
  offlineQueueFullMessage,
} from './errors/redis-pool.messages.js';
import type { RedisCommandTimer } from './redis-command-metrics.js';
import { CommandTimeouts } from './redis-pool.timeouts.js';

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
  /**
   * Asks the pool's circuit breaker about `command`: rejects it at once with
   * `PoolUnavailableError` while the circuit is open (returns true), lets it through otherwise.
   */
  refused(command: Command): boolean;
  /** Builds the error of a command cut by a dropped connection and not sent again. */
  commandInterrupted(commandName: string): Error;
  /** Times every command the client sends (`REDIS_OPERATION_METRICS`). */
  readonly commandTimer?: RedisCommandTimer;
}

/** The error builders, failure hook and breaker check of one pool's main client. */
export function createClientGuard(
  poolName: string,
  offlineQueueMax: number,
  commandFailed: (err: unknown) => void,
  refused: (command: Command) => boolean,
  commandTimer?: RedisCommandTimer,
): RedisClientGuard {
  return {
    commandTimer,
    offlineQueueMax,
    offlineQueueFull: (command, queued) =>
      new RedisOfflineQueueFullError(
        offlineQueueFullMessage({ poolName, command, limit: queued }),
        { poolName, context: { limit: offlineQueueMax, command } },
      ),
    commandFailed,
    refused,
    commandInterrupted: (command) =>
      new RedisCommandInterruptedError(commandInterruptedMessage({ poolName, command }), {
        poolName,
        context: { command },
      }),
  };
}

interface UnfulfilledQueue {
  shift(): { command: Command } | undefined;
}

type SendStream = Parameters<Redis['sendCommand']>[1];

/** `offlineQueue` is private in ioredis' typings; its length is all the guard reads. */
function offlineQueueLength(client: Redis | Cluster): number {
  return (client as unknown as { offlineQueue: { length: number } }).offlineQueue.length;
}

/**
 * Rejects `command` when the offline queue already holds `guard.offlineQueueMax` commands.
 * @returns Whether the command was refused.
 */
function refusedByOfflineQueue(
  client: Redis | Cluster,
  guard: RedisClientGuard,
  command: Command,
): boolean {
  const queued = offlineQueueLength(client);
  if (queued < guard.offlineQueueMax) return false;
  command.reject(guard.offlineQueueFull(command.name, queued));
  return true;
}

/** Marks a command the client has seen: ioredis sends it through again after a reconnect. */
const SENT = Symbol('nest-pools.redis.sent');
type SeenCommand = Command & { [SENT]?: true };

/** ioredis' own handshake commands, sent while the client status is 'connect'. */
function isHandshake(client: Redis, command: Command): boolean {
  return client.status === 'connect' && Command.checkFlag('HANDSHAKE_COMMANDS', command.name);
}

/** Whether the client has not sent `command` yet (a command replayed after a reconnect has). */
function firstSendPending(command: Command): boolean {
  return (command as SeenCommand)[SENT] !== true;
}

/** Whether this is the first time the client sends `command` (and marks it as sent). */
function firstSend(command: Command): boolean {
  const seen = command as SeenCommand;
  if (seen[SENT] === true) return false;
  seen[SENT] = true;
  return true;
}

/**
 * Reports the command's failure to `onFailure` and, with operation metrics on, times it. Wrapping
 * `reject` (as ioredis does itself for Cluster redirects) costs one closure; a `.catch()` on the
 * command's promise would cost a promise and a microtask on every successful command as well. The
 * timer's own `reject` wrapper reports the failure too, so a timed command has no second one.
 * Script commands (`defineCommand`) keep the `.catch()`: ioredis answers their NOSCRIPT by sending
 * the script itself, and only the promise it hands out says whether the call failed.
 */
function watchCommand(
  command: Command,
  onFailure: (err: unknown) => void,
  timer: RedisCommandTimer | undefined,
): void {
  if (command.constructor !== Command) {
    command.promise.catch(onFailure);
    timer?.time(command);
    return;
  }
  if (timer !== undefined) {
    timer.time(command, onFailure);
    return;
  }
  const reject = command.reject;
  command.reject = (err: Error) => {
    onFailure(err);
    reject(err);
  };
}

/** The async context an auto-pipelined command was issued in (see `GuardedRedis#pipeline`). */
const ISSUED_IN = Symbol('nest-pools.redis.issued-in');
type IssuedCommand = Command & { [ISSUED_IN]?: AsyncResource };

/**
 * Makes every command queued on `pipeline` remember the async context it was issued in.
 *
 * With auto-pipelining, ioredis sends a batch on a later tick, in the async context of the
 * batch's first command: a tracing instrumentation would give every command of the batch that
 * command's parent span (another request's). The main clients send each remembered command in
 * its own context instead ({@link takeIssuingContext}).
 */
function rememberIssuingContext(pipeline: ChainableCommander): void {
  const queue = pipeline as unknown as {
    sendCommand: (this: unknown, command: Command) => unknown;
  };
  const queueCommand = queue.sendCommand;
  queue.sendCommand = function (this: unknown, command: Command) {
    (command as IssuedCommand)[ISSUED_IN] = new AsyncResource('nest-pools.redis.command');
    return queueCommand.call(this, command);
  };
}

/** The context `command` was issued in, if a pipeline remembered it; forgets it (sent once). */
function takeIssuingContext(command: Command): AsyncResource | undefined {
  const issued = command as IssuedCommand;
  const context = issued[ISSUED_IN];
  if (context !== undefined) issued[ISSUED_IN] = undefined;
  return context;
}

/**
 * Redis (standalone or Sentinel) main client: ioredis plus a bound on the offline queue, so a long
 * outage turns into fast errors instead of unbounded memory, a hook that counts failed commands
 * for the pool's metrics, and the command and socket timeouts of its options enforced by one
 * sweep ({@link CommandTimeouts}) instead of ioredis' timer per command.
 */
export class GuardedRedis extends Redis {
  private readonly guard: RedisClientGuard;
  private readonly timeouts: CommandTimeouts;
  private readonly onFailure: (err: unknown) => void;

  /**
   * @param options ioredis options (connection, timeouts, retry strategy). `commandTimeout` and
   * `socketTimeout` keep their ioredis meaning.
   * @param guard Offline-queue bound and failure hook.
   */
  constructor(options: RedisOptions, guard: RedisClientGuard) {
    const { commandTimeout, socketTimeout, ...rest } = options;
    super(rest);
    this.guard = guard;
    this.onFailure = (err: unknown) => guard.commandFailed(err);
    this.timeouts = new CommandTimeouts(this, commandTimeout, socketTimeout);
    this.on('end', () => this.timeouts.stop());
    // ioredis drops the unanswered commands silently when it does not resend them: they would
    // hang until their timeout. Fail them now, with a reason. 'close' is emitted after ioredis
    // moved them aside and before any reconnect can run.
    if (options.autoResendUnfulfilledCommands === false) {
      this.on('close', () => this.failUnfulfilled());
    }
  }

  private failUnfulfilled(): void {
    const self = this as unknown as { prevCommandQueue?: UnfulfilledQueue | null };
    const queue = self.prevCommandQueue;
    if (!queue) return;
    self.prevCommandQueue = null;
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      item.command.reject(this.guard.commandInterrupted(item.command.name));
    }
  }

  /** Commands whose timeout is being watched (for tests and diagnostics). */
  get trackedCommands(): number {
    return this.timeouts.tracked;
  }

  /** With auto-pipelining, each batched command is sent in the context it was issued in. */
  override pipeline(commands?: unknown[][]): ChainableCommander {
    const pipeline = super.pipeline(commands);
    if (this.options.enableAutoPipelining) rememberIssuingContext(pipeline);
    return pipeline;
  }

  override sendCommand(command: Command, stream?: SendStream): unknown {
    const issuedIn = takeIssuingContext(command);
    if (issuedIn) return issuedIn.runInAsyncScope(() => this.sendCommand(command, stream));
    // `this.guard` is unset while ioredis' own constructor runs; nothing is sent then.
    const guard = this.guard as RedisClientGuard | undefined;
    if (guard === undefined) return super.sendCommand(command, stream);
    // The handshake (HELLO, AUTH, SELECT on 'connect') is never refused: it is the reconnect
    // that closes the circuit. User commands queued during 'connect' are refused like any other.
    if (!isHandshake(this, command) && firstSendPending(command) && guard.refused(command)) {
      return command.promise;
    }
    if (
      this.status !== 'ready' &&
      // 'connect' is the handshake (HELLO, AUTH, the ready check): never refuse those.
      this.status !== 'connect' &&
      this.options.enableOfflineQueue &&
      refusedByOfflineQueue(this, guard, command)
    ) {
      return command.promise;
    }
    // A command sent again after a reconnect keeps its first deadline and is counted once.
    if (firstSend(command)) {
      if (this.timeouts.enabled) this.timeouts.track(command);
      // Handshake commands may fail by design (CLIENT SETINFO on Redis < 7.2). A user command
      // issued while a reconnect is in its handshake is counted like any other.
      if (!isHandshake(this, command)) {
        watchCommand(command, this.onFailure, guard.commandTimer);
      }
    }
    return super.sendCommand(command, stream);
  }
}

/**
 * Cluster main client with the same offline-queue bound and failure hook as {@link GuardedRedis}.
 * The bound applies while the cluster as a whole is not ready. Command and socket timeouts are
 * ioredis' own, on the node connections the cluster creates.
 */
export class GuardedCluster extends Cluster {
  private readonly guard: RedisClientGuard;
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

  /** With auto-pipelining, each batched command is sent in the context it was issued in. */
  override pipeline(commands?: unknown[][]): ChainableCommander {
    const pipeline = super.pipeline(commands);
    if (this.options.enableAutoPipelining) rememberIssuingContext(pipeline);
    return pipeline;
  }

  override sendCommand(command: Command, stream?: SendStream, node?: unknown): unknown {
    const issuedIn = takeIssuingContext(command);
    if (issuedIn) return issuedIn.runInAsyncScope(() => this.sendCommand(command, stream, node));
    const guard = this.guard as RedisClientGuard | undefined;
    if (guard === undefined) return super.sendCommand(command, stream, node);
    if (firstSendPending(command) && guard.refused(command)) return command.promise;
    if (
      this.status !== 'ready' &&
      this.options.enableOfflineQueue &&
      refusedByOfflineQueue(this, guard, command)
    ) {
      return command.promise;
    }
    // A cluster sends a command through here again after an outage (offline queue) and for
    // redirects, and wraps `reject` itself: counting is added once, under its redirect handling,
    // so a MOVED that is followed is not a failure.
    if (firstSend(command)) {
      watchCommand(command, this.onFailure, guard.commandTimer);
    }
    return super.sendCommand(command, stream, node);
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
