import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { mintApiKey } from './auth/api-key.js';
import { DEVELOPMENT_BOT_TOKEN } from './config/app-config.js';
import { EXAMPLE_GIST_ID } from './dev/github-stand-in.js';
import { TelegramStandIn } from './dev/telegram-stand-in.js';
import type { TelegramMessage, TelegramUpdate } from './telegram/telegram-update.js';

const CHAT_ID = 4242;
/** The owner id the bot gives the demo user's snippets. */
const OWNER = `tg:${CHAT_ID}`;
const USER = { id: CHAT_ID, is_bot: false, first_name: 'Demo', username: 'demo_user' };

/** One step of the scripted conversation. */
interface Step {
  text: string;
  replyTo?: string;
  /** Send the previous update again (same update_id) to show de-duplication. */
  resend?: boolean;
}

const SCRIPT: Step[] = [
  { text: '/start' },
  { text: '/save hello.py print("Hello, CodeBot!")' },
  { text: 'const add = (a, b) => a + b;' },
  { text: '/save add.js', replyTo: 'const add = (a, b) => a + b;' },
  { text: '/list' },
  { text: '/get hello.py' },
  { text: '/save hello.py print("again")' },
  { text: '/import ' + EXAMPLE_GIST_ID },
  { text: '/share add.js' },
  { text: '/delete hello.py' },
  { text: '/delete hello.py', resend: true },
  { text: '/list' },
];

/**
 * `npm run demo`: starts CodeBot in development mode (embedded Redis, Mongo and GitHub stand-in,
 * or your MONGODB_URL/REDIS_URL), points it at a local Telegram stand-in, sends a scripted
 * conversation through the webhook and prints the transcript.
 */
async function demo(): Promise<void> {
  const token = process.env.TELEGRAM_BOT_TOKEN ?? DEVELOPMENT_BOT_TOKEN;
  const secret = randomBytes(12).toString('hex');
  // Yours if set, so keys you mint work against the demo; else a throwaway one.
  const apiTokenSecret = process.env.API_TOKEN_SECRET ?? randomBytes(32).toString('hex');
  const telegram = new TelegramStandIn(token);
  const telegramUrl = await telegram.start();
  const main = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      APP_ENV: 'development',
      PORT: '0',
      TELEGRAM_API_URL: telegramUrl,
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_WEBHOOK_SECRET: secret,
      API_TOKEN_SECRET: apiTokenSecret,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (log += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`CodeBot did not start:\n${log}`)), 60_000);
      child.stdout.on('data', () => {
        const match = /CODEBOT_READY port=(\d+)/.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      void exited.then((code) => reject(new Error(`CodeBot exited (${code}):\n${log}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${base}/health/startup`).catch(() => undefined);
      if (res?.ok) break;
      await sleep(200);
    }
    const started = log
      .split('\n')
      .filter(
        (l) =>
          l.includes('[CodeBot]') &&
          (l.includes(' dev ') || l.includes('listening') || l.includes('API keys')),
      )
      .map((l) => l.slice(l.indexOf('[CodeBot]') + '[CodeBot] '.length));
    started.push(
      `  demo     Telegram Bot API stand-in at ${telegramUrl} (records the replies below)`,
    );
    process.stdout.write(`${started.join('\n')}\n\n`);
    process.stdout.write('--- transcript (webhook → bot → sendMessage) ---\n');

    let updateId = 1000;
    let messageId = 1;
    let previous: TelegramUpdate | undefined;
    for (const step of SCRIPT) {
      const before = telegram.messagesFor(CHAT_ID).length;
      let update: TelegramUpdate;
      if (step.resend && previous) {
        update = previous;
      } else {
        const message: TelegramMessage = {
          message_id: messageId++,
          date: Math.floor(Date.now() / 1000),
          from: USER,
          chat: { id: CHAT_ID, type: 'private' },
          text: step.text,
          ...(step.replyTo
            ? {
                reply_to_message: {
                  message_id: messageId - 2,
                  from: USER,
                  chat: { id: CHAT_ID, type: 'private' },
                  text: step.replyTo,
                },
              }
            : {}),
        };
        update = { update_id: updateId++, message };
      }
      previous = update;
      const res = await fetch(`${base}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
        body: JSON.stringify(update),
      });
      const answer = (await res.json()) as { duplicate?: boolean };
      const label = step.replyTo ? `${step.text}   (as a reply)` : step.text;
      process.stdout.write(
        `\nyou> ${label}${step.resend ? `   (update ${update.update_id} again)` : ''}\n`,
      );
      if (answer.duplicate) {
        process.stdout.write('bot> (nothing: duplicate update_id, handled once)\n');
        continue;
      }
      const replies = telegram.messagesFor(CHAT_ID).slice(before);
      if (replies.length === 0) process.stdout.write('bot> (no reply)\n');
      for (const reply of replies) {
        process.stdout.write(`bot> ${reply.text.split('\n').join('\n     ')}\n`);
      }
    }
    process.stdout.write('\n--- end of transcript ---\n');
    await restWithKeys(base, apiTokenSecret);
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    const code = await exited;
    await telegram.close();
    process.stdout.write(`CodeBot stopped (exit code ${code}).\n`);
  }
}

/** The REST API on the snippets the conversation left: reads are public, writes need the owner's key. */
async function restWithKeys(base: string, apiTokenSecret: string): Promise<void> {
  process.stdout.write('\n--- REST API with API keys (npm run -s api-key -- <owner>) ---\n');
  const path = `/api/snippets/${OWNER}/add.js`;
  const steps: Array<{ label: string; method: string; path: string; key?: string }> = [
    { label: 'no key', method: 'GET', path: `/api/snippets?owner=${OWNER}` },
    { label: 'no key', method: 'DELETE', path },
    {
      label: 'key of someone-else',
      method: 'DELETE',
      path,
      key: mintApiKey('someone-else', apiTokenSecret),
    },
    { label: `key of ${OWNER}`, method: 'DELETE', path, key: mintApiKey(OWNER, apiTokenSecret) },
  ];
  for (const step of steps) {
    const res = await fetch(`${base}${step.path}`, {
      method: step.method,
      headers: step.key ? { authorization: `Bearer ${step.key}` } : {},
    });
    const text = await res.text();
    let detail = '';
    if (res.status === 200) {
      const { items } = JSON.parse(text) as { items: Array<{ name: string }> };
      detail = ` ${items.map((i) => i.name).join(', ')}`;
    } else if (res.status >= 400) {
      detail = ` ${(JSON.parse(text) as { message: string }).message}`;
    }
    process.stdout.write(
      `${step.method} ${step.path}   (${step.label})\n  → ${res.status}${detail}\n`,
    );
  }
}

demo().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
