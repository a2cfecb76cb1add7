import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { AppMetrics } from './app-metrics.service.js';

/** Route label of a request: the matched route template, never the raw path (bounded labels). */
function routeOf(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (route && typeof route.path === 'string') return `${req.baseUrl}${route.path}`;
  return 'unmatched';
}

/** Records every HTTP server request in {@link AppMetrics}. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: AppMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const method = req.method;
    const start = process.hrtime.bigint();
    this.metrics.activeRequests.inc({ http_request_method: method });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.metrics.activeRequests.dec({ http_request_method: method });
      this.metrics.requestDuration.observe(
        {
          http_request_method: method,
          http_route: routeOf(req),
          http_response_status_code: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  }
}
