import { poolTimeoutMessage } from '../errors/messages.js';
import { redact } from '../redaction/redaction.js';
import { withTimeout } from './with-timeout.js';

/** Health of one dependency: `degraded` still serves, but impaired (slow, saturated, optional). */
export type HealthStatus = 'up' | 'down' | 'degraded';

/** Result of one run of a {@link SharedHealthCheck}. */
export interface HealthCheckOutcome<T> {
  /** `up` when the check resolved (or what `classify` said), `down` when it failed or timed out. */
  status: HealthStatus;
  /** Time the check took (up to the timeout), in milliseconds with 0.01 ms resolution. */
  latencyMs: number;
  /** What the check resolved with (absent when it failed). */
  details?: T;
  /** Why the check failed: the error's name and message, secrets redacted. */
  error?: string;
  /** When the check finished, epoch milliseconds (`Date.now()`). */
  checkedAt: number;
}

/** Options of a {@link SharedHealthCheck}. */
export interface SharedHealthCheckOptions<T> {
  /** Longest a check may take; after it the signal is aborted and the outcome is `down`. */
  timeoutMs: number;
  /**
   * How long an outcome is reused, in milliseconds; `0` reuses nothing (concurrent callers still
   * share the in-flight check). Failures are cached as well, so a dead dependency is not
   * hammered by every probe.
   */
  cacheTtlMs: number;
  /** What is checked, e.g. `redis ping`; used in timeout messages. */
  label: string;
  /**
   * Pool the check belongs to; named in timeout messages.
   * @default undefined
   */
  poolName?: string;
  /**
   * Turns a successful result into `up` or `degraded` (for example a pool with callers waiting
   * for a connection). A `classify` that throws makes the outcome `down`.
   * @default every successful result is `up`
   */
  classify?: (details: T, latencyMs: number) => 'up' | 'degraded';
}

/**
 * Runs a health check with a timeout, shares one in-flight run between concurrent callers and
 * reuses the outcome for `cacheTtlMs`, so a burst of probes (Kubernetes, load balancers, a
 * dashboard) costs one round-trip to the dependency. {@link SharedHealthCheck.run} never
 * rejects: failures and timeouts become a `down` outcome with a redacted error.
 *
 * @example
 * ```ts
 * const ping = new SharedHealthCheck((signal) => redis.ping(), {
 *   timeoutMs: 1000,
 *   cacheTtlMs: 1000,
 *   label: 'redis ping',
 *   poolName: 'default',
 * });
 * const outcome = await ping.run(); // { status: 'up', latencyMs: 0.42, details: 'PONG', checkedAt }
 * ```
 */
export class SharedHealthCheck<T> {
  private inFlight: Promise<HealthCheckOutcome<T>> | undefined;
  private cached: HealthCheckOutcome<T> | undefined;
  private cachedUntil = 0;

  /**
   * @param check the probe; it should stop its work when `signal` aborts (on timeout)
   * @param options timeout, cache window and naming
   */
  constructor(
    private readonly check: (signal: AbortSignal) => Promise<T>,
    private readonly options: SharedHealthCheckOptions<T>,
  ) {
    if (!(options.timeoutMs > 0)) {
      throw new RangeError(`SharedHealthCheck: timeoutMs must be > 0 (got ${options.timeoutMs})`);
    }
    if (!(options.cacheTtlMs >= 0)) {
      throw new RangeError(
        `SharedHealthCheck: cacheTtlMs must be >= 0 (got ${options.cacheTtlMs})`,
      );
    }
  }

  /**
   * The cached outcome while it is fresh, else the outcome of the check in flight, else the
   * outcome of a new check. Never rejects.
   */
  run(): Promise<HealthCheckOutcome<T>> {
    if (this.cached !== undefined && performance.now() < this.cachedUntil) {
      return Promise.resolve(this.cached);
    }
    this.inFlight ??= this.execute().then((outcome) => {
      this.cached = outcome;
      this.cachedUntil = performance.now() + this.options.cacheTtlMs;
      this.inFlight = undefined;
      return outcome;
    });
    return this.inFlight;
  }

  /** Forgets the cached outcome, so the next {@link run} checks again (an in-flight run stays). */
  invalidate(): void {
    this.cached = undefined;
    this.cachedUntil = 0;
  }

  private async execute(): Promise<HealthCheckOutcome<T>> {
    const { timeoutMs, label, poolName, classify } = this.options;
    const controller = new AbortController();
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    try {
      // A check that throws synchronously is a failed check, not a crash of run().
      const probe = new Promise<T>((resolve) => resolve(this.check(controller.signal)));
      const details = await withTimeout(
        probe,
        timeoutMs,
        poolTimeoutMessage({ poolName, operation: `health check "${label}"`, timeoutMs }),
        { controller, ...(poolName !== undefined && { poolName }) },
      );
      const latencyMs = elapsed();
      const status = classify === undefined ? 'up' : classify(details, latencyMs);
      return { status, latencyMs, details, checkedAt: Date.now() };
    } catch (error) {
      return {
        status: 'down',
        latencyMs: elapsed(),
        error: describeError(error),
        checkedAt: Date.now(),
      };
    }
  }
}

/** `Name: message` of an error (just the message for a plain `Error`), redacted. */
function describeError(error: unknown): string {
  if (error instanceof Error) {
    const prefix = error.name === 'Error' || error.name === '' ? '' : `${error.name}: `;
    return redact(`${prefix}${error.message}`);
  }
  return redact(String(error));
}
