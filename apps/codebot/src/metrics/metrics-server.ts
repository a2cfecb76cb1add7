import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';

import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { closeHttpServer } from '../shutdown/close-http-server.js';
import { metricsAuthorized } from './metrics-auth.js';

/**
 * The separate `/metrics` listener used when `METRICS_PORT` is set (so scrapes never share the
 * public port). It closes last, after the pools, so Prometheus can watch a shutdown to the end.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsServer.name);
  private server?: Server;

  constructor(
    @Inject(POOL_METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Bound port, once listening. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === undefined) return;
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
        return;
      }
      if (!metricsAuthorized(req.headers.authorization, this.config.metricsToken)) {
        res
          .writeHead(401, {
            'content-type': 'text/plain',
            'www-authenticate': 'Bearer realm="metrics"',
          })
          .end('Bearer token required');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metricsPort, () => resolve());
    });
    this.server = server;
    this.logger.log(`Metrics on http://0.0.0.0:${this.port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeHttpServer(server);
  }
}
