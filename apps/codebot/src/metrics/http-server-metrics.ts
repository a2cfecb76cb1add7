import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { type HttpRequestEmitter, isHttpRequestEmitter } from '@nest-pools/core';
import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

import { AppMetrics } from './app-metrics.service.js';

/** What Express leaves on a request once it matched a route. */
interface RoutedRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: string;
}

/** Route label of a request: the matched route template, never the raw path (bounded labels). */
function routeOf(req: RoutedRequest): string {
  const route = req.route;
  if (route && typeof route.path === 'string') return `${req.baseUrl ?? ''}${route.path}`;
  return 'unmatched';
}

/**
 * Records every request of the application's HTTP server in {@link AppMetrics}: a `request`
 * listener on the server itself, so each request is counted from its first byte to its response's
 * `close` (also when a guard refuses it, no route matches or the client goes away) without a
 * middleware layer on the router.
 */
@Injectable()
export class HttpServerMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private server: HttpRequestEmitter | undefined;

  constructor(
    private readonly metrics: AppMetrics,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Listens on the Nest application's HTTP server. */
  onApplicationBootstrap(): void {
    const server: unknown = this.adapterHost?.httpAdapter?.getHttpServer();
    if (isHttpRequestEmitter(server)) this.attach(server);
  }

  /** Stops listening. */
  onApplicationShutdown(): void {
    this.detach();
  }

  /** Counts the requests of `server` (once; a second call is ignored). */
  attach(server: HttpRequestEmitter): void {
    if (this.server !== undefined) return;
    this.server = server;
    // Ahead of the application's own listener: the clock starts before routing.
    server.prependListener('request', this.onRequest);
  }

  /** Stops counting. */
  detach(): void {
    this.server?.removeListener('request', this.onRequest);
    this.server = undefined;
  }

  private readonly onRequest = (req: RoutedRequest, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    const start = performance.now();
    const metrics = this.metrics;
    metrics.requestStarted(method);
    // A response emits 'close' once: after its last byte, or when the client went away first.
    res.on('close', () => {
      metrics.requestFinished(
        method,
        routeOf(req),
        res.statusCode,
        (performance.now() - start) / 1000,
      );
    });
  };
}
