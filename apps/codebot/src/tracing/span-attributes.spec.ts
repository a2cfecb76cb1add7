import { outboundUrlAttributes, redactSpanPath, redactSpanUrl } from './span-attributes.js';

describe('span URL redaction', () => {
  it('masks the Bot API token path segment, userinfo passwords and secret query values', () => {
    expect(redactSpanUrl('https://api.telegram.org/bot777:short-token/sendMessage')).toBe(
      'https://api.telegram.org/bot***/sendMessage',
    );
    expect(redactSpanUrl('http://user:pa55@host:8080/x?access_token=abc&page=2')).toBe(
      'http://user:***@host:8080/x?access_token=***&page=2',
    );
    expect(redactSpanUrl('http://127.0.0.1:9000/gists/aa5a315d61ae9438b18d')).toBe(
      'http://127.0.0.1:9000/gists/aa5a315d61ae9438b18d',
    );
  });

  it('masks only Bot API token segments in paths', () => {
    expect(redactSpanPath('/bot100000:development-token/sendMessage')).toBe('/bot***/sendMessage');
    expect(redactSpanPath('/api/snippets/botany/bot1.js')).toBe('/api/snippets/botany/bot1.js');
  });

  it('gives url.full, url.path and url.query of the masked URL', () => {
    expect(outboundUrlAttributes('http://127.0.0.1:81/bot1:t/getMe?token=x')).toEqual({
      'url.full': 'http://127.0.0.1:81/bot***/getMe?token=***',
      'url.path': '/bot***/getMe',
      'url.query': '?token=***',
    });
  });
});
