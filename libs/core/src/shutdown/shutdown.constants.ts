import type { ShutdownPhase } from './shutdown-coordinator.js';

/**
 * Order in which {@link ShutdownCoordinator.closeAll} closes registered pools: outbound HTTP
 * clients first (nothing new is sent upstream), then Redis, then MongoDB (the system of record
 * goes last, so work that still finishes can persist).
 */
export const SHUTDOWN_PHASE_ORDER: readonly ShutdownPhase[] = ['http', 'redis', 'mongo'];

/** Default of `ShutdownModuleOptions.timeoutMs`: below Kubernetes' 30 s grace period. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

/** Default of `ShutdownModuleOptions.drainDelayMs`. */
export const DEFAULT_DRAIN_DELAY_MS = 0;
