/**
 * One problem found while validating pool configuration. A {@link ConfigValidationError} carries
 * every issue found in one pass.
 */
export interface ConfigIssue {
  /**
   * The variable as the user wrote it: the env name (alias names included, e.g.
   * `AIOHTTP_POOL_LIMIT`) or `options.<key>` for an explicit option, prefixed with the pool name
   * when the pool is not `default` (`[cache] options.maxConnections`).
   */
  variable: string;
  /** The value given, with secrets masked (`***`); `(not set)` when the value is missing. */
  given: string;
  /** What would be accepted, and for refused options why and what to use instead. */
  allowed: string;
}
