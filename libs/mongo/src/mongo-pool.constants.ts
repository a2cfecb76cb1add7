/** `db_system` / `pool_system` label value of every metric this library writes. */
export const MONGO_DB_SYSTEM = 'mongodb';

/** Phase under which each pool registers with the core `ShutdownCoordinator` (its log name). */
export const MONGO_SHUTDOWN_PHASE = 'mongo';

/**
 * When MongoDB pools close in the core `ShutdownCoordinator`: last (after HTTP at 100 and Redis
 * at 200), so the system of record stays reachable while work still finishes.
 */
export const MONGO_SHUTDOWN_ORDER = 300;

/** Name of the pool when none is given. */
export const DEFAULT_MONGO_POOL_NAME = 'default';

/**
 * How long a health result is reused. Short enough that a probe reflects an outage within one
 * probe period, long enough that a burst of concurrent probes (liveness + readiness + /health)
 * costs one ping.
 */
export const MONGO_HEALTH_CACHE_TTL_MS = 250;

/** First delay (ms) between two failed background connection attempts. */
export const MONGO_RECONNECT_BASE_DELAY_MS = 250;

/**
 * Longest delay (ms) between two failed background connection attempts. Kept short: an attempt
 * already waits `serverSelectionTimeoutMS` while the driver re-checks the server every 500 ms,
 * so the delay only matters for fast failures (DNS, authentication), and a long one would be
 * added to the recovery time after a long outage.
 */
export const MONGO_RECONNECT_MAX_DELAY_MS = 1_000;

/** Module-local token of the pool owned by one `MongoPoolCoreModule` (never exported). */
export const MONGO_POOL_INSTANCE = 'nest-pools:MongoPoolInstance';

/** Driver metadata sent in the handshake, shown by `db.currentOp()` / server logs. */
export const MONGO_DRIVER_INFO = { name: 'nest-pools' } as const;
