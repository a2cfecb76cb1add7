import { HistogramSeries } from './histogram-series.js';
import type { PoolMetrics } from './pool-metrics.js';

/** The label value that stands for every value past a bound. */
export const OTHER_LABEL_VALUE = 'other';

/**
 * Keeps the values of one label bounded: the first `max` distinct values pass as they are, every
 * later one becomes {@link OTHER_LABEL_VALUE}. For names an application chooses (collections,
 * databases) whose count is usually small but must never grow a series per request.
 */
export class BoundedLabelValues {
  private readonly seen = new Set<string>();

  /** @param max Distinct values kept; at least 1. */
  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`BoundedLabelValues max must be an integer >= 1, got ${max}`);
    }
  }

  /** `value` while there is room for it (or it was seen), else `other`. */
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER_LABEL_VALUE;
    this.seen.add(value);
    return value;
  }
}

/** Where one operation went: its collection (or key space) and namespace (database). */
export interface OperationTarget {
  /** `db_collection_name`; empty when the operation has none (Redis, `ping`). */
  collection?: string;
  /** `db_namespace`: the database name, or the Redis database index. */
  namespace?: string;
}

/** Options of {@link OperationDurations}. */
export interface OperationDurationsOptions {
  /** Distinct `db_collection_name` values before the rest are `other`. @default 100 */
  maxCollections?: number;
  /** Distinct `db_namespace` values before the rest are `other`. @default 20 */
  maxNamespaces?: number;
}

/**
 * One pool's writer of `db_client_operation_duration_seconds`. The pool library names the
 * operation (from its own bounded list: unknown commands arrive as `other`) and classifies the
 * error; this class bounds collection and namespace names, and keeps one {@link HistogramSeries}
 * per label set, so an observation costs a map lookup and a bucket increment.
 *
 * @example
 * ```ts
 * const ops = new OperationDurations(metrics, 'default', 'redis');
 * ops.observe('GET', 0.0004, { namespace: '0' });
 * ops.observe('EVALSHA', 0.0011, { namespace: '0' }, 'noscript');
 * ```
 */
export class OperationDurations {
  private readonly children = new Map<string, HistogramSeries>();
  private readonly collections: BoundedLabelValues;
  private readonly namespaces: BoundedLabelValues;

  /**
   * @param metrics The application's pool metrics.
   * @param poolName `pool_name` label.
   * @param systemName `db_system_name` label (`mongodb`, `redis`).
   */
  constructor(
    private readonly metrics: PoolMetrics,
    private readonly poolName: string,
    private readonly systemName: string,
    options: OperationDurationsOptions = {},
  ) {
    this.collections = new BoundedLabelValues(options.maxCollections ?? 100);
    this.namespaces = new BoundedLabelValues(options.maxNamespaces ?? 20);
  }

  /**
   * Records one operation.
   * @param operation `db_operation_name`, already bounded by the caller.
   * @param seconds From sending the operation to its reply.
   * @param target Collection and namespace, when known.
   * @param errorType `error_type`, bounded by the caller; omitted (empty) on success.
   */
  observe(operation: string, seconds: number, target?: OperationTarget, errorType = ''): void {
    this.series(operation, target, errorType).observe(seconds);
  }

  /**
   * The series of one operation, target and error type, for a caller that observes the same one
   * again and again (keep it: each call here builds a key to look it up).
   * @param operation `db_operation_name`, already bounded by the caller.
   * @param target Collection and namespace, when known.
   * @param errorType `error_type`, bounded by the caller; empty on success.
   */
  series(operation: string, target?: OperationTarget, errorType = ''): HistogramSeries {
    // Bounded before the lookup, so the children map is as bounded as the series.
    const collection = target?.collection ? this.collections.of(target.collection) : '';
    const namespace = target?.namespace ? this.namespaces.of(target.namespace) : '';
    const key = `${operation}\u0000${collection}\u0000${namespace}\u0000${errorType}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = new HistogramSeries(this.metrics.operationDuration, {
        pool_name: this.poolName,
        db_system_name: this.systemName,
        db_operation_name: operation,
        db_collection_name: collection,
        db_namespace: namespace,
        error_type: errorType,
      });
      this.children.set(key, child);
    }
    return child;
  }
}
