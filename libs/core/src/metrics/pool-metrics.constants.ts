/**
 * Injection token of the prom-client `Registry` every pool of one application writes to. Provided
 * by {@link PoolMetricsModule}; inject it to serve `/metrics` or to add application metrics.
 *
 * @example
 * ```ts
 * constructor(@Inject(POOL_METRICS_REGISTRY) private readonly registry: Registry) {}
 * ```
 */
export const POOL_METRICS_REGISTRY = 'nest-pools:PoolMetricsRegistry';

/**
 * Names of every metric family {@link PoolMetrics} registers, keyed by its property name. The
 * names follow the OpenTelemetry semantic conventions for connection pools and HTTP clients, in
 * Prometheus form (dots become underscores, counters end in `_total`, durations in `_seconds`).
 */
export const POOL_METRIC_NAMES = {
  connectionCount: 'db_client_connection_count',
  connectionMax: 'db_client_connection_max',
  connectionIdleMin: 'db_client_connection_idle_min',
  pendingRequests: 'db_client_connection_pending_requests',
  timeouts: 'db_client_connection_timeouts_total',
  waitTime: 'db_client_connection_wait_time_seconds',
  useTime: 'db_client_connection_use_time_seconds',
  createTime: 'db_client_connection_create_time_seconds',
  operationDuration: 'db_client_operation_duration_seconds',
  httpOpenConnections: 'http_client_open_connections',
  httpPendingRequests: 'http_client_pending_requests',
  httpRequestDuration: 'http_client_request_duration_seconds',
  httpConnectionDuration: 'http_client_connection_duration_seconds',
  httpRetries: 'http_client_retries_total',
  errors: 'pool_errors_total',
  circuitState: 'pool_circuit_breaker_state',
  leaks: 'pool_leak_detections_total',
  reconnects: 'pool_reconnects_total',
  poolCleared: 'pool_cleared_total',
} as const;

/**
 * Buckets (seconds) of `db_client_connection_wait_time_seconds`: a healthy pool hands out a
 * connection in well under a millisecond, a saturated one makes callers wait up to its
 * acquire/wait-queue timeout (seconds).
 */
export const CONNECTION_WAIT_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Buckets (seconds) of `db_client_connection_use_time_seconds`: from single fast commands to
 * blocking commands and long transactions that hold a connection for up to a minute.
 */
export const CONNECTION_USE_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * Buckets (seconds) of `db_client_connection_create_time_seconds`: TCP + TLS + handshake/auth,
 * a few ms on a LAN up to the connect timeout.
 */
export const CONNECTION_CREATE_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Buckets (seconds) of `http_client_request_duration_seconds`: the boundaries the OpenTelemetry
 * HTTP semantic conventions recommend, plus 30 s for slow upstreams.
 */
export const HTTP_REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30,
];

/**
 * Buckets (seconds) of `db_client_operation_duration_seconds`: the boundaries the OpenTelemetry
 * database semantic conventions recommend, plus 0.5 ms and 2.5 ms for loopback and LAN commands.
 */
export const OPERATION_DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
];

/**
 * Buckets (seconds) of `http_client_connection_duration_seconds`: how long an outbound
 * connection stayed open, from a request-long socket to hours of keep-alive.
 */
export const HTTP_CONNECTION_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600,
];
