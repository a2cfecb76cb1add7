import {
  PoolBreaker,
  type PoolBreakerState,
  type PoolBreakerTicket,
  type PoolMetrics,
} from '@nest-pools/core';

import type { HttpPoolConfig } from './config/index.js';
import { HTTP_SHUTDOWN_PHASE } from './http-pool.constants.js';
import { retryReasonForError } from './retry/retry-rules.js';

/** Read and total timeouts, besides the network codes the retry rules know. */
const TIMEOUT_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * Whether an attempt's failure counts against its origin's circuit: refused, reset, DNS,
 * connect/read/total timeouts. Cancellation by the caller and 4xx answers never count.
 */
export function isHttpConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as { name?: unknown }).name === 'CanceledError') return false;
  const reason = retryReasonForError(error);
  if (reason !== undefined && !reason.startsWith('status_')) return true;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && TIMEOUT_CODES.has(code);
}

/** Gate of one request attempt: refuses it while its origin's circuit is open. */
export interface AttemptGate {
  /** @throws PoolUnavailableError while the circuit of `origin` (`protocol://host[:port]`) is open */
  admit(origin: string): PoolBreakerTicket;
}

/** Completes an attempt's ticket from its outcome. */
export function settleTicket(
  ticket: PoolBreakerTicket,
  status: number | undefined,
  error?: unknown,
): void {
  // Any status is an answer (a 503 too: it is retried, not a reason to cut the upstream off).
  if (status !== undefined) {
    ticket.success();
  } else if (isHttpConnectionFailure(error)) {
    ticket.failure();
  } else {
    ticket.success();
  }
}

/**
 * One circuit breaker per upstream origin of a client (`https://api.github.com:443`): a failing
 * upstream is cut off without touching the client's other upstreams. Breakers are created on the
 * first request to an origin and live as long as the client.
 */
export class HttpPoolBreakers implements AttemptGate {
  private readonly byOrigin = new Map<string, PoolBreaker>();

  constructor(
    private readonly config: HttpPoolConfig,
    private readonly metrics: PoolMetrics,
  ) {}

  admit(origin: string): PoolBreakerTicket {
    return this.of(origin).admit();
  }

  /** The breaker of `origin`, created on first use. */
  of(origin: string): PoolBreaker {
    let breaker = this.byOrigin.get(origin);
    if (breaker === undefined) {
      breaker = new PoolBreaker({
        poolName: `${this.config.name} ${origin}`,
        system: HTTP_SHUTDOWN_PHASE,
        consecutiveFailures: this.config.breakerFailures,
        halfOpenAfterMs: this.config.breakerHalfOpenMs,
        enabled: this.config.breakerEnabled,
        metrics: this.metrics,
      });
      this.byOrigin.set(origin, breaker);
    }
    return breaker;
  }

  /** Origin → state, for stats and health. */
  states(): Record<string, PoolBreakerState> {
    const out: Record<string, PoolBreakerState> = {};
    for (const [origin, breaker] of this.byOrigin) out[origin] = breaker.state;
    return out;
  }

  /** Origins whose circuit refuses calls right now. */
  open(): string[] {
    return [...this.byOrigin].filter(([, b]) => b.isOpen).map(([origin]) => origin);
  }
}
