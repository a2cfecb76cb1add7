import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import { PoolError } from '../errors/pool.error.js';
import {
  CONNECTION_CREATE_BUCKETS,
  CONNECTION_USE_BUCKETS,
  CONNECTION_WAIT_BUCKETS,
  HTTP_CONNECTION_DURATION_BUCKETS,
  HTTP_REQUEST_DURATION_BUCKETS,
  OPERATION_DURATION_BUCKETS,
  POOL_METRIC_NAMES,
  POOL_METRICS_REGISTRY,
} from './pool-metrics.constants.js';

/**
 * `db_system_name` label value: the database behind a `db_client_*` metric, as the
 * OpenTelemetry `db.system.name` attribute names it (`mongodb`, `redis`); each pool library sets
 * its own.
 */
export type DbSystem = string;

/** `pool_system` label value: which kind of pool a `pool_*` metric belongs to (`http`, `redis`, …). */
export type PoolSystem = string;

/**
 * Labels of the database connection-pool families except `connectionCount`: the OpenTelemetry
 * `db.client.connection.pool.name` and `db.system.name` attributes in Prometheus form.
 */
export type DbPoolLabel = 'db_client_connection_pool_name' | 'db_system_name';

/**
 * Labels of `db_client_operation_duration_seconds`: the OpenTelemetry database attributes of one
 * operation (`db.system.name`, `db.operation.name`, `db.collection.name`, `db.namespace`,
 * `error.type`) plus the pool it went through.
 */
export type DbOperationLabel =
  | 'pool_name'
  | 'db_system_name'
  | 'db_operation_name'
  | 'db_collection_name'
  | 'db_namespace'
  | 'error_type';

/** Labels of the `pool_*` families shared by every pool kind. */
export type PoolLabel = 'pool_name' | 'pool_system';

/** Labels of the HTTP client families that are per upstream server. */
export type HttpServerLabel = 'pool_name' | 'server_address' | 'server_port';

type Family = Gauge<string> | Counter<string> | Histogram<string>;

/** The writes a family and each of its label sets (`labels(…)`) take. */
const SILENT_WRITES = {
  inc: () => undefined,
  dec: () => undefined,
  set: () => undefined,
  observe: () => undefined,
  remove: () => undefined,
  reset: () => undefined,
  zero: () => undefined,
};

/**
 * What every family of {@link PoolMetrics.silent} is: each write (`inc`, `dec`, `set`, `observe`,
 * `remove`, `reset`, `zero`, also on `labels(…)`) does nothing. Frozen and stateless.
 */
const SILENT_FAMILY = Object.freeze({
  ...SILENT_WRITES,
  labels: () => Object.freeze({ ...SILENT_WRITES }),
});
type FamilyClass = typeof Gauge | typeof Counter | typeof Histogram;

/** Hooks {@link PoolMetrics.onCollect} runs when a family is read, kept on the family itself. */
const COLLECT_HOOKS = Symbol('nest-pools.collect-hooks');
type CollectingFamily = { [COLLECT_HOOKS]?: Set<() => void>; collect?: () => void };

/** prom-client keeps every label set of a family in `hashMap`; `forgetPool` walks it. */
interface LabelSetStore {
  hashMap?: Record<string, { labels?: Record<string, unknown> } | undefined>;
}

/**
 * The pool metric families of one application, on the injected prom-client {@link Registry}
 * (never the global one). Families are get-or-create: every `PoolMetrics` built on the same
 * registry shares the same family objects, so the Mongo, Redis and HTTP pools of one application
 * write to one set of families told apart by `pool_name` (`db_client_connection_pool_name` on the
 * connection-pool families, as OpenTelemetry names it).
 *
 * Label values must be bounded and free of secrets: pool names, `server_address` as a host name
 * (never a full URL), error class names or codes as `error_type`.
 *
 * @example
 * ```ts
 * const pool = { db_client_connection_pool_name: 'default', db_system_name: 'redis' };
 * metrics.connectionCount.set({ ...pool, db_client_connection_state: 'idle' }, 3);
 * metrics.waitTime.observe(pool, 0.002);
 * ```
 */
