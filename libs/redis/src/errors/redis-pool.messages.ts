function poolLabel(poolName: string): string {
  return `Redis pool "${poolName}"`;
}

/** Message of a {@link RedisOfflineQueueFullError}. */
export function offlineQueueFullMessage(opts: {
  poolName: string;
  command: string;
  limit: number;
}): string {
  return (
    `${poolLabel(opts.poolName)}: not connected and ${opts.limit} command(s) already wait in the ` +
    `offline queue (offlineQueueMax), so "${opts.command}" was refused. Check that Redis is ` +
    'reachable (health shows the client state); raise REDIS_OFFLINE_QUEUE_MAX only if callers ' +
    'can afford to wait through an outage.'
  );
}

/** Message of a {@link RedisCommandInterruptedError}. */
export function commandInterruptedMessage(opts: { poolName: string; command: string }): string {
  return (
    `${poolLabel(opts.poolName)}: the connection dropped while "${opts.command}" waited for its ` +
    'reply, and it was not sent again because REDIS_RESEND_UNFULFILLED (resendUnfulfilled) is ' +
    'false. The server may or may not have run it: check before retrying a non-idempotent ' +
    'command, or set REDIS_RESEND_UNFULFILLED=true for at-least-once resending.'
  );
}

/** Message of a {@link RedisPoolConnectError} (bootstrap with `failFast`). */
export function connectFailedMessage(opts: {
  poolName: string;
  target: string;
  timeoutMs: number;
  reason: string;
}): string {
  return (
    `${poolLabel(opts.poolName)}: could not connect to ${opts.target} within ${opts.timeoutMs} ms ` +
    `(${opts.reason}) and failFast is set, so startup stops here. Start Redis or fix REDIS_URL / ` +
    'REDIS_SENTINELS / REDIS_CLUSTER_NODES; unset REDIS_FAIL_FAST to start anyway and connect ' +
    'in the background.'
  );
}

/** Message of the error `release()` throws for a connection the pools did not lend. */
export function unknownConnectionMessage(): string {
  return (
    'This connection was not acquired from a Redis pool (or was already released). Release ' +
    'exactly the object acquire() returned, once; prefer withConnection(), which releases for you.'
  );
}

/** Log line of a dedicated connection held past the leak threshold. */
export function leakMessage(opts: {
  poolName: string;
  heldMs: number;
  thresholdMs: number;
  stack?: string;
}): string {
  const where = opts.stack === undefined ? '' : `\nAcquired at:\n${opts.stack}`;
  return (
    `${poolLabel(opts.poolName)}: a dedicated connection has been held for ${opts.heldMs} ms ` +
    `(leak threshold ${opts.thresholdMs} ms). Release it (use withConnection(), or call ` +
    `release() in a finally block); raise REDIS_LEAK_DETECTION_THRESHOLD_MS if the work is ` +
    `legitimately this long.${where}`
  );
}
