import type { HttpService } from '@nestjs/axios';
import { isAxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';

/** Telegram's limit on one message's text. */
export const TELEGRAM_MAX_TEXT = 4096;

/** A `sendMessage` call failed; the message never names the token-bearing URL. */
export class TelegramSendError extends Error {
  override readonly name = 'TelegramSendError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Cuts text to Telegram's limit, marking the cut. */
export function fitTelegramText(text: string): string {
  if (text.length <= TELEGRAM_MAX_TEXT) return text;
  const marker = '\n… (truncated)';
  return text.slice(0, TELEGRAM_MAX_TEXT - marker.length) + marker;
}

/** The Bot API over the `telegram` HTTP pool (base URL `TELEGRAM_API_URL`). */
export class TelegramClient {
  constructor(
    private readonly http: HttpService,
    private readonly token: string,
  ) {}

  /** `sendMessage` to `chatId`, optionally as a reply. */
  async sendMessage(chatId: number, text: string, replyToMessageId?: number): Promise<void> {
    try {
      await firstValueFrom(
        this.http.post(`/bot${this.token}/sendMessage`, {
          chat_id: chatId,
          text: fitTelegramText(text),
          ...(replyToMessageId !== undefined
            ? {
                reply_parameters: {
                  message_id: replyToMessageId,
                  allow_sending_without_reply: true,
                },
              }
            : {}),
        }),
      );
    } catch (error) {
      if (isAxiosError(error)) {
        throw error.response
          ? new TelegramSendError(
              `Telegram answered ${error.response.status}`,
              error.response.status,
            )
          : new TelegramSendError(`Telegram unreachable (${error.code ?? 'network error'})`);
      }
      throw new TelegramSendError(error instanceof Error ? error.name : 'sendMessage failed');
    }
  }
}
