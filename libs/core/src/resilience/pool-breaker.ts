import { CircuitState, ConsecutiveBreaker, type IBreaker } from 'cockatiel';

import { PoolUnavailableError } from '../errors/pool-unavailable.error.js';
import type { PoolMetrics } from '../metrics/pool-metrics.js';

/** State of a {@link PoolBreaker}. */
export type PoolBreakerState = 'closed' | 'open' | 'half-open';

/** Options of {@link PoolBreaker}. */
export interface PoolBreakerOptions {
  /** Pool (or `pool:origin` for HTTP) the breaker protects: `pool_name` label, error context. */
  poolName: string;
  /** Kind of pool: `pool_system` label, and the name in messages (`mongodb`, `redis`, `http`). */
  system: string;
  /** Consecutive connection-level failures that open the circuit. */
  consecutiveFailures: number;
  /** How long the circuit stays open before one trial call (half-open), in ms. */
  halfOpenAfterMs: number;
  /**
   * When false the breaker never opens (calls are still counted, nothing is refused).
   * @default true
   */
  enabled?: boolean;
  /** Where the state is mirrored (`pool_circuit_breaker_state`). */
  metrics?: PoolMetrics;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
  /** Called on every state change. */
  onStateChange?: (state: PoolBreakerState) => void;
}

/** A call let through by {@link PoolBreaker.admit}; report its end exactly once. */
export interface PoolBreakerTicket {
  /** The call succeeded, or failed in a way that says nothing about the server (4xx, WRONGTYPE). */
  success(): void;
  /** The call failed at the connection level (refused, reset, timeout). */
  failure(): void;
}

const STATE_VALUE: Record<PoolBreakerState, 0 | 1 | 2> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * A circuit breaker for one pool (or one HTTP origin): closed → open after
 * `consecutiveFailures` connection-level failures in a row (counted by cockatiel's
 * `ConsecutiveBreaker`) → after `halfOpenAfterMs` exactly one trial call goes out (half-open) →
 * closed on its success, open again on its failure. While open (and while the trial is out),
 * {@link admit} throws {@link PoolUnavailableError} at once, so no call waits for a timeout.
 *
 * Which failures count is the caller's decision: report application errors (duplicate key, 4xx,
 * WRONGTYPE) as `success()` — the server answered. The check costs one comparison, so pool
 * libraries call it on every command.
 *
 * @example
 * const ticket = breaker.admit(); // throws PoolUnavailableError while open
 * try { const r = await send(); ticket.success(); return r; }
 * catch (e) { isConnectionError(e) ? ticket.failure() : ticket.success(); throw e; }
 */
export class PoolBreaker {
  private stateValue: PoolBreakerState = 'closed';
  private readonly counter: IBreaker;
  private openedAt = 0;
  private probeOut = false;
  private readonly now: () => number;
  private readonly labels: { pool_name: string; pool_system: string };

  constructor(private readonly options: PoolBreakerOptions) {
    if (!Number.isInteger(options.consecutiveFailures) || options.consecutiveFailures < 1) {
      throw new RangeError(
        `PoolBreaker: consecutiveFailures must be an integer >= 1 (got ${options.consecutiveFailures})`,
      );
    }
    if (!(options.halfOpenAfterMs >= 0)) {
      throw new RangeError(
        `PoolBreaker: halfOpenAfterMs must be >= 0 (got ${options.halfOpenAfterMs})`,
      );
    }
    this.counter = new ConsecutiveBreaker(options.consecutiveFailures);
    this.now = options.now ?? Date.now;
    this.labels = { pool_name: options.poolName, pool_system: options.system };
    options.metrics?.circuitState.set(this.labels, 0);
  }

  /** Current state; an open circuit whose wait has passed reads `half-open`. */
  get state(): PoolBreakerState {
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.options.halfOpenAfterMs) {
      return 'half-open';
    }
    return this.stateValue;
  }

  /** When the circuit last opened (epoch ms), or `undefined` while closed. */
  get openSince(): number | undefined {
    return this.stateValue === 'closed' ? undefined : this.openedAt;
  }

  /** Whether a call would be refused right now. */
  get isOpen(): boolean {
    if (this.stateValue === 'closed') return false;
    if (this.probeOut) return true;
    return this.now() - this.openedAt < this.options.halfOpenAfterMs;
  }

  /**
   * Lets a call through, or throws {@link PoolUnavailableError} while the circuit is open. The
   * first call after `halfOpenAfterMs` is the trial; the others keep failing fast until it ends.
   */
  admit(): PoolBreakerTicket {
    if (this.stateValue === 'closed') return this.closedTicket;
    if (this.probeOut || this.now() - this.openedAt < this.options.halfOpenAfterMs) {
      throw this.unavailable();
    }
    this.probeOut = true;
    this.transition('half-open');
    let done = false;
    return {
      success: () => {
        if (done) return;
        done = true;
        this.probeOut = false;
        this.counter.success(CircuitState.Closed);
        this.transition('closed');
      },
      failure: () => {
        if (done) return;
        done = true;
        this.probeOut = false;
        this.open();
      },
    };
  }

  /** Records an outcome observed outside {@link admit} (a background ping, a heartbeat). */
  record(ok: boolean): void {
    if (ok) {
      if (this.stateValue === 'closed') this.counter.success(CircuitState.Closed);
      return;
    }
    if (this.stateValue === 'closed' && this.counter.failure(CircuitState.Closed)) this.open();
  }

  /**
   * The server answered outside any call (a reconnect's handshake, a heartbeat): close an open
   * circuit at once instead of waiting for the trial, and reset the failure count.
   */
  recover(): void {
    this.counter.success(CircuitState.Closed);
    if (this.stateValue === 'closed') return;
    this.probeOut = false;
    this.transition('closed');
  }

  /** Runs `fn` under the breaker; `isFailure` says which errors count (default: every error). */
  async execute<T>(
    fn: () => Promise<T>,
    isFailure: (error: unknown) => boolean = () => true,
  ): Promise<T> {
    const ticket = this.admit();
    try {
      const result = await fn();
      ticket.success();
      return result;
    } catch (error) {
      if (isFailure(error)) ticket.failure();
      else ticket.success();
      throw error;
    }
  }

  /** The error a refused call gets. */
  unavailable(cause?: unknown): PoolUnavailableError {
    return new PoolUnavailableError({
      poolName: this.options.poolName,
      system: this.options.system,
      since: this.openedAt,
      retryAt: this.openedAt + this.options.halfOpenAfterMs,
      cause,
    });
  }

  private readonly closedTicket: PoolBreakerTicket = {
    success: () => this.counter.success(CircuitState.Closed),
    failure: () => {
      if (this.stateValue === 'closed' && this.counter.failure(CircuitState.Closed)) this.open();
    },
  };

  private open(): void {
    if (this.options.enabled === false) return;
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(state: PoolBreakerState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.options.metrics?.circuitState.set(this.labels, STATE_VALUE[state]);
    this.options.onStateChange?.(state);
  }
}
