import { createHash, timingSafeEqual } from 'node:crypto';

import { redact } from '@nest-pools/core';
import {
  BadRequestException,
  Body,
  Controller,
  Headers,
  HttpCode,
  Inject,
  Logger,
  Post,
  UnauthorizedException,
} from '@nestjs/common';

import { CODEBOT_REDIS } from '../codebot.tokens.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { asUnavailable } from '../errors/dependency-unavailable.filter.js';
import { forgetUpdate, markUpdateSeen, type RedisCommands } from '../redis/redis-commands.js';
import { TelegramClient } from '../telegram/telegram.client.js';
import { messageOf, parseTelegramUpdate } from '../telegram/telegram-update.js';
import { BotService } from './bot.service.js';

/** Webhook answer: Telegram only looks at the status code; the body helps humans and tests. */
export interface WebhookAnswer {
  ok: true;
  duplicate?: true;
  replied?: boolean;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  // Hash first so the comparison is constant-time regardless of length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** `POST /telegram/webhook`: Telegram Bot API updates. */
@Controller('telegram')
export class TelegramWebhookController {
  private readonly logger = new Logger(TelegramWebhookController.name);

  constructor(
    private readonly bot: BotService,
    private readonly telegram: TelegramClient,
    @Inject(CODEBOT_REDIS) private readonly redis: RedisCommands,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('webhook')
  @HttpCode(200)
  async webhook(
    @Headers('x-telegram-bot-api-secret-token') secret: string | undefined,
    @Body() body: unknown,
  ): Promise<WebhookAnswer> {
    const expected = this.config.telegramWebhookSecret;
    if (expected !== undefined && !sameSecret(secret, expected)) {
      throw new UnauthorizedException('Missing or wrong X-Telegram-Bot-Api-Secret-Token');
    }
    const parsed = parseTelegramUpdate(body);
    if (parsed.errors) {
      throw new BadRequestException({ statusCode: 400, message: parsed.errors.join('; ') });
    }
    const update = parsed.update;

    let first: boolean;
    try {
      first = await markUpdateSeen(this.redis, update.update_id, this.config.updateDedupeTtlMs);
    } catch (error) {
      // Without de-duplication a retry could run twice; a 503 makes Telegram retry later instead.
      this.logger.warn(`Update ${update.update_id} deferred: ${redact(String(error))}`);
      throw asUnavailable(error, 'Update store unavailable; retry later');
    }
    if (!first) return { ok: true, duplicate: true };

    const message = messageOf(update);
    if (!message) return { ok: true, replied: false };

    let reply: string | undefined;
    try {
      reply = await this.bot.reply(message);
    } catch (error) {
      // Nothing was answered: let Telegram's retry handle it from scratch.
      await forgetUpdate(this.redis, update.update_id).catch(() => undefined);
      this.logger.error(`Update ${update.update_id} failed: ${redact(String(error))}`);
      throw asUnavailable(error, 'Could not handle the update; retry later');
    }
    if (reply === undefined) return { ok: true, replied: false };
    try {
      await this.telegram.sendMessage(message.chat.id, reply, message.message_id);
      return { ok: true, replied: true };
    } catch (error) {
      // The command already took effect; retrying the update would apply it twice.
      this.logger.error(
        `Reply to update ${update.update_id} not delivered: ${redact((error as Error).message)}`,
      );
      return { ok: true, replied: false };
    }
  }
}
