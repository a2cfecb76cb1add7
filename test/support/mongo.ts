// The shared Mongo e2e harness: starts the backend a suite runs against (a standalone wire
// server, a wire replica set with MONGO_TOPOLOGY=replset, or the real server of
// MONGODB_TEST_URL), boots MongoPoolModule on it, and closes everything.
import { monitorEventLoopDelay } from 'node:perf_hooks';

import {
  MongoPoolHealthIndicator,
  MongoPoolModule,
  type MongoPoolModuleOptions,
  MongoPoolService,
} from '@nest-pools/mongo';
import {
  type MongoTestBackend,
  type MongoWireReplicaSet,
  type MongoWireServer,
  startMongo,
  startMongoReplicaSet,
  withDatabase,
} from '@nest-pools/testing';
import type { DynamicModule, ForwardReference, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Connection } from 'mongoose';

/** `standalone` (default) or `replset`, from `MONGO_TOPOLOGY`. */
export type MongoTopology = 'standalone' | 'replset';

/** Topology the Mongo suites run on; `MONGO_TOPOLOGY=replset` switches to a replica set. */
export function mongoTopology(env: NodeJS.ProcessEnv = process.env): MongoTopology {
  const value = env.MONGO_TOPOLOGY?.trim() ?? '';
  if (value === '' || value === 'standalone') return 'standalone';
  if (value === 'replset') return 'replset';
  throw new Error(`MONGO_TOPOLOGY must be "standalone" or "replset", got "${value}"`);
}

/**
 * The server a Mongo suite runs against: a real server when `MONGODB_TEST_URL` is set (or a
 * local mongod binary exists, standalone only), the wire server (or wire replica set) otherwise.
 */
export interface MongoBackend {
  /** Which backend runs. */
  kind: MongoTestBackend['kind'];
  /** Topology of the wire backend (`standalone` for a real server: its URL decides). */
  topology: MongoTopology;
  /** Connection string of a database of this suite, `<suite database>_<suffix>`. */
  url(suffix: string): string;
  /**
   * The wire server for fault injection and socket counts: the standalone, or on a replica set
   * its first primary (member 0; suites that move the primary use `replSet`).
   */
  wire?: MongoWireServer;
  /** The wire replica set, for elections and per-member counters. */
  replSet?: MongoWireReplicaSet;
  stop(): Promise<void>;
}

/** Options of {@link startBackend}. */
export interface StartBackendOptions {
  /** @default mongoTopology() */
  topology?: MongoTopology;
  /** Election delay of a wire replica set. @default 200 */
  electionDelayMs?: number;
}

let suiteSequence = 0;

/** Starts the backend of a suite (see {@link MongoBackend}); stop it in `afterAll`. */
export async function startBackend(options: StartBackendOptions = {}): Promise<MongoBackend> {
  const topology = options.topology ?? mongoTopology();
  if (topology === 'replset' && !process.env.MONGODB_TEST_URL?.trim()) {
    const replSet = await startMongoReplicaSet({
      members: 3,
      name: 'rs0',
      electionDelayMs: options.electionDelayMs ?? 200,
    });
    suiteSequence += 1;
    const db = `np_rs_${process.pid}_${suiteSequence}`;
    console.info(`MongoDB backend: MongoWireReplicaSet rs0 at ${replSet.url}`);
    return {
      kind: 'wire',
      topology,
      url: (suffix) => replSet.uri(`${db}_${suffix}`),
      replSet,
      wire: replSet.members[0]!,
      stop: () => replSet.stop(),
    };
  }
  const mongo = await startMongo({ dbPrefix: 'np' });
  const backend: MongoBackend = {
    kind: mongo.kind,
    topology: 'standalone',
    url: (suffix) => withDatabase(mongo.url, `${mongo.dbName}_${suffix}`),
    stop: () => mongo.stop(),
  };
  if (mongo.wire !== undefined) backend.wire = mongo.wire;
  return backend;
}

/** Client sockets open on the wire backend now (all members of a replica set); 0 for a real server. */
export function serverSockets(backend: MongoBackend): number {
  if (backend.replSet) return backend.replSet.members.reduce((n, m) => n + m.openSockets, 0);
  return backend.wire?.openSockets ?? 0;
}

/** Topology type the driver reports on this backend's topology. */
export function expectedTopologyType(backend: MongoBackend): string {
  return backend.topology === 'replset' ? 'ReplicaSetWithPrimary' : 'Single';
}

/**
 * Makes the next `find`s on `collection` take about `ms`: server latency on the wire server,
 * a server-side `sleep` in `$where` on a real mongod.
 */
export function slowFind(
  backend: MongoBackend,
  connection: Connection,
  collection: string,
  ms: number,
) {
  const coll = connection.db!.collection(collection);
  if (backend.wire !== undefined) {
    backend.wire.setLatency(ms, ['find']);
    return () => coll.findOne({});
  }
  return () => coll.findOne({ $where: `sleep(${ms}) || true` });
}

/** Prints why a test is skipped (a skipped Jest test gives no reason). */
export function skipReason(reason: string): void {
  console.warn(`skipped: ${reason}`);
}

type Import = Type | DynamicModule | Promise<DynamicModule> | ForwardReference;

/** One testing module with one pool, and handles on what the suites look at. */
export interface PoolApp {
  app: TestingModule;
  pools: MongoPoolService;
  health: MongoPoolHealthIndicator;
  pool: ReturnType<MongoPoolService['getPool']>;
  close(): Promise<void>;
}

/** Boots a testing module with `MongoPoolModule.forRoot(options)` (plus `imports`). */
export async function bootPool(
  options: MongoPoolModuleOptions & { name?: string },
  imports: Import[] = [],
): Promise<PoolApp> {
  const app = await Test.createTestingModule({
    imports: [MongoPoolModule.forRoot(options), ...imports],
  }).compile();
  await app.init();
  const pools = app.get(MongoPoolService);
  return {
    app,
    pools,
    health: app.get(MongoPoolHealthIndicator),
    pool: pools.getPool(options.name),
    close: () => app.close(),
  };
}

/** Status of the `mongodb` key of a health result. */
export async function healthStatus(health: MongoPoolHealthIndicator, name?: string) {
  const result = await health.isHealthy('mongodb', name === undefined ? {} : { name });
  return result.mongodb as { status: string; latencyMs: number; message?: string } & Record<
    string,
    unknown
  >;
}

/**
 * Measures how late the event loop runs timers while a timing assertion is being made. On a
 * quiet machine this is a millisecond or two; on a loaded one (shared CI runners) every timer,
 * the driver's included, fires late by about this much, so limits are checked against
 * `limit + lag`, never looser than that.
 */
export function trackTimerLag(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      // The histogram counts the sampling interval itself; only the excess is lag.
      return Math.max(0, histogram.max / 1e6 - 5);
    },
  };
}
