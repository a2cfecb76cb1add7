// The anchors app: CodeBot's snippet endpoints and readiness probe wired the way the anchor
// packages' READMEs show — `MongooseModule.forRoot(url)` (@nestjs/mongoose), `RedisModule.forRoot`
// (@nestjs-modules/ioredis), `HttpModule.register` (@nestjs/axios) and Terminus's own health
// indicators, all with default options — instead of nest-pools. The controller, guards and
// services are CodeBot's own compiled classes, so both apps run the same endpoint code and differ
// only in how the pools are made. Plain JavaScript (decorators applied as functions), started by
// the benchmarks as a child process; it prints the same ready line as CodeBot.
import 'reflect-metadata';

import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import {
  HealthCheckService,
  HttpHealthIndicator,
  MongooseHealthIndicator,
  TerminusModule,
} from '@nestjs/terminus';
import {
  InjectRedis,
  RedisHealthIndicator,
  RedisHealthModule,
  RedisModule,
} from '@nestjs-modules/ioredis';

import { ApiKeyGuard } from '../../apps/codebot/dist/auth/api-key.guard.js';
import { CODEBOT_REDIS, SNIPPET_MODEL_TOKEN } from '../../apps/codebot/dist/codebot.tokens.js';
import { APP_CONFIG, parseAppConfig } from '../../apps/codebot/dist/config/app-config.js';
import { DependencyUnavailableFilter } from '../../apps/codebot/dist/errors/dependency-unavailable.filter.js';
import { GistsClient } from '../../apps/codebot/dist/github/gists.client.js';
import { RateLimitGuard } from '../../apps/codebot/dist/snippets/rate-limit.guard.js';
import { SNIPPET_MODEL, SnippetSchema } from '../../apps/codebot/dist/snippets/snippet.schema.js';
import { SnippetImportService } from '../../apps/codebot/dist/snippets/snippet-import.service.js';
import { SnippetsController } from '../../apps/codebot/dist/snippets/snippets.controller.js';
import { SnippetsService } from '../../apps/codebot/dist/snippets/snippets.service.js';

const env = process.env;
const { config, issues } = parseAppConfig(env, 'production');
if (!config) {
  process.stderr.write(`anchors app: bad settings ${JSON.stringify(issues)}\n`);
  process.exit(1);
}

/** `/health/ready` as Terminus's README shows it: one ping per dependency on every probe. */
class ReadyController {
  constructor(health, mongoose, redis, http) {
    this.health = health;
    this.mongoose = mongoose;
    this.redis = redis;
    this.http = http;
  }

  ready() {
    return this.health.check([
      () => this.mongoose.pingCheck('mongodb'),
      () => this.redis.isHealthy('redis'),
      () => this.http.pingCheck('telegram', `${config.telegramApiUrl}/`),
      () => this.http.pingCheck('github', `${config.githubApiUrl}/`),
    ]);
  }
}
Controller('health')(ReadyController);
Get('ready')(
  ReadyController.prototype,
  'ready',
  Object.getOwnPropertyDescriptor(ReadyController.prototype, 'ready'),
);
Reflect.defineMetadata(
  'design:paramtypes',
  [HealthCheckService, MongooseHealthIndicator, RedisHealthIndicator, HttpHealthIndicator],
  ReadyController,
);

/** The app's Redis commands on the client `@InjectRedis()` gives (the README's usage). */
class RedisCommandsProvider {
  constructor(redis) {
    this.redis = redis;
  }
}
InjectRedis()(RedisCommandsProvider, undefined, 0);

class AnchorsModule {}
Module({
  imports: [
    MongooseModule.forRoot(env.MONGODB_URL),
    MongooseModule.forFeature([{ name: SNIPPET_MODEL, schema: SnippetSchema }]),
    RedisModule.forRoot({ type: 'single', url: env.REDIS_URL }),
    RedisHealthModule,
    HttpModule.register({ baseURL: config.githubApiUrl }),
    TerminusModule,
  ],
  controllers: [SnippetsController, ReadyController],
  providers: [
    { provide: APP_FILTER, useClass: DependencyUnavailableFilter },
    { provide: APP_CONFIG, useValue: config },
    RedisCommandsProvider,
    {
      provide: CODEBOT_REDIS,
      inject: [RedisCommandsProvider],
      useFactory: (holder) => holder.redis,
    },
    { provide: SNIPPET_MODEL_TOKEN, inject: [`${SNIPPET_MODEL}Model`], useFactory: (m) => m },
    {
      provide: GistsClient,
      inject: [HttpService],
      useFactory: (http) => new GistsClient(http, config.githubToken),
    },
    SnippetsService,
    SnippetImportService,
    ApiKeyGuard,
    RateLimitGuard,
  ],
})(AnchorsModule);

const app = await NestFactory.create(AnchorsModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
const server = await app.listen(Number(env.PORT ?? 0), '127.0.0.1');
process.stdout.write(`CODEBOT_READY port=${server.address().port}\n`);
