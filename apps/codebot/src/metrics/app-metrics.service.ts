import { HistogramSeries, POOL_METRICS_REGISTRY } from '@nest-pools/core';
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

/**
 * Label sets of the request histogram kept bound for direct writes. Routes are templates and
 * methods and statuses are few, so real traffic stays far below; past it, observations still land
 * (through prom-client's own `observe`), only slower.
 */
const MAX_BOUND_SERIES = 1000;

type DurationLabel = 'http_request_method' | 'http_route' | 'http_response_status_code';

/**
 * Requests in flight per method, counted in a plain map on the request path and copied into the
 * gauge when the registry is scraped (prom-client's `inc`/`dec` hash the labels on every call).
 */
class ActiveRequestsGauge extends Gauge<'http_request_method'> {
  readonly inFlight: Map<string, number>;

  constructor(registry: Registry) {
    const inFlight = new Map<string, number>();
    super({
      name: APP_METRIC_NAMES.activeRequests,
      help: 'Number of active HTTP server requests.',
      labelNames: ['http_request_method'],
      registers: [registry],
      collect(this: Gauge<'http_request_method'>) {
        for (const [method, count] of inFlight) this.set({ http_request_method: method }, count);
      },
    });
    this.inFlight = inFlight;
  }
}

/**
 * CodeBot's own metrics on the pools' shared registry: HTTP server requests and the process
 * defaults (CPU, memory, event-loop lag, GC, handles), so one `/metrics` scrape has everything.
 */
@Injectable()
export class AppMetrics {
  /** Histogram of handled requests by method, route template and status code. */
  readonly requestDuration: Histogram<DurationLabel>;
  /** Requests being handled right now (filled in at each scrape from {@link requestStarted}). */
  readonly activeRequests: Gauge<'http_request_method'>;
  private readonly inFlight: Map<string, number>;
  private readonly durations = new Map<string, HistogramSeries>();

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
    const existing = registry.getSingleMetric(APP_METRIC_NAMES.activeRequests);
    const active =
      existing instanceof ActiveRequestsGauge ? existing : new ActiveRequestsGauge(registry);
    this.activeRequests = active;
    this.inFlight = active.inFlight;
    // Default metrics register once per registry; a second call would throw on duplicates.
    if (!registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: registry });
    }
  }

  /** A request with `method` began. */
  requestStarted(method: string): void {
    this.inFlight.set(method, (this.inFlight.get(method) ?? 0) + 1);
  }

  /** A request that {@link requestStarted} counted ended after `seconds`. */
  requestFinished(method: string, route: string, statusCode: number, seconds: number): void {
    this.inFlight.set(method, (this.inFlight.get(method) ?? 1) - 1);
    const key = `${method} ${statusCode} ${route}`;
    let series = this.durations.get(key);
    if (series === undefined) {
      const labels = {
        http_request_method: method,
        http_route: route,
        http_response_status_code: String(statusCode),
      };
      if (this.durations.size >= MAX_BOUND_SERIES) {
        this.requestDuration.observe(labels, seconds);
        return;
      }
      series = new HistogramSeries(this.requestDuration, labels);
      this.durations.set(key, series);
    }
    series.observe(seconds);
  }
}
