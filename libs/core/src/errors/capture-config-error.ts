import { ConfigValidationError } from './config-validation.error.js';

/**
 * Runs `fn` and returns the {@link ConfigValidationError} it throws, so that a test can inspect
 * its issues; any other outcome (no error, another error) throws. Meant for specs that check a
 * configuration is refused, in this repository and in applications' own suites.
 *
 * @param fn a parse that is expected to fail
 * @example
 * const error = captureConfigError(() => parseMongoPoolConfig({ MONGODB_MAX_POOL_SIZE: '0' }));
 * expect(error.issues[0]?.variable).toBe('MONGODB_MAX_POOL_SIZE');
 */
export function captureConfigError(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigValidationError) return err;
    throw err;
  }
  throw new Error('expected a ConfigValidationError, but nothing was thrown');
}
