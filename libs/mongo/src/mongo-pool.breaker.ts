import {
  PoolBreaker,
  type PoolBreakerTicket,
  type PoolMetrics,
  PoolUnavailableError,
} from '@nest-pools/core';
import type { mongo, Schema } from 'mongoose';

import type { MongoPoolConfig } from './config/index.js';
import { MONGO_DB_SYSTEM } from './mongo-pool.constants.js';

/** Mongoose query operations (`Query` middleware), each checked before it reaches the driver. */
const QUERY_OPERATIONS = [
  'countDocuments',
  'distinct',
  'estimatedDocumentCount',
  'find',
  'findOne',
  'findOneAndReplace',
  'findOneAndUpdate',
  'replaceOne',
  'updateMany',
  'updateOne',
  'deleteMany',
  'deleteOne',
  'findOneAndDelete',
] as const;

/** Model operations: `this` is the shared Model, so they are only refused, never the trial. */
const MODEL_OPERATIONS = ['insertMany', 'bulkWrite'] as const;

const TICKET = Symbol('nest-pools.mongo.breaker-ticket');
type Ticketed = { [TICKET]?: PoolBreakerTicket };

/** Driver errors that say the server is unreachable, hung or gone — never a server reply. */
const CONNECTION_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/** Whether an operation's failure counts against the circuit (duplicate key, validation never do). */
export function isMongoConnectionFailure(error: unknown): boolean {
  return error instanceof Error && CONNECTION_ERRORS.has(error.name);
}

/**
 * The circuit breaker of one MongoDB pool. The driver's own monitoring feeds it — a failed
 * heartbeat or a cleared pool is a failure, a successful heartbeat closes the circuit at once —
 * together with the health pings and the outcome of mongoose operations. A mongoose connection
 * plugin refuses every query, `save`, aggregation, `insertMany` and `bulkWrite` of models on the
 * pool's connection with {@link PoolUnavailableError} while the circuit is open, before anything
 * waits for server selection. Native driver calls (`connection.db.collection()`) are not guarded.
 *
 * The circuit stands for the deployment, not for one member: in a replica set or behind several
 * mongos, a failure while another server is reachable does not count — the driver's server
 * selection routes around the lost member (a killed primary is an election, after which writes
 * go on), and failing calls fast there would refuse writes the new primary could take. Only when
 * no other server is reachable (every member down or hung, or the only server of a standalone)
 * do failures count.
 */
export class MongoPoolBreaker {
  readonly breaker: PoolBreaker;
  /** The servers the driver knows and their types, from its last topology description. */
  private servers: ReadonlyMap<string, { readonly type: string }> = new Map();

  constructor(config: MongoPoolConfig, metrics: PoolMetrics) {
    this.breaker = new PoolBreaker({
      poolName: config.name,
      system: MONGO_DB_SYSTEM,
      consecutiveFailures: config.breakerFailures,
      halfOpenAfterMs: config.breakerHalfOpenMS,
      enabled: config.breakerEnabled,
      metrics,
    });
  }

  /** Listens to the client's server monitoring. */
  attach(client: mongo.MongoClient): void {
    client.on('topologyDescriptionChanged', (event) => {
      this.servers = event.newDescription.servers;
    });
    client.on('serverHeartbeatFailed', (event) => this.failure(event.connectionId));
    client.on('serverHeartbeatSucceeded', () => this.breaker.recover());
    client.on('connectionPoolCleared', (event) => this.failure(event.address));
  }

  /**
   * A connection-level failure, of the server at `address` when it is known (a heartbeat, a
   * cleared pool) or of an operation or ping whose server is not. Counted only while no other
   * server of the deployment is reachable.
   */
  failure(address?: string): void {
    if (this.otherServerReachable(address)) return;
    this.breaker.record(false);
  }

  /** The server answered outside any call: see {@link PoolBreaker.recover}. */
  recover(): void {
    this.breaker.recover();
  }

  /** Whether the driver knows a server, other than `address`, that answered its last check. */
  private otherServerReachable(address: string | undefined): boolean {
    if (this.servers.size < 2) return false;
    for (const [at, server] of this.servers) {
      if (at !== address && server.type !== 'Unknown') return true;
    }
    return false;
  }

  /** A mongoose plugin guarding every model compiled on the pool's connection. */
  readonly plugin = (schema: Schema): void => {
    const breaker = this.breaker;
    const failure = (): void => this.failure();
    const admit = function (this: Ticketed): void {
      if (breaker.state === 'closed') return;
      // Throws PoolUnavailableError while open; in half-open the first caller is the trial.
      this[TICKET] = breaker.admit();
    };
    const settle = function (this: Ticketed, error?: unknown): void {
      const ticket = this[TICKET];
      if (ticket === undefined) {
        if (error !== undefined && isMongoConnectionFailure(error)) failure();
        return;
      }
      delete this[TICKET];
      if (error !== undefined && isMongoConnectionFailure(error)) ticket.failure();
      else ticket.success();
    };
    const refuse = (): void => {
      if (breaker.isOpen) throw breaker.unavailable();
    };
    const ok = function (this: Ticketed): void {
      settle.call(this);
    };
    const failed = function (
      this: Ticketed,
      error: unknown,
      _res: unknown,
      next: (e?: unknown) => void,
    ): void {
      if (!(error instanceof PoolUnavailableError)) settle.call(this, error);
      next(error);
    };
    // Mongoose's typings tie each hook name to one `this` type; these hooks only touch a symbol.
    const hooks = schema as unknown as {
      pre(names: string | string[], fn: (...args: never[]) => unknown): void;
      post(names: string | string[], fn: (...args: never[]) => unknown): void;
    };
    hooks.pre([...QUERY_OPERATIONS], admit);
    hooks.post([...QUERY_OPERATIONS], ok);
    hooks.post([...QUERY_OPERATIONS], failed);
    hooks.pre('save', admit);
    hooks.post('save', ok);
    hooks.post('save', failed);
    hooks.pre('aggregate', admit);
    hooks.post('aggregate', ok);
    hooks.post('aggregate', failed);
    hooks.pre([...MODEL_OPERATIONS], refuse);
  };
}
