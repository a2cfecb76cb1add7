import type { ConfigIssue } from '../config/config-issue.interface.js';
import { configValidationMessage } from './messages.js';
import { PoolError, type PoolErrorOptions } from './pool.error.js';

/**
 * Pool configuration is invalid. Thrown once per parse with every problem found: `issues` lists
 * them and the message shows each on its own line (variable, masked value, what is allowed).
 */
export class ConfigValidationError extends PoolError {
  /** Every problem found, values masked. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], title: string, opts: PoolErrorOptions = {}) {
    super(configValidationMessage(title, issues), {
      ...opts,
      context: { ...(opts.context ?? {}), issueCount: issues.length },
    });
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }

  /**
   * Builds the error from collected issues.
   *
   * @param issues every problem found (already masked)
   * @param title first line of the message, e.g. `Invalid configuration of mongo pool "default"`
   */
  static fromIssues(
    issues: readonly ConfigIssue[],
    title = 'Invalid pool configuration',
    opts: PoolErrorOptions = {},
  ): ConfigValidationError {
    return new ConfigValidationError(issues, title, opts);
  }
}
