/** Default of `ShutdownModuleOptions.timeoutMs`: below Kubernetes' 30 s grace period. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

/** Default of `ShutdownModuleOptions.drainDelayMs`. */
export const DEFAULT_DRAIN_DELAY_MS = 0;