@Injectable()
export class PoolMetrics {
  /**
   * Gauge `db_client_connection_count`: open connections by `db_client_connection_state`
   * (`idle` | `used`).
   */
  readonly connectionCount: Gauge<DbPoolLabel | 'db_client_connection_state'>;
  /** Gauge `db_client_connection_max`: the configured maximum pool size. */
  readonly connectionMax: Gauge<DbPoolLabel>;
  /** Gauge `db_client_connection_idle_min`: the configured minimum of idle connections. */
  readonly connectionIdleMin: Gauge<DbPoolLabel>;
  /** Gauge `db_client_connection_pending_requests`: callers waiting for a connection. */
  readonly pendingRequests: Gauge<DbPoolLabel>;
  /** Counter `db_client_connection_timeouts_total`: acquisitions that timed out. */
  readonly timeouts: Counter<DbPoolLabel>;
  /** Histogram `db_client_connection_wait_time_seconds`: time spent waiting for a connection. */
  readonly waitTime: Histogram<DbPoolLabel>;
  /** Histogram `db_client_connection_use_time_seconds`: time a connection was held. */
  readonly useTime: Histogram<DbPoolLabel>;
  /** Histogram `db_client_connection_create_time_seconds`: time to open a new connection. */
  readonly createTime: Histogram<DbPoolLabel>;
  /**
   * Histogram `db_client_operation_duration_seconds`: one database operation (a MongoDB command,
   * a Redis command), from sending it to its reply.
   */
  readonly operationDuration: Histogram<DbOperationLabel>;
  /**
   * Gauge `http_client_open_connections`: sockets to an upstream by `http_connection_state`
   * (`active` | `idle`).
   */
  readonly httpOpenConnections: Gauge<HttpServerLabel | 'http_connection_state'>;
  /** Gauge `http_client_pending_requests`: requests queued for a free socket. */
  readonly httpPendingRequests: Gauge<HttpServerLabel>;
  /**
   * Histogram `http_client_request_duration_seconds`: outbound request duration, by method,
   * status code and `error_type` (empty on success).
   */
  readonly httpRequestDuration: Histogram<
    HttpServerLabel | 'http_request_method' | 'http_response_status_code' | 'error_type'
  >;
  /**
   * Histogram `http_client_connection_duration_seconds`: how long each outbound connection stayed
   * open, observed when it closes.
   */
  readonly httpConnectionDuration: Histogram<HttpServerLabel>;
  /** Counter `http_client_retries_total`: retried requests by `reason`. */
  readonly httpRetries: Counter<'pool_name' | 'server_address' | 'reason'>;
  /** Counter `pool_errors_total`: pool errors by `error_type`. */
  readonly errors: Counter<PoolLabel | 'error_type'>;
  /** Gauge `pool_circuit_breaker_state`: 0 closed, 1 half-open, 2 open. */
  readonly circuitState: Gauge<PoolLabel>;
  /** Counter `pool_leak_detections_total`: connections held past the leak threshold. */
  readonly leaks: Counter<PoolLabel>;
  /** Counter `pool_reconnects_total`: reconnections after a lost connection. */
  readonly reconnects: Counter<PoolLabel>;
  /** Counter `pool_cleared_total`: times the pool was cleared (all connections dropped). */
  readonly poolCleared: Counter<PoolLabel>;

  private readonly families: Family[] = [];

