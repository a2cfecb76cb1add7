import { redact, redactUrl } from '@nest-pools/core';

/** A Telegram Bot API path carries the bot token (`<bot id>:<secret>`): `/bot<token>/sendMessage`. */
const BOT_TOKEN_PATH = /\/bot\d+:[^/?#]*/g;

/**
 * A URL as it may appear in a span attribute: userinfo passwords, secret query parameters,
 * well-known token shapes and the Bot API's `/bot<token>` path segment masked.
 *
 * @example redactSpanUrl('https://api.telegram.org/bot123:abc/sendMessage') // 'https://api.telegram.org/bot***\/sendMessage'
 */
export function redactSpanUrl(url: string): string {
  return redactSpanPath(redact(redactUrl(url)));
}

/**
 * The `url.path` of an incoming request, the Bot API's `/bot<token>` segment masked (in
 * development the Telegram stand-in serves in CodeBot's own process).
 */
export function redactSpanPath(path: string): string {
  return path.replace(BOT_TOKEN_PATH, '/bot***');
}

/**
 * The `url.full`, `url.path` and `url.query` attributes of an outbound request, masked with
 * {@link redactSpanUrl} (the HTTP client instrumentations record them as sent).
 */
export function outboundUrlAttributes(full: string): Record<string, string> {
  const masked = redactSpanUrl(full);
  const attributes: Record<string, string> = { 'url.full': masked };
  try {
    const url = new URL(masked);
    attributes['url.path'] = url.pathname;
    attributes['url.query'] = url.search;
  } catch {
    // Not a URL: url.full alone is recorded, masked.
  }
  return attributes;
}
