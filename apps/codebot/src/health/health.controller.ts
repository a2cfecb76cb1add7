import { ReadinessState, redactObject } from '@nest-pools/core';
import { HttpPoolHealthIndicator, HttpPoolService } from '@nest-pools/http';
import { MongoPoolHealthIndicator, MongoPoolService } from '@nest-pools/mongo';
import { RedisPoolHealthIndicator, RedisPoolService } from '@nest-pools/redis';
import {
  Controller,
  Get,
  HttpException,
  HttpStatus,
  ServiceUnavailableException,
} from '@nestjs/common';
import {
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';

import { GITHUB_POOL, TELEGRAM_POOL } from '../codebot.tokens.js';
import { HealthGauges } from './health-gauges.js';
import { StartupState } from './startup-state.js';

type Check = () => Promise<HealthIndicatorResult>;

/**
 * Kubernetes probes and the full report.
 *
 * - `/health/live`: the process only; 200 even while draining (restarting a pod because its
 *   database is down would only add load to the outage).
 * - `/health/ready`: Mongo and Redis required; Telegram and GitHub optional (`degraded`, still
 *   200); 503 at once when shutdown starts.
 * - `/health/startup`: 503 until Mongo and Redis answered once and indexes exist, then 200 for good.
 * - `/health`: everything with each pool's stats (Terminus shape, secrets redacted).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly mongo: MongoPoolHealthIndicator,
    private readonly redis: RedisPoolHealthIndicator,
    private readonly http: HttpPoolHealthIndicator,
    private readonly mongoPools: MongoPoolService,
    private readonly redisPools: RedisPoolService,
    private readonly httpPools: HttpPoolService,
    private readonly readiness: ReadinessState,
    private readonly startup: StartupState,
    private readonly gauges: HealthGauges,
  ) {}

  /** Liveness: answers from the event loop, checks nothing external. */
  @Get('live')
  live(): HealthCheckResult {
    const process = this.indicator.check('process').up({
      pid: globalThis.process.pid,
      uptimeSeconds: Math.round(globalThis.process.uptime()),
      phase: this.readiness.phase,
    });
    return { status: 'ok', info: process, error: {}, details: process };
  }

  /** Readiness: required pools up and not shutting down. */
  @Get('ready')
  async ready(): Promise<HealthCheckResult> {
    this.refuseWhileShuttingDown();
    return this.run(
      [
        () => this.mongo.isHealthy('mongodb'),
        () => this.redis.isHealthy('redis'),
        this.optional('telegram', TELEGRAM_POOL),
        this.optional('github', GITHUB_POOL),
      ],
      true,
    );
  }

  /** Startup: first successful connections (latched). */
  @Get('startup')
  async startupProbe(): Promise<HealthCheckResult> {
    if (this.startup.isStarted) {
      const started = this.indicator.check('startup').up({ started: true });
      return { status: 'ok', info: started, error: {}, details: started };
    }
    const result = await this.run(
      [
        () => this.mongo.isHealthy('mongodb'),
        () => this.redis.isHealthy('redis'),
        async () =>
          await this.indicator
            .check('indexes')
            .attempt(async () => {
              await this.startup.ensureIndexes();
              return { collection: 'snippets' };
            })
            .withTimeout(2000),
      ],
      false,
    );
    this.startup.markStarted();
    return result;
  }

  /** Everything, with pool statistics. */
  @Get()
  async full(): Promise<HealthCheckResult> {
    this.refuseWhileShuttingDown();
    return this.run(
      [
        async () => {
          const result = await this.mongo.isHealthy('mongodb');
          const stats = await this.mongoPools.getPoolStats().catch(() => undefined);
          return this.withStats(result, 'mongodb', stats);
        },
        async () => {
          const result = await this.redis.isHealthy('redis');
          return this.withStats(
            result,
            'redis',
            this.safe(() => this.redisPools.getPoolStats()),
          );
        },
        this.optional('telegram', TELEGRAM_POOL, true),
        this.optional('github', GITHUB_POOL, true),
        () =>
          Promise.resolve(
            this.indicator.check('process').up({
              uptimeSeconds: Math.round(process.uptime()),
              phase: this.readiness.phase,
              rssBytes: process.memoryUsage().rss,
            }),
          ),
      ],
      true,
    );
  }

  private refuseWhileShuttingDown(): void {
    if (!this.readiness.isShuttingDown()) return;
    this.gauges.setReady(false);
    const shutdown = this.indicator.check('shutdown').down({ phase: this.readiness.phase });
    throw new ServiceUnavailableException({
      status: 'shutting_down',
      info: {},
      error: shutdown,
      details: shutdown,
    } satisfies HealthCheckResult);
  }

  private async run(checks: Check[], recordReadiness: boolean): Promise<HealthCheckResult> {
    try {
      const result = await this.health.check(checks);
      this.record(result, recordReadiness, true);
      return result;
    } catch (error) {
      if (
        error instanceof HttpException &&
        error.getStatus() === (HttpStatus.SERVICE_UNAVAILABLE as number)
      ) {
        this.record(error.getResponse() as HealthCheckResult, recordReadiness, false);
      }
      throw error;
    }
  }

  private record(result: HealthCheckResult, recordReadiness: boolean, ok: boolean): void {
    for (const dependency of ['mongodb', 'redis', 'telegram', 'github'] as const) {
      const detail = result.details?.[dependency] as { status?: string } | undefined;
      if (detail) this.gauges.setDependency(dependency, detail.status === 'up');
    }
    if (recordReadiness) this.gauges.setReady(ok && !this.readiness.isShuttingDown());
  }

  /** An optional dependency: the indicator reports `down` as `degraded`, so readiness stays 200. */
  private optional(key: 'telegram' | 'github', pool: string, withStats = false): Check {
    return async () => {
      const result = await this.http.isHealthy(key, { name: pool, optional: true });
      if (!withStats) return result;
      return this.withStats(
        result,
        key,
        this.safe(() => this.httpPools.getPoolStats(pool)),
        false,
      );
    };
  }

  private withStats(
    result: HealthIndicatorResult,
    key: string,
    stats: unknown,
    required = true,
  ): HealthIndicatorResult {
    const detail = { ...(result[key] as Record<string, unknown>) };
    const status = detail.status;
    delete detail.status;
    detail.stats = stats === undefined ? undefined : redactObject(stats);
    detail.required = required;
    const session = this.indicator.check(key);
    return status === 'up'
      ? session.up(detail)
      : status === 'degraded'
        ? session.degraded(detail)
        : session.down(detail);
  }

  private safe<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch {
      return undefined;
    }
  }
}