  /**
   * @param registry the application's registry (from {@link POOL_METRICS_REGISTRY}); families
   *   already on it are reused, missing ones are created on it.
   */
  constructor(@Inject(POOL_METRICS_REGISTRY) readonly registry: Registry) {
    const n = POOL_METRIC_NAMES;
    const db = ['db_client_connection_pool_name', 'db_system_name'] as const;
    const pool = ['pool_name', 'pool_system'] as const;
    const server = ['pool_name', 'server_address', 'server_port'] as const;

    this.connectionCount = this.gauge(n.connectionCount, 'Open connections by state.', [
      ...db,
      'db_client_connection_state',
    ]);
    this.connectionMax = this.gauge(n.connectionMax, 'Maximum connections allowed.', db);
    this.connectionIdleMin = this.gauge(
      n.connectionIdleMin,
      'Minimum idle connections the pool keeps open.',
      db,
    );
    this.pendingRequests = this.gauge(
      n.pendingRequests,
      'Requests waiting for a connection to become available.',
      db,
    );
    this.timeouts = this.counter(
      n.timeouts,
      'Connection acquisitions that timed out waiting for the pool.',
      db,
    );
    this.waitTime = this.histogram(
      n.waitTime,
      'Time to obtain a connection from the pool, in seconds.',
      db,
      CONNECTION_WAIT_BUCKETS,
    );
    this.useTime = this.histogram(
      n.useTime,
      'Time between borrowing a connection and returning it, in seconds.',
      db,
      CONNECTION_USE_BUCKETS,
    );
    this.createTime = this.histogram(
      n.createTime,
      'Time to create a new connection, in seconds.',
      db,
      CONNECTION_CREATE_BUCKETS,
    );
    this.operationDuration = this.histogram(
      n.operationDuration,
      'Duration of database operations (commands), in seconds.',
      [
        'pool_name',
        'db_system_name',
        'db_operation_name',
        'db_collection_name',
        'db_namespace',
        'error_type',
      ],
      OPERATION_DURATION_BUCKETS,
    );
    this.httpOpenConnections = this.gauge(
      n.httpOpenConnections,
      'Open outbound HTTP connections by state.',
      [...server, 'http_connection_state'],
    );
    this.httpPendingRequests = this.gauge(
      n.httpPendingRequests,
      'Outbound HTTP requests waiting for a free connection.',
      server,
    );
    this.httpRequestDuration = this.histogram(
      n.httpRequestDuration,
      'Duration of outbound HTTP requests, in seconds.',
      [...server, 'http_request_method', 'http_response_status_code', 'error_type'],
      HTTP_REQUEST_DURATION_BUCKETS,
    );
    this.httpConnectionDuration = this.histogram(
      n.httpConnectionDuration,
      'How long outbound HTTP connections stayed open, in seconds.',
      server,
      HTTP_CONNECTION_DURATION_BUCKETS,
    );
    this.httpRetries = this.counter(n.httpRetries, 'Outbound HTTP requests retried, by reason.', [
      'pool_name',
      'server_address',
      'reason',
    ]);
    this.errors = this.counter(n.errors, 'Pool errors by type.', [...pool, 'error_type']);
    this.circuitState = this.gauge(
      n.circuitState,
      'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
      pool,
    );
    this.leaks = this.counter(
      n.leaks,
      'Connections held longer than the leak detection threshold.',
      pool,
    );
    this.reconnects = this.counter(n.reconnects, 'Reconnections after a lost connection.', pool);
    this.poolCleared = this.counter(
      n.poolCleared,
      'Times the pool was cleared and its connections dropped.',
      pool,
    );
  }

  /**
   * A `PoolMetrics` that records and exports nothing, for a pool whose metrics are turned off
   * (`MONGODB_POOL_METRICS`, `REDIS_POOL_METRICS`, `HTTP_POOL_METRICS` = false): every family
   * write is a no-op, nothing is put on the application's registry, and the pool's own work
   * (leak detection, health statistics, the circuit breaker) goes on unchanged.
   *
   * @example
   * const metrics = config.poolMetrics ? shared : PoolMetrics.silent();
   */
  static silent(): PoolMetrics {
    const silent = Object.create(PoolMetrics.prototype) as PoolMetrics;
    for (const key of Object.keys(POOL_METRIC_NAMES)) {
      Object.defineProperty(silent, key, { value: SILENT_FAMILY });
    }
    Object.defineProperty(silent, 'families', { value: [] });
    Object.defineProperty(silent, 'registry', { value: new Registry() });
    return silent;
  }

  /**
   * Writes 0 to the counters of a new pool whose labels are all known up front (timeouts, leaks,
   * reconnects and, where the pool can be cleared, clears), so the series exists from the first
   * scrape: `increase()` and `rate()` then see the pool's first event, which they miss on a series
   * that appears already at 1.
   *
   * @param poolName `pool_name` / `db_client_connection_pool_name` value.
   * @param system `pool_system` / `db_system_name` value.
   * @param kinds `connectionPool`: the pool hands out connections (acquire timeouts count);
   *   `clearable`: its driver can clear the pool (`pool_cleared_total`).
   */
  initPoolCounters(
    poolName: string,
    system: string,
    kinds: { connectionPool: boolean; clearable: boolean },
  ): void {
    const pool = { pool_name: poolName, pool_system: system };
    if (kinds.connectionPool) {
      this.timeouts.inc({ db_client_connection_pool_name: poolName, db_system_name: system }, 0);
      this.leaks.inc(pool, 0);
    }
    this.reconnects.inc(pool, 0);
    if (kinds.clearable) this.poolCleared.inc(pool, 0);
  }

