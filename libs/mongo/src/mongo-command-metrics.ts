import type { EventEmitter } from 'node:events';

import { OperationDurations, OTHER_LABEL_VALUE, type PoolMetrics } from '@nest-pools/core';
import type { mongo } from 'mongoose';

import { MONGO_DB_SYSTEM } from './mongo-pool.constants.js';

/**
 * Command names that become a `db_operation_name` of their own; any other command (an admin
 * command, a typo sent through `db.command()`) is `other`, so the label stays bounded.
 */
const KNOWN_COMMANDS: ReadonlySet<string> = new Set([
  'abortTransaction',
  'aggregate',
  'buildInfo',
  'bulkWrite',
  'collMod',
  'collStats',
  'commitTransaction',
  'count',
  'create',
  'createIndexes',
  'dbStats',
  'delete',
  'distinct',
  'drop',
  'dropDatabase',
  'dropIndexes',
  'endSessions',
  'explain',
  'find',
  'findAndModify',
  'getMore',
  'hello',
  'insert',
  'isMaster',
  'killCursors',
  'listCollections',
  'listDatabases',
  'listIndexes',
  'ping',
  'renameCollection',
  'serverStatus',
  'update',
  'validate',
]);

/** `db_operation_name` of a command: its name when known, else `other`. */
export function mongoOperationName(commandName: string): string {
  return KNOWN_COMMANDS.has(commandName) ? commandName : OTHER_LABEL_VALUE;
}

/**
 * `db_collection_name` of a command document: the collection its first field names (`find`,
 * `insert`, `aggregate`, …), or `collection` of a `getMore`; empty for database-level commands.
 */
export function mongoCollectionOf(commandName: string, command: mongo.Document): string {
  const target: unknown = commandName === 'getMore' ? command['collection'] : command[commandName];
  return typeof target === 'string' ? target : '';
}

/**
 * `error_type` of a failed command: the server's `codeName` (`DuplicateKey`, `NotWritablePrimary`),
 * its numeric code, or the driver error's class (`MongoNetworkError`, `MongoNetworkTimeoutError`).
 */
export function mongoErrorType(failure: unknown): string {
  const error = failure as { codeName?: unknown; code?: unknown; name?: unknown } | undefined;
  if (typeof error?.codeName === 'string' && error.codeName !== '') return error.codeName;
  if (typeof error?.code === 'number') return String(error.code);
  return typeof error?.name === 'string' && /^Mongo[A-Za-z]*Error$/.test(error.name)
    ? error.name
    : 'other';
}

interface Started {
  operation: string;
  target: { collection: string; namespace: string };
}

type Listener = (...args: unknown[]) => void;

/**
 * `db_client_operation_duration_seconds` for a MongoDB pool, from the driver's command monitoring
 * (`monitorCommands: true`, which `MONGODB_OPERATION_METRICS` turns on): every command the
 * application's client sends, with the driver's own duration, its collection and database, and
 * `error_type` on failure. The health probe's client is not monitored.
 */
export class MongoCommandMetrics {
  private readonly durations: OperationDurations;
  private readonly inFlight = new Map<number, Started>();
  private readonly listeners: Array<[string, Listener]> = [];
  private client: EventEmitter | undefined;

  /**
   * @param metrics The application's pool metrics.
   * @param poolName `pool_name` label.
   */
  constructor(metrics: PoolMetrics, poolName: string) {
    this.durations = new OperationDurations(metrics, poolName, MONGO_DB_SYSTEM);
  }

  /** Subscribes to `client`'s command events (created with `monitorCommands: true`). */
  attach(client: mongo.MongoClient): void {
    this.client = client;
    this.on('commandStarted', (e: mongo.CommandStartedEvent) => {
      this.inFlight.set(e.requestId, {
        operation: mongoOperationName(e.commandName),
        target: {
          collection: mongoCollectionOf(e.commandName, e.command),
          namespace: e.databaseName,
        },
      });
    });
    this.on('commandSucceeded', (e: mongo.CommandSucceededEvent) => {
      const started = this.take(e.requestId);
      if (started) this.durations.observe(started.operation, e.duration / 1000, started.target);
    });
    this.on('commandFailed', (e: mongo.CommandFailedEvent) => {
      const started = this.take(e.requestId);
      if (started) {
        this.durations.observe(
          started.operation,
          e.duration / 1000,
          started.target,
          mongoErrorType(e.failure),
        );
      }
    });
  }

  /** Unsubscribes from the client and forgets commands still in flight. */
  detach(): void {
    const client = this.client;
    if (client !== undefined)
      for (const [event, listener] of this.listeners) client.off(event, listener);
    this.listeners.length = 0;
    this.inFlight.clear();
    this.client = undefined;
  }

  private take(requestId: number): Started | undefined {
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
