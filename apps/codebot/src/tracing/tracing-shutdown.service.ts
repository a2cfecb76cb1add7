import { redactUrl, ShutdownCoordinator } from '@nest-pools/core';
import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';

import type { Tracing } from './tracing.js';

/** Injection token of the running {@link Tracing}, `null` when tracing is off. */
export const TRACING = 'CodebotTracing';

/** After every pool (the nest-pools libraries close at 100, 200 and 300): their spans included. */
const TRACING_SHUTDOWN_ORDER = 1000;

/** Longest wait for the last spans to reach the collector at shutdown. */
const TRACING_FLUSH_TIMEOUT_MS = 5000;

/**
 * Flushes and stops the OpenTelemetry SDK as the last step of the shutdown sequence, after the
 * HTTP server drained and the pools closed, so the spans of the last requests are exported.
 */
@Injectable()
export class TracingShutdown implements OnModuleInit {
  constructor(
    @Inject(TRACING) private readonly tracing: Tracing | null,
    @Optional() private readonly coordinator?: ShutdownCoordinator,
  ) {}

  onModuleInit(): void {
    const tracing = this.tracing;
    if (tracing === null || !this.coordinator) return;
    this.coordinator.register({
      name: 'tracing',
      phase: 'tracing',
      order: TRACING_SHUTDOWN_ORDER,
      timeoutMs: TRACING_FLUSH_TIMEOUT_MS,
      close: () => tracing.shutdown(),
      describeOpen: () => [
        `spans still being exported to ${redactUrl(tracing.settings.tracesUrl)}`,
      ],
    });
  }
}
