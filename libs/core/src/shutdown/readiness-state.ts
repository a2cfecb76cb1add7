import { Injectable } from '@nestjs/common';

/**
 * Lifecycle of an application as its readiness probe sees it:
 * `starting` → `ready` → `draining` (shutdown began: readiness answers 503, requests are still
 * served) → `stopped` (every registered pool is closed). Phases only move forward.
 */
export type ReadinessPhase = 'starting' | 'ready' | 'draining' | 'stopped';

const ORDER: readonly ReadinessPhase[] = ['starting', 'ready', 'draining', 'stopped'];

/**
 * Whether the application should receive traffic. The application calls {@link markReady} once
 * it can serve (after `app.listen()`, or when its startup checks pass); the
 * {@link ShutdownCoordinator} moves it to `draining` as soon as shutdown begins and to
 * `stopped` when every pool is closed. A readiness endpoint answers 503 unless {@link isReady}.
 *
 * @example
 * ```ts
 * @Get('ready')
 * ready(@Res({ passthrough: true }) res: Response) {
 *   if (!this.readiness.isReady()) res.status(503);
 *   return { phase: this.readiness.phase };
 * }
 * ```
 */
@Injectable()
export class ReadinessState {
  private current: ReadinessPhase = 'starting';
  private readonly listeners = new Set<(phase: ReadinessPhase) => void>();

  /** The current phase. */
  get phase(): ReadinessPhase {
    return this.current;
  }

  /** `starting` → `ready`. Ignored once shutdown has begun: a draining app never turns ready. */
  markReady(): void {
    this.moveTo('ready');
  }

  /** Shutdown began: readiness must fail from now on. */
  markDraining(): void {
    this.moveTo('draining');
  }

  /** Shutdown finished. */
  markStopped(): void {
    this.moveTo('stopped');
  }

  /** True only in the `ready` phase. */
  isReady(): boolean {
    return this.current === 'ready';
  }

  /** True once shutdown has begun (`draining` or `stopped`). */
  isShuttingDown(): boolean {
    return this.current === 'draining' || this.current === 'stopped';
  }

  /**
   * Calls `listener` synchronously on every phase change.
   *
   * @returns a function that removes the listener
   */
  onChange(listener: (phase: ReadinessPhase) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private moveTo(next: ReadinessPhase): void {
    if (ORDER.indexOf(next) <= ORDER.indexOf(this.current)) return;
    this.current = next;
    for (const listener of [...this.listeners]) listener(next);
  }
}
