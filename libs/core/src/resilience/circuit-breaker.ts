import {
  circuitBreaker,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleAll,
  handleWhen,
} from 'cockatiel';

import type { PoolMetrics, PoolSystem } from '../metrics/pool-metrics.js';

/** Options of {@link createPoolCircuitBreaker}. */
export interface PoolCircuitBreakerOptions {
  /** Pool the breaker protects; the `pool_name` label of `pool_circuit_breaker_state`. */
  poolName: string;
  /** Kind of pool; the `pool_system` label of `pool_circuit_breaker_state`. */
  system: PoolSystem;
  /**
   * Where the state is mirrored; without it the breaker works but exports nothing.
   * @default undefined
   */
  metrics?: PoolMetrics;
  /**
   * How long the circuit stays open before one trial call is let through (half-open), in ms.
   */
  halfOpenAfterMs: number;
  /** Consecutive failures that open the circuit. */
  consecutiveFailures: number;
  /**
   * Which errors count as failures. Errors it rejects pass through without touching the breaker
   * (for example a 404 or a validation error says nothing about the server's health).
   * @default every error
   */
  isFailure?: (error: Error) => boolean;
}

/** A cockatiel circuit breaker policy: run work with `execute(fn)`, read `state`. */
export type PoolCircuitBreaker = CircuitBreakerPolicy;

/**
 * Value of `pool_circuit_breaker_state` for a cockatiel state: 0 closed, 1 half-open, 2 open
 * (an isolated circuit is open by hand and reported as open).
 */
export function circuitStateValue(state: CircuitState): 0 | 1 | 2 {
  switch (state) {
    case CircuitState.Closed:
      return 0;
    case CircuitState.HalfOpen:
      return 1;
    case CircuitState.Open:
    case CircuitState.Isolated:
      return 2;
  }
}

/**
 * A consecutive-failure circuit breaker for a pool, on cockatiel 3. After `consecutiveFailures`
 * failures in a row the circuit opens and calls fail at once with cockatiel's
 * `BrokenCircuitError`; after `halfOpenAfterMs` the next call is a trial (half-open): success
 * closes the circuit, failure opens it again. The state is mirrored to
 * `pool_circuit_breaker_state{pool_name,pool_system}` from creation on.
 *
 * @example
 * ```ts
 * const breaker = createPoolCircuitBreaker({
 *   poolName: 'github', system: 'http', metrics, halfOpenAfterMs: 10_000, consecutiveFailures: 5,
 * });
 * const user = await breaker.execute(() => http.get('/user'));
 * ```
 */
export function createPoolCircuitBreaker(options: PoolCircuitBreakerOptions): PoolCircuitBreaker {
  const { poolName, system, metrics, halfOpenAfterMs, consecutiveFailures, isFailure } = options;
  if (!Number.isInteger(consecutiveFailures) || consecutiveFailures < 1) {
    throw new RangeError(
      `createPoolCircuitBreaker: consecutiveFailures must be an integer >= 1 (got ${consecutiveFailures})`,
    );
  }
  if (!(halfOpenAfterMs >= 0)) {
    throw new RangeError(
      `createPoolCircuitBreaker: halfOpenAfterMs must be >= 0 (got ${halfOpenAfterMs})`,
    );
  }
  const policy = isFailure === undefined ? handleAll : handleWhen(isFailure);
  const breaker = circuitBreaker(policy, {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(consecutiveFailures),
  });
  if (metrics !== undefined) {
    const labels = { pool_name: poolName, pool_system: system };
    metrics.circuitState.set(labels, circuitStateValue(breaker.state));
    breaker.onStateChange((state) => metrics.circuitState.set(labels, circuitStateValue(state)));
  }
  return breaker;
}
