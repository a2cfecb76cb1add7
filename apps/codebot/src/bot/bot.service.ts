import { Inject, Injectable } from '@nestjs/common';

import { CODEBOT_REDIS } from '../codebot.tokens.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { GistsClient } from '../github/gists.client.js';
import { consumeRateLimit, type RedisCommands } from '../redis/redis-commands.js';
import {
  checkName,
  languageFromName,
  MAX_CODE_LENGTH,
  parseGistId,
} from '../snippets/snippet.validation.js';
import { SnippetExistsError } from '../snippets/snippet-errors.js';
import { SnippetImportService } from '../snippets/snippet-import.service.js';
import { SnippetsService } from '../snippets/snippets.service.js';
import {
  type BotCommand,
  parseCommand,
  type TelegramMessage,
} from '../telegram/telegram-update.js';

/** Text of `/help` (also the tail of `/start`). */
export const HELP_TEXT = [
  'Commands:',
  '/save <name> <code> — save code (or reply to a message with /save <name>)',
  '/get <name> — show a snippet',
  '/list — your snippets',
  '/delete <name> — delete a snippet',
  '/import <gist id or URL> — import a GitHub gist',
  '/share <name> — publish a snippet as a secret gist',
  '/help — this list',
].join('\n');

/** Most snippets `/list` shows. */
export const LIST_LIMIT = 50;

/** Owner id of a Telegram user (chats fall back to the chat id for channel posts). */
export function ownerOf(message: TelegramMessage): string {
  return `tg:${message.from?.id ?? message.chat.id}`;
}

/** Turns one Telegram message into CodeBot's reply text (undefined: nothing to say). */
@Injectable()
export class BotService {
  constructor(
    private readonly snippets: SnippetsService,
    private readonly importer: SnippetImportService,
    private readonly gists: GistsClient,
    @Inject(CODEBOT_REDIS) private readonly redis: RedisCommands,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Handles one message; throws only for infrastructure failures (the webhook retries those). */
  async reply(message: TelegramMessage): Promise<string | undefined> {
    const command = parseCommand(message);
    if (!command) {
      return message.chat.type === 'private' ? 'Send /help to see what I can do.' : undefined;
    }
    const owner = ownerOf(message);
    if (command.name !== 'start' && command.name !== 'help' && command.name !== 'unknown') {
      const limit = await consumeRateLimit(
        this.redis,
        owner,
        this.config.rateLimitMax,
        this.config.rateLimitWindowMs,
      );
      if (!limit.allowed) {
        return `Too many requests; try again in ${Math.ceil(limit.resetMs / 1000)} s.`;
      }
    }
    return this.run(command, owner);
  }

  private async run(command: BotCommand, owner: string): Promise<string> {
    switch (command.name) {
      case 'start':
        return `Hi! I keep your code snippets.\n\n${HELP_TEXT}`;
      case 'help':
        return HELP_TEXT;
      case 'save':
        return this.save(command, owner);
      case 'get': {
        const bad = this.badName(command, 'get');
        if (bad) return bad;
        const { snippet } = await this.snippets.get(owner, command.arg);
        return snippet ? snippet.code : `No snippet named "${command.arg}". Try /list.`;
      }
      case 'list': {
        const items = await this.snippets.list(owner, LIST_LIMIT);
        if (items.length === 0) return 'No snippets yet. Save one with /save <name> <code>.';
        return ['Your snippets:', ...items.map((s) => `• ${s.name} (${s.language})`)].join('\n');
      }
      case 'delete': {
        const bad = this.badName(command, 'delete');
        if (bad) return bad;
        const deleted = await this.snippets.delete(owner, command.arg);
        return deleted ? `Deleted "${command.arg}".` : `No snippet named "${command.arg}".`;
      }
      case 'import': {
        const gistId = command.arg ? parseGistId(command.arg) : undefined;
        if (!gistId) return 'Usage: /import <gist id or URL>';
        const result = await this.importer.importGist(owner, gistId);
        if (!result.ok) return result.message;
        const lines = result.imported.map((s) => `• ${s.name} (${s.language})`);
        const skipped = result.skipped.length
          ? `\nSkipped (name taken): ${result.skipped.join(', ')}`
          : '';
        return `Imported ${result.imported.length} file(s) from gist ${gistId}:\n${lines.join('\n')}${skipped}`;
      }
      case 'share': {
        const bad = this.badName(command, 'share');
        if (bad) return bad;
        const { snippet } = await this.snippets.get(owner, command.arg);
        if (!snippet) return `No snippet named "${command.arg}".`;
        try {
          const gist = await this.gists.createGist(
            `${snippet.name} (shared from CodeBot)`,
            snippet.name,
            snippet.code,
          );
          return `Shared "${snippet.name}": ${gist.url}`;
        } catch (error) {
          return `Could not share "${snippet.name}": ${(error as Error).message}.`;
        }
      }
      case 'unknown':
        return `Unknown command /${command.word}. Send /help.`;
    }
  }

  private badName(command: BotCommand, verb: string): string | undefined {
    if (!command.arg) return `Usage: /${verb} <name>`;
    if (checkName(command.arg)) {
      return `"${command.arg}" is not a valid name: use letters, digits, . _ - (up to 64).`;
    }
    return undefined;
  }

  private async save(command: BotCommand, owner: string): Promise<string> {
    const bad = this.badName(command, 'save');
    if (bad) return `${bad}\nUsage: /save <name> <code>, or reply to a message with /save <name>`;
    const code = command.rest.trim() ? command.rest : command.replyText;
    if (!code?.trim()) {
      return 'Nothing to save: put the code after the name, or reply to a message with /save <name>.';
    }
    if (code.length > MAX_CODE_LENGTH) return `Too long: at most ${MAX_CODE_LENGTH} characters.`;
    try {
      const saved = await this.snippets.create(
        { owner, name: command.arg, language: languageFromName(command.arg), code },
        'telegram',
      );
      const lines = saved.code.split('\n').length;
      return `Saved "${saved.name}" (${saved.language}, ${lines} line${lines === 1 ? '' : 's'}).`;
    } catch (error) {
      if (error instanceof SnippetExistsError) {
        return `"${command.arg}" already exists. /delete ${command.arg} first or pick another name.`;
      }
      throw error;
    }
  }
}
