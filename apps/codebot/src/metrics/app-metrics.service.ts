import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';

/** Names of the metrics CodeBot itself adds to the shared registry. */
export const APP_METRIC_NAMES = {
  requestDuration: 'http_server_request_duration_seconds',
  activeRequests: 'http_server_active_requests',
} as const;

/** Buckets (seconds) of the server request duration: the OpenTelemetry HTTP recommendation. */
const SERVER_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

type DurationLabel = 'http_request_method' | 'http_route' | 'http_response_status_code';

/**
 * CodeBot's own metrics on the pools' shared registry: HTTP server requests and the process
 * defaults (CPU, memory, event-loop lag, GC, handles), so one `/metrics` scrape has everything.
 */
@Injectable()
export class AppMetrics {
  /** Histogram of handled requests by method, route template and status code. */
  readonly requestDuration: Histogram<DurationLabel>;
  /** Requests being handled right now. */
  readonly activeRequests: Gauge<'http_request_method'>;

  constructor(@Inject(POOL_METRICS_REGISTRY) readonly registry: Registry) {
    this.requestDuration =
      (registry.getSingleMetric(APP_METRIC_NAMES.requestDuration) as
        Histogram<DurationLabel> | undefined) ??
      new Histogram({
        name: APP_METRIC_NAMES.requestDuration,
        help: 'Duration of HTTP server requests.',
        labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
        buckets: SERVER_DURATION_BUCKETS,
        registers: [registry],
      });
    this.activeRequests =
      (registry.getSingleMetric(APP_METRIC_NAMES.activeRequests) as
        Gauge<'http_request_method'> | undefined) ??
      new Gauge({
        name: APP_METRIC_NAMES.activeRequests,
        help: 'Number of active HTTP server requests.',
        labelNames: ['http_request_method'],
        registers: [registry],
      });
    // Default metrics register once per registry; a second call would throw on duplicates.
    if (!registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: registry });
    }
  }
}
