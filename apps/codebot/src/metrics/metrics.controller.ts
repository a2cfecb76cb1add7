import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import {
  Controller,
  Get,
  Headers,
  Inject,
  NotFoundException,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import type { Response } from 'express';
import type { Registry } from 'prom-client';

import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { metricsAuthorized } from './metrics-auth.js';

/** `GET /metrics` on the main port (unless `METRICS_PORT` moves it to its own listener). */
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(POOL_METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  async metrics(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    if (this.config.metricsPort !== undefined) {
      throw new NotFoundException(`Metrics are served on port ${this.config.metricsPort}`);
    }
    if (!metricsAuthorized(authorization, this.config.metricsToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new UnauthorizedException('Bearer token required');
    }
    res.setHeader('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
