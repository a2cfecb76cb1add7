import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /**
   * Give up after this many milliseconds.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Pause between two evaluations of the condition, in milliseconds.
   * @default 20
   */
  intervalMs?: number;
  /**
   * What is being waited for; used in the timeout error message.
   * @default 'condition'
   */
  description?: string;
}

/**
 * Evaluates `condition` until it returns a truthy value (or a promise of one) and resolves with
 * that value. A condition that throws counts as "not yet"; its last error is attached as `cause`
 * when the wait times out.
 *
 * @param condition Function polled until truthy.
 * @param options Timeout, interval and description.
 * @returns The first truthy value the condition produced.
 * @throws Error when `timeoutMs` passes first; the message names `description`.
 * @example
 * await waitFor(() => upstream.openConnections === 0, { description: 'idle sockets closed' });
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 5000, intervalMs = 20, description = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) {
        return value;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${description}; raise timeoutMs or check why it never became true.`,
        { cause: lastError },
      );
    }
    await sleep(intervalMs);
  }
}
