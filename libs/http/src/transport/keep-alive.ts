/**
 * What an upstream advertises in its `Keep-Alive` response header
 * (`Keep-Alive: timeout=5, max=1000`).
 */
export interface KeepAliveHint {
  /** Idle time after which the upstream closes the connection, in ms. */
  timeoutMs?: number;
  /** Number of requests the upstream serves on one connection before closing it. */
  max?: number;
}

/**
 * Parses a `Keep-Alive` header value. Unknown parameters and malformed numbers are ignored, so a
 * broken header never breaks a request.
 *
 * @example parseKeepAliveHeader('timeout=5, max=100') // { timeoutMs: 5000, max: 100 }
 */
export function parseKeepAliveHeader(value: string | string[] | undefined): KeepAliveHint {
  const hint: KeepAliveHint = {};
  if (value === undefined) return hint;
  const text = Array.isArray(value) ? value.join(',') : value;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (!/^\d+$/.test(raw)) continue;
    const n = Number(raw);
    if (key === 'timeout') hint.timeoutMs = n * 1000;
    else if (key === 'max') hint.max = n;
  }
  return hint;
}

/** How the client decides how long an idle pooled socket is kept. */
export interface IdleTimeoutRule {
  /** Idle timeout used when the upstream sends no hint. */
  defaultMs: number;
  /** Upper bound, also applied to the upstream's hint. */
  maxMs: number;
  /** Safety margin subtracted from the upstream's hint (it closes at exactly its timeout). */
  thresholdMs: number;
}

/**
 * The idle timeout a pooled socket gets after a response: the configured value when the upstream
 * sends no hint, otherwise the hint minus a safety margin, never above the configured maximum.
 * `0` means the socket is not reused at all (the hint is too short to be safe). This is the rule
 * undici applies with `keepAliveTimeout` / `keepAliveMaxTimeout` / `keepAliveTimeoutThreshold`.
 */
export function effectiveIdleTimeoutMs(hint: KeepAliveHint, rule: IdleTimeoutRule): number {
  if (hint.timeoutMs === undefined) return Math.min(rule.defaultMs, rule.maxMs);
  return Math.max(0, Math.min(hint.timeoutMs - rule.thresholdMs, rule.maxMs));
}
