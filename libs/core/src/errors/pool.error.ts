import { redact, redactObject } from '../redaction/redaction.js';

/** Construction options shared by every {@link PoolError}. */
export interface PoolErrorOptions {
  /** Name of the pool the error belongs to (`default` unless the module was given a name). */
  poolName?: string;
  /** Structured details (limits, timeouts, counts). Secrets are masked on construction. */
  context?: Record<string, unknown>;
  /** The underlying error, kept as `Error.cause`. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by nest-pools. The message and the context are redacted on
 * construction, so an error can be logged or reported as it is.
 */
export class PoolError extends Error {
  /** Name of the pool the error belongs to, when known. */
  readonly poolName?: string;
  /** Structured, redacted details (for example `{ limit, timeoutMs }`). */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, opts: PoolErrorOptions = {}) {
    super(redact(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    if (opts.poolName !== undefined) this.poolName = opts.poolName;
    this.context = Object.freeze(redactObject({ ...(opts.context ?? {}) }));
  }
}
