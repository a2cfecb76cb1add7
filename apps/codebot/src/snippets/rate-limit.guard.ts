import { redact } from '@nest-pools/core';
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
} from '@nestjs/common';
import type { Request, Response } from 'express';

import { CODEBOT_REDIS } from '../codebot.tokens.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { consumeRateLimit, type RedisCommands } from '../redis/redis-commands.js';
import { OWNER_PATTERN } from './snippet.validation.js';

function ownerOf(req: Request): string | undefined {
  const params = req.params as Record<string, string | undefined>;
  const query = req.query as Record<string, unknown>;
  const body = req.body as Record<string, unknown> | undefined;
  const candidate = params.owner ?? query.owner ?? body?.owner;
  return typeof candidate === 'string' && OWNER_PATTERN.test(candidate) ? candidate : undefined;
}

/**
 * Per-owner fixed-window rate limit in Redis. Answers 429 with `Retry-After` (seconds). Requests
 * without a valid owner pass through so validation can name the field; if Redis is unreachable the
 * limit is not enforced (readiness already reports Redis down), rather than failing every request.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);

  constructor(
    @Inject(CODEBOT_REDIS) private readonly redis: RedisCommands,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const owner = ownerOf(req);
    if (!owner) return true;
    let decision;
    try {
      decision = await consumeRateLimit(
        this.redis,
        owner,
        this.config.rateLimitMax,
        this.config.rateLimitWindowMs,
      );
    } catch (error) {
      this.logger.warn(`Rate limit not enforced, Redis failed: ${redact(String(error))}`);
      return true;
    }
    res.setHeader('X-RateLimit-Limit', String(this.config.rateLimitMax));
    res.setHeader('X-RateLimit-Remaining', String(decision.remaining));
    if (decision.allowed) return true;
    const retryAfter = Math.max(1, Math.ceil(decision.resetMs / 1000));
    res.setHeader('Retry-After', String(retryAfter));
    throw new HttpException(
      {
        statusCode: HttpStatus.TOO_MANY_REQUESTS,
        error: 'Too Many Requests',
        message: `Rate limit of ${this.config.rateLimitMax} requests per ${this.config.rateLimitWindowMs} ms reached for ${owner}; retry after ${retryAfter} s.`,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
