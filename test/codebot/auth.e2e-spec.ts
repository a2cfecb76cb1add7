/* eslint-disable @typescript-eslint/no-unsafe-member-access -- response bodies are JSON checked field by field by the assertions */
import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { mintApiKey } from '../../apps/codebot/src/auth/api-key.js';
import { EXAMPLE_GIST_ID, GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  ROOT,
  runCodebotToExit,
  type RunningStack,
  stackEnv,
  startCodebot,
  startStack,
  waitForStartup,
} from './codebot-harness.js';

const execFileAsync = promisify(execFile);

const TOKEN = '777004:auth-test-token';
const SECRET = 'auth-e2e-current-secret-0123456789abcdef';
const PREVIOUS_SECRET = 'auth-e2e-previous-secret-fedcba987654321';
const FOREIGN_SECRET = 'auth-e2e-foreign-secret-not-this-deployment';

type Credential = 'missing' | 'malformed' | 'wrong signature' | "other owner's key" | 'right key';
type Operation = 'create' | 'import' | 'delete';

const CREDENTIALS: Credential[] = [
  'missing',
  'malformed',
  'wrong signature',
  "other owner's key",
  'right key',
];
const OPERATIONS: Operation[] = ['create', 'import', 'delete'];
const SUCCESS: Record<Operation, number> = { create: 201, import: 201, delete: 204 };

/** Every key and secret the suite sends: none may ever show up in logs, health or metrics. */
const sentKeys = new Set<string>();

/** The headers a request carries for `credential` when it writes to `owner`'s snippets. */
function headersFor(credential: Credential, owner: string): Record<string, string> {
  let key: string;
  switch (credential) {
    case 'missing':
      return {};
    case 'malformed':
      // A key shape the API never mints: no signature part.
      key = `${owner}-without-signature`;
      break;
    case 'wrong signature':
      key = mintApiKey(owner, FOREIGN_SECRET);
      break;
    case "other owner's key":
      key = mintApiKey('mallory', SECRET);
      break;
    case 'right key':
      key = mintApiKey(owner, SECRET);
      break;
  }
  sentKeys.add(key);
  return { authorization: `Bearer ${key}` };
}

function expectedStatus(credential: Credential, operation: Operation): number {
  if (credential === 'right key') return SUCCESS[operation];
  return credential === "other owner's key" ? 403 : 401;
}

