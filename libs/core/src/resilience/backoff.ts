/**
 * How randomness spreads retry delays so that clients that failed together do not retry
 * together:
 * - `full`: uniformly in `[0, delay]` (best at breaking up retry storms),
 * - `equal`: `delay / 2` plus uniformly up to `delay / 2` (never retries almost immediately),
 * - `none`: exactly `delay`.
 */
export type BackoffJitter = 'full' | 'equal' | 'none';

/** Options of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds; doubles with every further attempt. */
  baseMs: number;
  /** Upper bound of the delay, in milliseconds, applied before jitter. */
  maxMs: number;
  /**
   * How randomness is applied (see {@link BackoffJitter}).
   * @default 'full'
   */
  jitter?: BackoffJitter;
}

/**
 * Delay before retry number `attempt`: `min(maxMs, baseMs * 2^(attempt - 1))`, spread by
 * `jitter`, rounded to whole milliseconds.
 *
 * @param attempt 1 for the first retry, 2 for the second, …
 * @param options base, cap and jitter
 * @param random source of uniform numbers in `[0, 1)`; injectable for tests
 * @returns the delay in milliseconds, between 0 and `maxMs`
 * @throws RangeError when `attempt` is not an integer ≥ 1 or a duration is negative
 *
 * @example
 * ```ts
 * backoffDelay(3, { baseMs: 100, maxMs: 5000, jitter: 'none' }); // 400
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const { baseMs, maxMs, jitter = 'full' } = options;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`backoffDelay: attempt must be an integer >= 1 (got ${attempt})`);
  }
  if (!(baseMs >= 0) || !(maxMs >= 0)) {
    throw new RangeError(
      `backoffDelay: baseMs and maxMs must be >= 0 (got baseMs=${baseMs}, maxMs=${maxMs})`,
    );
  }
  // 2 ** 1024 is Infinity, which Math.min caps; no overflow handling needed.
  const capped = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  switch (jitter) {
    case 'none':
      return Math.round(capped);
    case 'equal':
      return Math.round(capped / 2 + (random() * capped) / 2);
    case 'full':
      return Math.round(random() * capped);
  }
}
