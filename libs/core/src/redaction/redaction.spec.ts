import {
  isSecretEnvName,
  isSecretKey,
  redact,
  REDACTED,
  redactEnvValue,
  redactObject,
  redactUrl,
} from './index.js';

describe('redactUrl', () => {
  it.each([
    ['mongodb://user:pass@host:27017/db', 'mongodb://user:***@host:27017/db'],
    [
      'mongodb+srv://app:s3cr3t@cluster0.x.mongodb.net/db?tls=true',
      'mongodb+srv://app:***@cluster0.x.mongodb.net/db?tls=true',
    ],
    [
      'mongodb://u:p@h1:27017,h2:27017/db?replicaSet=rs0',
      'mongodb://u:***@h1:27017,h2:27017/db?replicaSet=rs0',
    ],
    ['redis://:hunter2@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['rediss://default:pw@cache:6380', 'rediss://default:***@cache:6380'],
    ['redis://localhost:6379/0', 'redis://localhost:6379/0'],
    ['redis://user@cache:6379', 'redis://user@cache:6379'],
    ['https://api.example.com/v1?api_key=abc&x=1', 'https://api.example.com/v1?api_key=***&x=1'],
    ['https://h/p?token=abc#frag', 'https://h/p?token=***#frag'],
    [
      'mongodb://u:p@h/db?authSource=admin&password=zz',
      'mongodb://u:***@h/db?authSource=admin&password=***',
    ],
    ['not a url', 'not a url'],
    ['mongodb://app:hunter2', 'mongodb://app:***'],
    ['mongodb://h1:27017,h2:27018/db', 'mongodb://h1:27017,h2:27018/db'],
    ['redis://[::1]:6379', 'redis://[::1]:6379'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });

  it.each(['redis://:pa/ss@host:6379', 'redis://:pa?ss@host:6379', 'redis://:pa#ss@host:6379'])(
    'never leaks an unencoded password with URL delimiters (%s)',
    (input) => {
      expect(redactUrl(input)).not.toMatch(/pa|ss@/);
      expect(redactUrl(input)).toContain('@host:6379');
    },
  );
});

describe('redact', () => {
  it('masks URLs, assignments and token shapes inside free text', () => {
    const text =
      'connect mongodb://a:sec1@h/db failed; token=abc123 Authorization: Bearer abcdefghijkl ' +
      'bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1 REDIS_SENTINEL_PASSWORD=zz9 ' +
      'ghp_abcdefghijklmnopqrstuvwxyz0123 eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4';
    const out = redact(text);
    for (const secret of ['sec1', 'abc123', 'abcdefghijkl', 'AAHdqTcv', 'zz9', 'ghp_', 'eyJ']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('mongodb://a:***@h/db');
    expect(out).toContain('Bearer ***');
  });

  it('is idempotent and leaves ordinary text alone', () => {
    const once = redact('password=x and redis://:y@h');
    expect(redact(once)).toBe(once);
    expect(redact('pool "default" timed out after 500 ms')).toBe(
      'pool "default" timed out after 500 ms',
    );
  });
});

describe('redactEnvValue', () => {
  it.each([
    ['REDIS_SENTINEL_PASSWORD', 'pw', REDACTED],
    ['TELEGRAM_BOT_TOKEN', '1:abc', REDACTED],
    ['WEBHOOK_SECRET', 'x', REDACTED],
    ['DB_PASSWD', 'x', REDACTED],
    ['MONGODB_URL', 'mongodb://u:p@h/db', 'mongodb://u:***@h/db'],
    ['MONGODB_MAX_POOL_SIZE', '100', '100'],
    ['REDIS_SENTINEL_PASSWORD', '', ''],
  ])('%s=%s → %s', (name, value, expected) => {
    expect(redactEnvValue(name, value)).toBe(expected);
  });

  it('recognises secret names', () => {
    expect(isSecretEnvName('OPENAI_API_KEY')).toBe(true);
    expect(isSecretEnvName('TOKEN')).toBe(true);
    expect(isSecretEnvName('HTTP_TIMEOUT_TOTAL')).toBe(false);
    expect(isSecretEnvName('REDIS_SENTINEL_NAME')).toBe(false);
    expect(isSecretKey('sentinelPassword')).toBe(true);
    expect(isSecretKey('apiToken')).toBe(true);
    expect(isSecretKey('GITHUB_TOKEN')).toBe(true);
    expect(isSecretKey('maxPoolSize')).toBe(false);
  });
});

describe('redactObject', () => {
  it('deep-copies with secret keys and secret-bearing strings masked', () => {
    const input = {
      url: 'redis://:x1@h:6379',
      sentinelPassword: 'q2',
      nested: [{ token: 't3', n: 1, ok: true }],
      map: new Map([['apiKey', 'k4']]),
      headers: { Authorization: 'Bearer abcdefghijkl', accept: 'json' },
    };
    const out = redactObject(input);
    expect(JSON.stringify(out)).not.toMatch(/x1|q2|t3|abcdefghijkl/);
    expect(out.map.get('apiKey')).toBe(REDACTED);
    expect(out.nested[0]).toEqual({ token: REDACTED, n: 1, ok: true });
    expect(out.headers.accept).toBe('json');
    expect(input.sentinelPassword).toBe('q2');
  });

  it('handles cycles and errors', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const out = redactObject(a);
    expect(out.self).toBe(out);
    const err = redactObject(new TypeError('bad mongodb://u:pw9@h'));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('bad mongodb://u:***@h');
    expect(err.stack).not.toContain('pw9');
  });
});