describe('CodeBot API keys (built app as a child process)', () => {
  let stack: RunningStack;
  let app: CodebotProcess;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let base: string;

  beforeAll(async () => {
    await buildCodebot();
    stack = await startStack({
      telegram: new TelegramStandIn(TOKEN),
      github: new GitHubStandIn(),
      telegramToken: TOKEN,
    });
    app = await startCodebot(
      baseEnv({
        ...stackEnv(stack),
        API_TOKEN_SECRET: SECRET,
        API_TOKEN_PREVIOUS_SECRET: PREVIOUS_SECRET,
      }),
    );
    base = app.baseUrl;
    await waitForStartup(base);
  }, 240_000);

  afterAll(async () => {
    agent.destroy();
    const exit = await app?.stop('SIGTERM');
    await stack?.stop();
    expect(exit?.code).toBe(0);
  });

  const snippet = (owner: string, name: string) => ({
    owner,
    name,
    language: 'javascript',
    code: `export const owner = '${owner}';`,
  });
  const seed = async (owner: string, name: string) => {
    const res = await http(
      base,
      'POST',
      '/api/snippets',
      snippet(owner, name),
      headersFor('right key', owner),
      agent,
    );
    expect(res.status).toBe(201);
  };
  const exists = async (owner: string, name: string) =>
    (await http(base, 'GET', `/api/snippets/${owner}/${name}`, undefined, {}, agent)).status ===
    200;

  describe.each(OPERATIONS)('%s', (operation) => {
    it.each(CREDENTIALS)('with %s', async (credential) => {
      const owner = `${operation}-${credential.replace(/\W+/g, '-')}`.slice(0, 64);
      const headers = headersFor(credential, owner);
      let res;
      if (operation === 'create') {
        res = await http(base, 'POST', '/api/snippets', snippet(owner, 'a.js'), headers, agent);
      } else if (operation === 'import') {
        res = await http(
          base,
          'POST',
          '/api/snippets/import',
          { owner, gistId: EXAMPLE_GIST_ID },
          headers,
          agent,
        );
      } else {
        await seed(owner, 'a.js');
        res = await http(base, 'DELETE', `/api/snippets/${owner}/a.js`, undefined, headers, agent);
      }

      const expected = expectedStatus(credential, operation);
      expect(res.status).toBe(expected);
      if (expected === 401) {
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="codebot"/);
        expect(res.body.message).toEqual(expect.any(String));
        // Refused before the rate limit: a keyless caller cannot use up the owner's quota.
        expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
      }
      if (expected === 403) expect(res.body.message).toContain('belongs to "mallory"');
      for (const key of sentKeys) expect(res.text).not.toContain(key);

      // Only the right key changed anything.
      const written = credential === 'right key';
      if (operation === 'create') expect(await exists(owner, 'a.js')).toBe(written);
      if (operation === 'import') expect(await exists(owner, 'fib.js')).toBe(written);
      if (operation === 'delete') expect(await exists(owner, 'a.js')).toBe(!written);
    });
  });

  it('names what is wrong in WWW-Authenticate for each kind of refused key', async () => {
    const body = snippet('kinds', 'k.js');
    const missing = await http(base, 'POST', '/api/snippets', body, {}, agent);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="codebot"');
    const basic = await http(base, 'POST', '/api/snippets', body, {
      authorization: 'Basic a2luZHM6cHc=',
    });
    expect(basic.status).toBe(401);
    expect(basic.headers['www-authenticate']).toContain('error="invalid_token"');
    const forged = await http(
      base,
      'POST',
      '/api/snippets',
      body,
      headersFor('wrong signature', 'kinds'),
    );
    expect(forged.headers['www-authenticate']).toContain(
      'error_description="signature does not match"',
    );
  });

  it('accepts X-Api-Key, and keys of API_TOKEN_PREVIOUS_SECRET during a rotation', async () => {
    const key = mintApiKey('x-header', SECRET);
    sentKeys.add(key);
    const viaHeader = await http(base, 'POST', '/api/snippets', snippet('x-header', 'h.js'), {
      'x-api-key': key,
    });
    expect(viaHeader.status).toBe(201);
    const old = mintApiKey('rotated', PREVIOUS_SECRET);
    sentKeys.add(old);
    const rotated = await http(base, 'POST', '/api/snippets', snippet('rotated', 'r.js'), {
      authorization: `Bearer ${old}`,
    });
    expect(rotated.status).toBe(201);
  });

  it('keeps reads public: one snippet and the list need no key', async () => {
    await seed('reader', 'public.js');
    const one = await http(base, 'GET', '/api/snippets/reader/public.js', undefined, {}, agent);
    expect(one.status).toBe(200);
    const list = await http<{ items: Array<{ name: string }> }>(
      base,
      'GET',
      '/api/snippets?owner=reader',
      undefined,
      {},
      agent,
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((s) => s.name)).toEqual(['public.js']);
  });

  it('mints the same key from the command line, printing only the key', async () => {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      [join(ROOT, 'apps/codebot/dist/mint-api-key.js'), 'tg:4242'],
      { cwd: tmpdir(), env: baseEnv({ API_TOKEN_SECRET: SECRET }) },
    );
    expect(stdout).toBe(`${mintApiKey('tg:4242', SECRET)}\n`);
    expect(stderr).toBe('');
    const refused = await execFileAsync(
      process.execPath,
      [join(ROOT, 'apps/codebot/dist/mint-api-key.js'), 'tg:4242'],
      { cwd: tmpdir(), env: baseEnv({}) },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect((refused as { stderr: string }).stderr).toContain('API_TOKEN_SECRET = (not set)');
  });

  it('says in the startup banner that API keys are required', () => {
    expect(app.output()).toMatch(/API keys required for writes/);
    expect(app.output()).not.toMatch(/API keys OFF/);
  });

  it('never shows a key or secret in health, metrics or its logs', async () => {
    const texts = [
      (await http(base, 'GET', '/health')).text,
      (await http(base, 'GET', '/health/ready')).text,
      (await http(base, 'GET', '/metrics')).text,
      app.output(),
    ];
    expect(sentKeys.size).toBeGreaterThanOrEqual(10);
    for (const text of texts) {
      for (const secret of [SECRET, PREVIOUS_SECRET, FOREIGN_SECRET, ...sentKeys]) {
        expect(text).not.toContain(secret);
      }
      // Nor any signature on its own (the part of a key that is secret).
      for (const key of sentKeys) {
        const signature = key.slice(key.lastIndexOf('.') + 1);
        if (signature.length === 43) expect(text).not.toContain(signature);
      }
    }
  });
});

describe('CodeBot outside development without API_TOKEN_SECRET', () => {
  beforeAll(() => buildCodebot(), 240_000);

  it.each(['staging', 'production'])(
    'APP_ENV=%s: exits 1 before listening, naming API_TOKEN_SECRET',
    async (appEnv) => {
      const { code, output } = await runCodebotToExit(
        baseEnv({
          APP_ENV: appEnv,
          // Everything else required is set, so the secret is the only problem.
          MONGODB_URL: 'mongodb://127.0.0.1:1/codebot',
          REDIS_URL: 'redis://127.0.0.1:1',
          TELEGRAM_BOT_TOKEN: TOKEN,
        }),
      );
      expect(code).toBe(1);
      expect(output).toContain(`CodeBot cannot start (APP_ENV=${appEnv}) (1 problem)`);
      expect(output).toMatch(
        new RegExp(`- API_TOKEN_SECRET = \\(not set\\); allowed: required when APP_ENV=${appEnv}`),
      );
      expect(output).not.toContain('CODEBOT_READY');
    },
  );

  it('a too short secret is refused with its value masked', async () => {
    const { code, output } = await runCodebotToExit(
      baseEnv({
        APP_ENV: 'staging',
        MONGODB_URL: 'mongodb://127.0.0.1:1/codebot',
        REDIS_URL: 'redis://127.0.0.1:1',
        TELEGRAM_BOT_TOKEN: TOKEN,
        API_TOKEN_SECRET: 'shortStagingSecret',
      }),
    );
    expect(code).toBe(1);
    expect(output).toContain('- API_TOKEN_SECRET = "***"; allowed: a random secret of at least 32');
    expect(output).not.toContain('shortStagingSecret');
  });
});
