import {
  type EnvSource,
  PoolMetricsModule,
  type ShutdownDeadlineReport,
  ShutdownModule,
} from '@nest-pools/core';
import { parseHttpPoolConfig } from '@nest-pools/http';
import { getHttpPoolToken, HttpPoolModule } from '@nest-pools/http';
import { MongoPoolModule } from '@nest-pools/mongo';
import { getRedisPoolToken, RedisPoolModule } from '@nest-pools/redis';
import type { HttpService } from '@nestjs/axios';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { getModelToken, MongooseModule } from '@nestjs/mongoose';
import { TerminusModule } from '@nestjs/terminus';

import { ApiKeyGuard } from './auth/api-key.guard.js';
import { connectionPerCommand } from './bench/defeated-pooling.js';
import { BotService } from './bot/bot.service.js';
import { TelegramWebhookController } from './bot/telegram-webhook.controller.js';
import {
  CODEBOT_REDIS,
  GITHUB_POOL,
  SNIPPET_MODEL_TOKEN,
  TELEGRAM_POOL,
} from './codebot.tokens.js';
import { APP_CONFIG, type AppConfig } from './config/app-config.js';
import { validateEnvironment } from './config/validate-environment.js';
import { EMBEDDED_SERVICES, type EmbeddedService } from './dev/embedded-services.js';
import { DependencyUnavailableFilter } from './errors/dependency-unavailable.filter.js';
import { GistsClient } from './github/gists.client.js';
import { HealthController } from './health/health.controller.js';
import { HealthGauges } from './health/health-gauges.js';
import { StartupState } from './health/startup-state.js';
import { AppMetrics } from './metrics/app-metrics.service.js';
import { HttpServerMetrics } from './metrics/http-server-metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsServer } from './metrics/metrics-server.js';
import { EmbeddedShutdown } from './shutdown/embedded-shutdown.service.js';
import { RateLimitGuard } from './snippets/rate-limit.guard.js';
import { SNIPPET_MODEL, SnippetSchema } from './snippets/snippet.schema.js';
import { SnippetImportService } from './snippets/snippet-import.service.js';
import { SnippetsController } from './snippets/snippets.controller.js';
import { SnippetsService } from './snippets/snippets.service.js';
import { TelegramClient } from './telegram/telegram.client.js';
import type { Tracing } from './tracing/tracing.js';
import { TRACING, TracingShutdown } from './tracing/tracing-shutdown.service.js';

/**
 * Each client's own socket limit per host, unless the operator set one for all clients
 * (`HTTP_LIMIT_PER_HOST` or its aliases); never above the total `poolLimit` in force.
 */
function perHostLimit(clientDefault: number): { limitPerHost?: number } {
  const env = process.env;
  if (env.HTTP_LIMIT_PER_HOST || env.AIOHTTP_LIMIT_PER_HOST || env.REQUESTS_POOL_CONNECTIONS) {
    return {};
  }
  return { limitPerHost: Math.min(clientDefault, parseHttpPoolConfig(env).poolLimit) };
}

/** What {@link AppModule.register} needs besides the validated settings. */
export interface AppModuleOptions {
  /** Validated settings. */
  config: AppConfig;
  /** Development servers to stop with the app. */
  embedded?: EmbeddedService[];
  /** Called when shutdown passes its deadline, with what was still open. */
  onShutdownDeadline?: (report: ShutdownDeadlineReport) => void;
  /** The OpenTelemetry SDK `main.ts` started; flushed at the end of shutdown. Unset: tracing off. */
  tracing?: Tracing;
}

/**
 * CodeBot: the Telegram webhook and snippet REST API over three pools — MongoDB (snippets), Redis
 * (cache, rate limit, update de-duplication) and two HTTP clients (Telegram, GitHub) — with
 * Kubernetes health endpoints, Prometheus metrics and graceful shutdown.
 *
 * @example
 * const app = await NestFactory.create(AppModule.register({ config }));
 */
@Module({})
export class AppModule {
  /** Builds the application module from validated settings. */
  static register({
    config,
    embedded = [],
    onShutdownDeadline,
    tracing,
  }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        // main.ts loaded .env into process.env already. The same check bootstrap.ts ran guards every
        // ConfigService reader too (e.g. after development mode filled in the pool URLs).
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          validate: (env: Record<string, unknown>) => {
            validateEnvironment(env as EnvSource);
            return env;
          },
        }),
        PoolMetricsModule,
        TerminusModule.forRoot({ errorLogStyle: 'pretty' }),
        ShutdownModule.forRoot({
          drainDelayMs: config.shutdownDrainDelayMs,
          timeoutMs: config.shutdownTimeoutMs,
          ...(onShutdownDeadline ? { onDeadline: onShutdownDeadline } : {}),
        }),
        MongoPoolModule.forRootAsync(),
        MongooseModule.forFeature([{ name: SNIPPET_MODEL, schema: SnippetSchema }]),
        RedisPoolModule.forRootAsync(),
        HttpPoolModule.forRootAsync({
          name: TELEGRAM_POOL,
          useFactory: () => ({
            baseURL: config.telegramApiUrl,
            // sendMessage is a POST: retried only on answers that prove it was not processed.
            retries: 2,
            retryNonIdempotent: false,
            ...perHostLimit(20),
            healthUrl: `${config.telegramApiUrl}/`,
          }),
        }),
        HttpPoolModule.forRootAsync({
          name: GITHUB_POOL,
          useFactory: () => ({
            baseURL: config.githubApiUrl,
            retries: 3,
            retryNonIdempotent: false,
            ...perHostLimit(10),
            userAgent: 'CodeBot (nest-pools)',
            healthUrl: `${config.githubApiUrl}/`,
          }),
        }),
      ],
      controllers: [
        TelegramWebhookController,
        SnippetsController,
        HealthController,
        MetricsController,
      ],
      providers: [
        // A pool that cannot serve (open circuit, selection or wait-queue timeout) answers 503.
        { provide: APP_FILTER, useClass: DependencyUnavailableFilter },
        { provide: APP_CONFIG, useValue: config },
        { provide: EMBEDDED_SERVICES, useValue: embedded },
        { provide: TRACING, useValue: tracing ?? null },
        // CODEBOT_BENCH_DEFEAT_POOLING (benchmarks only, refused in production): no shared client.
        config.benchDefeatPooling
          ? {
              provide: CODEBOT_REDIS,
              useFactory: () => connectionPerCommand(process.env.REDIS_URL ?? ''),
            }
          : { provide: CODEBOT_REDIS, useExisting: getRedisPoolToken() },
        { provide: SNIPPET_MODEL_TOKEN, useExisting: getModelToken(SNIPPET_MODEL) },
        {
          provide: TelegramClient,
          inject: [getHttpPoolToken(TELEGRAM_POOL)],
          useFactory: (http: HttpService) => new TelegramClient(http, config.telegramBotToken),
        },
        {
          provide: GistsClient,
          inject: [getHttpPoolToken(GITHUB_POOL)],
          useFactory: (http: HttpService) => new GistsClient(http, config.githubToken),
        },
        SnippetsService,
        SnippetImportService,
        BotService,
        ApiKeyGuard,
        RateLimitGuard,
        StartupState,
        HealthGauges,
        AppMetrics,
        HttpServerMetrics,
        MetricsServer,
        EmbeddedShutdown,
        TracingShutdown,
      ],
    };
  }
}
