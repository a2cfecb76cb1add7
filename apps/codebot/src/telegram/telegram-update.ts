/** The subset of Telegram's `User` CodeBot reads. */
export interface TelegramUser {
  id: number;
  is_bot?: boolean;
  first_name?: string;
  username?: string;
}

/** The subset of Telegram's `Chat` CodeBot reads. */
export interface TelegramChat {
  id: number;
  type: string;
}

/** The subset of Telegram's `Message` CodeBot reads. */
export interface TelegramMessage {
  message_id: number;
  date?: number;
  from?: TelegramUser;
  chat: TelegramChat;
  text?: string;
  caption?: string;
  reply_to_message?: TelegramMessage;
}

/** A Telegram Bot API `Update` as delivered to the webhook. */
export interface TelegramUpdate {
  update_id: number;
  message?: TelegramMessage;
  edited_message?: TelegramMessage;
}

/** Names of the commands CodeBot understands. */
export const BOT_COMMANDS = [
  'start',
  'help',
  'save',
  'get',
  'list',
  'delete',
  'import',
  'share',
] as const;

/** One of {@link BOT_COMMANDS}. */
export type BotCommandName = (typeof BOT_COMMANDS)[number];

/** A command parsed out of a message. */
export interface BotCommand {
  /** Command name, or `'unknown'` for a slash word CodeBot does not know. */
  name: BotCommandName | 'unknown';
  /** The slash word as written (without the `@botname` suffix). */
  word: string;
  /** First argument (snippet name, gist id…), empty when absent. */
  arg: string;
  /** Everything after the first argument: `/save name <code>`. */
  rest: string;
  /** Text of the message replied to, when any. */
  replyText?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessage(value: unknown): value is TelegramMessage {
  return (
    isRecord(value) &&
    typeof value.message_id === 'number' &&
    isRecord(value.chat) &&
    typeof value.chat.id === 'number' &&
    (value.text === undefined || typeof value.text === 'string') &&
    (value.from === undefined || (isRecord(value.from) && typeof value.from.id === 'number'))
  );
}

/**
 * Checks the shape of a webhook body. Returns the update, or a list of what is wrong so the
 * webhook can answer 400 with field names.
 */
export function parseTelegramUpdate(
  body: unknown,
): { update: TelegramUpdate; errors?: undefined } | { update?: undefined; errors: string[] } {
  if (!isRecord(body)) return { errors: ['body must be a JSON object (a Telegram Update)'] };
  const errors: string[] = [];
  if (!Number.isSafeInteger(body.update_id) || (body.update_id as number) < 0) {
    errors.push('update_id must be a non-negative integer');
  }
  for (const field of ['message', 'edited_message'] as const) {
    const value = body[field];
    if (value !== undefined && !isMessage(value)) {
      errors.push(`${field} must be a Telegram Message with message_id and chat.id`);
    }
    if (isRecord(value) && value.reply_to_message !== undefined) {
      if (!isMessage(value.reply_to_message)) {
        errors.push(`${field}.reply_to_message must be a Telegram Message`);
      }
    }
  }
  if (errors.length > 0) return { errors };
  return { update: body as unknown as TelegramUpdate };
}

/** The message of an update CodeBot acts on (new or edited), if any. */
export function messageOf(update: TelegramUpdate): TelegramMessage | undefined {
  return update.message ?? update.edited_message;
}

/**
 * Parses `/command[@bot] arg rest…`. Returns undefined for text that is not a command.
 * `rest` keeps its line breaks (it is code) but loses the separator after `arg`.
 */
export function parseCommand(message: TelegramMessage): BotCommand | undefined {
  const text = message.text ?? message.caption ?? '';
  const match = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:[ \t]+|(?=\n)|$)/.exec(text);
  if (!match) return undefined;
  const word = (match[1] ?? '').toLowerCase();
  const afterCommand = text.slice(match[0].length);
  const argMatch = /^[ \t]*(\S*)/.exec(afterCommand);
  const arg = argMatch?.[1] ?? '';
  let rest = afterCommand.slice(argMatch?.[0].length ?? 0);
  // One separator (a space or the line break) belongs to the command line, not to the code.
  rest = rest.replace(/^[ \t]*\r?\n/, '').replace(/^[ \t]/, '');
  const name = (BOT_COMMANDS as readonly string[]).includes(word)
    ? (word as BotCommandName)
    : 'unknown';
  const reply = message.reply_to_message;
  const replyText = reply?.text ?? reply?.caption;
  return { name, word, arg, rest, ...(replyText !== undefined ? { replyText } : {}) };
}