  /**
   * Runs `refresh` each time `family` is read (a scrape, `registry.metrics()`), so a gauge that
   * mirrors a pool's state is exact at the moment it is exported instead of as of the last timer
   * tick. Every `PoolMetrics` on the same registry shares the family and its hooks; a hook that
   * throws is skipped for that read. On a {@link PoolMetrics.silent} instance it does nothing.
   *
   * @param family one of this instance's families
   * @param refresh writes the family's current values
   * @returns removes the hook (call it when the pool closes)
   */
  onCollect(family: Gauge<string>, refresh: () => void): () => void {
    if (!this.families.includes(family)) return () => undefined;
    const target = family as unknown as CollectingFamily;
    let hooks = target[COLLECT_HOOKS];
    if (hooks === undefined) {
      const all = new Set<() => void>();
      hooks = all;
      target[COLLECT_HOOKS] = all;
      target.collect = () => {
        for (const hook of all) {
          try {
            hook();
          } catch {
            // A failing pool must not fail the whole scrape; its gauges keep their last values.
          }
        }
      };
    }
    const own = hooks;
    own.add(refresh);
    return () => {
      own.delete(refresh);
    };
  }

  /**
   * Removes every label set of `poolName` from every family, so a closed pool stops being
   * exported (and a pool re-created under the same name starts from zero).
   *
   * @param poolName value of the `pool_name` (or `db_client_connection_pool_name`) label to remove
   */
  forgetPool(poolName: string): void {
    for (const family of this.families) {
      const store = (family as unknown as LabelSetStore).hashMap ?? {};
      for (const entry of Object.values(store)) {
        const labels = entry?.labels;
        const pool = labels?.['pool_name'] ?? labels?.['db_client_connection_pool_name'];
        if (labels !== undefined && pool === poolName) {
          (family as Gauge<string>).remove(labels as Record<string, string>);
        }
      }
    }
  }

  private gauge<T extends string>(name: string, help: string, labelNames: readonly T[]): Gauge<T> {
    const family =
      this.existing<Gauge<T>>(name, Gauge, labelNames) ??
      new Gauge<T>({ name, help, labelNames, registers: [this.registry] });
    this.families.push(family);
    return family;
  }

  private counter<T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
  ): Counter<T> {
    const family =
      this.existing<Counter<T>>(name, Counter, labelNames) ??
      new Counter<T>({ name, help, labelNames, registers: [this.registry] });
    this.families.push(family);
    return family;
  }

  private histogram<T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
    buckets: readonly number[],
  ): Histogram<T> {
    const family =
      this.existing<Histogram<T>>(name, Histogram, labelNames) ??
      new Histogram<T>({
        name,
        help,
        labelNames,
        buckets: [...buckets],
        registers: [this.registry],
      });
    this.families.push(family);
    return family;
  }

  /** The family already registered under `name`, after checking it has the expected shape. */
  private existing<M extends Family>(
    name: string,
    kind: FamilyClass,
    labelNames: readonly string[],
  ): M | undefined {
    const found = this.registry.getSingleMetric(name);
    if (found === undefined) return undefined;
    const foundLabels = (found as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    const sameLabels =
      foundLabels.length === labelNames.length && labelNames.every((l) => foundLabels.includes(l));
    if (!(found instanceof kind) || !sameLabels) {
      throw new PoolError(
        `Metric "${name}" is already registered on this registry as a different family ` +
          `(expected a ${kind.name} with labels ${labelNames.join(', ')}; found ` +
          `${found.constructor.name} with labels ${foundLabels.join(', ')}). Remove the other ` +
          'metric or give the pools their own registry through PoolMetricsModule.',
      );
    }
    return found as M;
  }
}

/**
 * The metrics a pool writes to: the application's `metrics` when its `*_POOL_METRICS` setting is
 * on, else a {@link PoolMetrics.silent} stand-in of its own.
 *
 * @param metrics the application's pool metrics
 * @param enabled the pool's resolved `poolMetrics` setting
 */
export function poolMetricsFor(metrics: PoolMetrics, enabled: boolean): PoolMetrics {
  return enabled ? metrics : PoolMetrics.silent();
}
