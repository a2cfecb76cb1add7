import { ConfigValidationError } from '../errors/index.js';

/**
 * Runs `fn` and returns the `ConfigValidationError` it throws, so that a spec can inspect its
 * issues; any other outcome fails the spec. For specs only (not built into the library).
 * @param fn A parse that is expected to fail.
 */
export function configErrorOf(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigValidationError) return err;
    throw err;
  }
  throw new Error('expected a ConfigValidationError');
}
