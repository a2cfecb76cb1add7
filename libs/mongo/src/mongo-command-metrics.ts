import type { EventEmitter } from 'node:events';

import { OperationDurations, type PoolMetrics } from '@nest-pools/core';
import type { mongo } from 'mongoose';

import {
  mongoCollectionOf,
  mongoCommandName,
  mongoErrorType,
  mongoOperationName,
} from './mongo-command-labels.js';
import { MONGO_DB_SYSTEM } from './mongo-pool.constants.js';
import {
  type CommandNamespace,
  loadMongoDriverInternals,
  type MongoDriverInternals,
  timedConnectionClass,
} from './mongo-timed-connection.js';

/** The labels of one command: `db_operation_name`, `db_collection_name` and `db_namespace`. */
interface CommandLabels {
  operation: string;
  target: { collection: string; namespace: string };
}

function labelsOf(commandName: string, command: mongo.Document, database: string): CommandLabels {
  return {
    operation: mongoOperationName(commandName),
    target: { collection: mongoCollectionOf(commandName, command), namespace: database },
  };
}

type Listener = (...args: unknown[]) => void;

/** How a pool's commands are timed. */
export type MongoCommandTiming = 'connection' | 'command-monitoring';

/** The client options {@link MongoCommandMetrics} needs (merged over the pool's driver options). */
export type MongoCommandClientOptions =
  { connectionType: unknown; monitorCommands: false } | { monitorCommands: true };

/**
 * `db_client_operation_duration_seconds` for a MongoDB pool (`MONGODB_OPERATION_METRICS`): every
 * command the application's client sends on its pool connections, from sending it to its reply
 * (the wait for a connection is not part of it), by command, collection and database, with
 * `error_type` on failure. The health probe's client and the heartbeat monitor are not timed.
 *
 * Commands are timed by the client's own connections ({@link timedConnectionClass}). If the
 * driver is not the shape that relies on, the pool falls back to the driver's command monitoring
 * (`monitorCommands`), which times the same span at a higher cost, and says so once in the log.
 */
export class MongoCommandMetrics {
  private readonly durations: OperationDurations;
  private readonly connectionType: unknown;
  private fallbackReason: string | undefined;
  private readonly inFlight = new Map<number, CommandLabels>();
  private readonly listeners: Array<[string, Listener]> = [];
  private client: EventEmitter | undefined;

  /**
   * @param metrics The application's pool metrics.
   * @param poolName `pool_name` label.
   * @param warn Logs the reason, when the pool falls back to command monitoring.
   * @param loadInternals Finds the driver's connection class and accepted options (those of the
   * driver mongoose uses, by default).
   */
  constructor(
    metrics: PoolMetrics,
    poolName: string,
    private readonly warn: (message: string) => void,
    loadInternals: () => MongoDriverInternals | undefined = loadMongoDriverInternals,
  ) {
    this.durations = new OperationDurations(metrics, poolName, MONGO_DB_SYSTEM);
    const timed = timedConnectionClass(loadInternals(), (ns, command, ms, failure) =>
      this.record(ns, command, ms, failure),
    );
    if (typeof timed === 'string') this.fallbackReason = timed;
    else this.connectionType = timed;
  }

  /** How this pool's commands are timed (after {@link attach}). */
  get timing(): MongoCommandTiming {
    return this.fallbackReason === undefined ? 'connection' : 'command-monitoring';
  }

  /** Options to create the client with: its timed connection class, or command monitoring. */
  clientOptions(): MongoCommandClientOptions {
    return this.fallbackReason === undefined
      ? { connectionType: this.connectionType, monitorCommands: false }
      : { monitorCommands: true };
  }

  /**
   * Starts timing `client`'s commands (created with {@link clientOptions}). When the client did
   * not take the timed connection class, turns its command monitoring on instead (before it
   * connects) and logs why.
   */
  attach(client: mongo.MongoClient): void {
    this.client = client;
    const taken = (client.options as { connectionType?: unknown } | undefined)?.connectionType;
    if (this.fallbackReason === undefined && taken !== this.connectionType) {
      this.fallbackReason = 'the client did not take the connectionType option';
    }
    if (this.fallbackReason === undefined) return;
    this.warn(
      `Operation metrics come from the driver's command monitoring, which costs more per command ` +
        `than timing on the connection (${this.fallbackReason}; the installed mongodb driver is ` +
        `not the shape this version of the module knows).`,
    );
    // Read when the client connects (its topology takes the options then).
    client.options.monitorCommands = true;
    this.listen();
  }

  /** Stops listening to the client and forgets commands still in flight. */
  detach(): void {
    const client = this.client;
    if (client !== undefined)
      for (const [event, listener] of this.listeners) client.off(event, listener);
    this.listeners.length = 0;
    this.inFlight.clear();
    this.client = undefined;
  }

  private record(
    ns: CommandNamespace,
    command: mongo.Document,
    milliseconds: number,
    failure?: unknown,
  ): void {
    this.observe(labelsOf(mongoCommandName(command), command, ns.db), milliseconds, failure);
  }

  /** One command's duration under its labels; `error_type` from `failure` when it failed. */
  private observe(labels: CommandLabels, milliseconds: number, failure?: unknown): void {
    this.durations.observe(
      labels.operation,
      milliseconds / 1000,
      labels.target,
      failure === undefined ? '' : mongoErrorType(failure),
    );
  }

  /** The fallback: the driver's command events, paired by request id. */
  private listen(): void {
    this.on('commandStarted', (e: mongo.CommandStartedEvent) => {
      this.inFlight.set(e.requestId, labelsOf(e.commandName, e.command, e.databaseName));
    });
    this.on('commandSucceeded', (e: mongo.CommandSucceededEvent) => {
      const labels = this.take(e.requestId);
      if (labels) this.observe(labels, e.duration);
    });
    this.on('commandFailed', (e: mongo.CommandFailedEvent) => {
      const labels = this.take(e.requestId);
      if (labels) this.observe(labels, e.duration, e.failure);
    });
  }

  private take(requestId: number): CommandLabels | undefined {
    const started = this.inFlight.get(requestId);
    this.inFlight.delete(requestId);
    return started;
  }

  private on<E>(event: string, handler: (event: E) => void): void {
    const listener = handler as unknown as Listener;
    this.listeners.push([event, listener]);
    this.client?.on(event, listener);
  }
}
