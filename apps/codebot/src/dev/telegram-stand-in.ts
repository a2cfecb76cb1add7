import type { IncomingMessage, ServerResponse } from 'node:http';

import { LocalJsonServer, readJson, sendJson } from './json-server.js';

/** One `sendMessage` call as received. */
export interface RecordedMessage {
  chat_id: number;
  text: string;
  reply_to_message_id?: number;
  at: number;
}

/**
 * Local stand-in for the Telegram Bot API: accepts `getMe` and `sendMessage` for one token and
 * records the messages. `GET /__messages?chat_id=` returns them (development and tests only).
 */
export class TelegramStandIn extends LocalJsonServer {
  /** Every message sent, oldest first. */
  readonly messages: RecordedMessage[] = [];

  constructor(private readonly token: string) {
    super();
  }

  /** Messages sent to one chat. */
  messagesFor(chatId: number): RecordedMessage[] {
    return this.messages.filter((m) => m.chat_id === chatId);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method === 'GET' && url.pathname === '/__messages') {
      const chat = url.searchParams.get('chat_id');
      sendJson(res, 200, chat ? this.messagesFor(Number(chat)) : this.messages);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/') {
      // What health checks request: the API root, which needs no token.
      return sendJson(res, 200, { ok: true, description: 'Telegram Bot API stand-in' });
    }
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!match) return sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== this.token) {
      return sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const method = match[2];
    if (method === 'getMe') {
      return sendJson(res, 200, {
        ok: true,
        result: { id: Number(this.token.split(':')[0]), is_bot: true, username: 'codebot_local' },
      });
    }
    if (method === 'sendMessage' && req.method === 'POST') {
      const body = (await readJson(req)) as Record<string, unknown> | undefined;
      if (typeof body?.chat_id !== 'number' || typeof body.text !== 'string' || !body.text) {
        return sendJson(res, 400, {
          ok: false,
          error_code: 400,
          description: 'Bad Request: chat_id and non-empty text are required',
        });
      }
      const reply = body.reply_parameters as { message_id?: unknown } | undefined;
      const record: RecordedMessage = {
        chat_id: body.chat_id,
        text: body.text,
        ...(typeof reply?.message_id === 'number' ? { reply_to_message_id: reply.message_id } : {}),
        at: Date.now(),
      };
      this.messages.push(record);
      return sendJson(res, 200, {
        ok: true,
        result: { message_id: this.messages.length, chat: { id: body.chat_id }, text: body.text },
      });
    }
    sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
  }
}
