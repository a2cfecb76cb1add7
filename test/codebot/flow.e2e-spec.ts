/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument -- response bodies are JSON checked field by field by the assertions */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';

import { mintApiKey } from '../../apps/codebot/src/auth/api-key.js';
import { EXAMPLE_GIST_ID, GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  ROOT,
  type RunningStack,
  stackEnv,
  startCodebot,
  startStack,
  waitForStartup,
} from './codebot-harness.js';

const TOKEN = '777001:flow-test-token';
const SECRET = 'webhook-secret-for-flow';
const GITHUB_TOKEN = 'ghp_flowTestTokenValue123';
const METRICS_TOKEN = 'metrics-bearer-for-flow';
const REDIS_PASSWORD = 'redisFlowPassw0rd';
const RATE_LIMIT_MAX = 40;
const API_TOKEN_SECRET = 'flow-api-token-secret-0123456789abcdef';
const REST_OWNER = 'rest-owner';
/** Writes need the owner's API key; reads are public. */
const REST_KEY = mintApiKey(REST_OWNER, API_TOKEN_SECRET);
const SECRETS = [
  TOKEN,
  SECRET,
  GITHUB_TOKEN,
  REDIS_PASSWORD,
  METRICS_TOKEN,
  API_TOKEN_SECRET,
  REST_KEY,
];

describe('CodeBot end to end (built app as a child process)', () => {
  let stack: RunningStack;
  const telegram = new TelegramStandIn(TOKEN);
  const github = new GitHubStandIn({ token: GITHUB_TOKEN });
  let app: CodebotProcess;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let base: string;
  let updateId = 5000;
  let messageId = 1;

  beforeAll(async () => {
    await buildCodebot();
    stack = await startStack({
      telegram,
      github,
      telegramToken: TOKEN,
      redis: { password: REDIS_PASSWORD },
    });
    app = await startCodebot(
      baseEnv({
        ...stackEnv(stack),
        API_TOKEN_SECRET,
        TELEGRAM_WEBHOOK_SECRET: SECRET,
        GITHUB_TOKEN,
        METRICS_TOKEN,
        RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
        RATE_LIMIT_WINDOW_MS: '60000',
        MONGODB_OPERATION_METRICS: 'true',
        REDIS_OPERATION_METRICS: 'true',
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

  const webhook = (update: unknown, secret: string | null = SECRET) =>
    http(
      base,
      'POST',
      '/telegram/webhook',
      update,
      secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret },
      agent,
    );

  /** Sends `text` from user `userId` and returns the bot's reply text. */
  async function say(userId: number, text: string, replyTo?: string): Promise<string> {
    const before = telegram.messagesFor(userId).length;
    const chat = { id: userId, type: 'private' };
    const update = {
      update_id: updateId++,
      message: {
        message_id: messageId++,
        from: { id: userId, first_name: 'T' },
        chat,
        text,
        ...(replyTo ? { reply_to_message: { message_id: 1, chat, text: replyTo } } : {}),
      },
    };
    const res = await webhook(update);
    expect(res.status).toBe(200);
    const replies = telegram.messagesFor(userId).slice(before);
    expect(replies).toHaveLength(1);
    return replies[0]!.text;
  }

  it('runs the whole command flow through the webhook', async () => {
    const user = 9001;
    expect(await say(user, '/start')).toContain('/save <name> <code>');
    expect(await say(user, '/help')).toContain('/import <gist id or URL>');
    expect(await say(user, '/save hello.py print("hi")\nprint("there")')).toBe(
      'Saved "hello.py" (python, 2 lines).',
    );
    expect(await say(user, '/save add.js', 'const add = (a, b) => a + b;')).toBe(
      'Saved "add.js" (javascript, 1 line).',
    );
    expect(await say(user, '/save add.js x')).toContain('already exists');
    expect(await say(user, '/get hello.py')).toBe('print("hi")\nprint("there")');
    expect(await say(user, '/list')).toBe(
      'Your snippets:\n• add.js (javascript)\n• hello.py (python)',
    );
    // The example gist holds hello.py and fib.js; hello.py is taken, so it is skipped, not overwritten.
    const imported = await say(user, `/import https://gist.github.com/octo/${EXAMPLE_GIST_ID}`);
    expect(imported).toContain('Imported 1 file(s)');
    expect(imported).toContain('Skipped (name taken): hello.py');
    expect(await say(user, '/get hello.py')).toBe('print("hi")\nprint("there")');
    expect(await say(user, '/get fib.js')).toContain('fib(10)');

    const shared = await say(user, '/share add.js');
    const gistId = /\/gist\/([a-f0-9]+)$/.exec(shared)?.[1];
    expect(gistId).toBeDefined();
    expect(github.gists.get(gistId!)?.files['add.js']?.content).toBe(
      'const add = (a, b) => a + b;',
    );

    expect(await say(user, '/delete hello.py')).toBe('Deleted "hello.py".');
    expect(await say(user, '/get hello.py')).toContain('No snippet named "hello.py"');
    expect(await say(user, '/import 0000deadbeef')).toContain('was not found');
    expect(await say(user, '/frobnicate')).toContain('Unknown command');
    // The reply goes to the command message.
    const last = telegram.messagesFor(user).at(-1);
    expect(last?.reply_to_message_id).toBe(messageId - 1);
  });

  it('refuses webhook calls without the secret and handles a retried update once', async () => {
    const update = {
      update_id: 424242,
      message: {
        message_id: 1,
        from: { id: 9100 },
        chat: { id: 9100, type: 'private' },
        text: '/list',
      },
    };
    expect((await webhook(update, null)).status).toBe(401);
    expect((await webhook(update, 'wrong-secret')).status).toBe(401);
    expect(telegram.messagesFor(9100)).toHaveLength(0);

    const first = await webhook(update);
    const again = await webhook(update);
    const third = await webhook(update);
    expect([first.status, again.status, third.status]).toEqual([200, 200, 200]);
    expect(first.body).toEqual({ ok: true, replied: true });
    expect(again.body).toEqual({ ok: true, duplicate: true });
    expect(telegram.messagesFor(9100)).toHaveLength(1);
    expect((await webhook({ update_id: 'x' })).status).toBe(400);
  });

  it('serves REST with validation, conflicts and a read-through cache invalidated on write', async () => {
    const owner = REST_OWNER;
    const key = { authorization: `Bearer ${REST_KEY}` };
    const bad = await http(
      base,
      'POST',
      '/api/snippets',
      { owner, name: '', code: '' },
      key,
      agent,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.fields.map((f: { field: string }) => f.field)).toEqual([
      'name',
      'language',
      'code',
    ]);

    const body = { owner, name: 'cached.ts', language: 'typescript', code: 'export const v = 1;' };
    expect((await http(base, 'POST', '/api/snippets', body, key, agent)).status).toBe(201);
    expect((await http(base, 'POST', '/api/snippets', body, key, agent)).status).toBe(409);

    const path = `/api/snippets/${owner}/cached.ts`;
    const miss = await http(base, 'GET', path, undefined, {}, agent);
    const hit = await http(base, 'GET', path, undefined, {}, agent);
    expect([miss.status, miss.headers['x-cache']]).toEqual([200, 'MISS']);
    expect([hit.status, hit.headers['x-cache'], hit.body.code]).toEqual([
      200,
      'HIT',
      'export const v = 1;',
    ]);

    // Delete invalidates; a new snippet under the same name is read fresh, never the cached one.
    expect((await http(base, 'DELETE', path, undefined, key, agent)).status).toBe(204);
    const gone = await http(base, 'GET', path, undefined, {}, agent);
    expect([gone.status, gone.headers['x-cache']]).toEqual([404, 'MISS']);
    await http(base, 'POST', '/api/snippets', { ...body, code: 'export const v = 2;' }, key, agent);
    const fresh = await http(base, 'GET', path, undefined, {}, agent);
    expect([fresh.headers['x-cache'], fresh.body.code]).toEqual(['MISS', 'export const v = 2;']);
    // A failed write (duplicate) also invalidates: the next read reloads from MongoDB.
    expect((await http(base, 'GET', path, undefined, {}, agent)).headers['x-cache']).toBe('HIT');
    await http(base, 'POST', '/api/snippets', body, key, agent);
    expect((await http(base, 'GET', path, undefined, {}, agent)).headers['x-cache']).toBe('MISS');

    const list = await http(
      base,
      'GET',
      `/api/snippets?owner=${owner}&limit=5`,
      undefined,
      {},
      agent,
    );
    expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(['cached.ts']);
    expect(
      (await http(base, 'GET', '/api/snippets?limit=500', undefined, {}, agent)).body.fields,
    ).toHaveLength(2);

    // The upstream drops the first attempt: the github pool retries the GET and the import works.
    github.resetNext(1);
    const imported = await http(
      base,
      'POST',
      '/api/snippets/import',
      { owner, gistId: EXAMPLE_GIST_ID },
      key,
      agent,
    );
    expect(imported.status).toBe(201);
    expect(imported.body.imported.map((s: { name: string }) => s.name).sort()).toEqual([
      'fib.js',
      'hello.py',
    ]);
    const again = await http(
      base,
      'POST',
      '/api/snippets/import',
      { owner, gistId: EXAMPLE_GIST_ID },
      key,
      agent,
    );
    expect(again.status).toBe(409);
    expect(
      (await http(base, 'POST', '/api/snippets/import', { owner, gistId: 'ffff0000' }, key, agent))
        .status,
    ).toBe(404);
  });

  it('rate-limits per owner with 429 and Retry-After, leaving other owners alone', async () => {
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < RATE_LIMIT_MAX + 2; i++) {
      const res = await http(
        base,
        'GET',
        `/api/snippets/limited-owner/s${i}`,
        undefined,
        {},
        agent,
      );
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers['retry-after'];
    }
    expect(statuses.slice(0, RATE_LIMIT_MAX).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(RATE_LIMIT_MAX)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(
      (await http(base, 'GET', '/api/snippets/other-owner/x', undefined, {}, agent)).status,
    ).toBe(404);
  });

  it('reports health in the Terminus shape without secrets', async () => {
    const live = await http(base, 'GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    const ready = await http(base, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(Object.keys(ready.body.details).sort()).toEqual([
      'github',
      'mongodb',
      'redis',
      'telegram',
    ]);
    const full = await http(base, 'GET', '/health');
    expect(full.status).toBe(200);
    expect(full.body.details.redis.stats).toBeDefined();
    expect(full.body.details.mongodb.stats).toBeDefined();
    expect(full.body.details.telegram.stats).toBeDefined();
    for (const text of [live.text, ready.text, full.text]) {
      for (const secret of SECRETS) {
        expect(text).not.toContain(secret);
      }
    }
  });

  it('never writes a secret to its logs', () => {
    const output = app.output();
    expect(output).toContain('CODEBOT_READY');
    for (const secret of SECRETS) {
      expect(output).not.toContain(secret);
    }
  });

  describe('/metrics and deploy/grafana', () => {
    let exposition = '';

    beforeAll(async () => {
      const denied = await http(base, 'GET', '/metrics');
      expect(denied.status).toBe(401);
      const res = await http(base, 'GET', '/metrics', undefined, {
        authorization: `Bearer ${METRICS_TOKEN}`,
      });
      expect(res.status).toBe(200);
      exposition = res.text;
    });

    it('exports pool, HTTP server, health and process metrics, without secrets', () => {
      for (const name of [
        'db_client_connection_count',
        'db_client_connection_max',
        'http_client_open_connections',
        'http_client_request_duration_seconds',
        'http_server_request_duration_seconds',
        'codebot_ready',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_p99_seconds',
      ]) {
        expect(exposition).toContain(`# TYPE ${name} `);
      }
      expect(exposition).toMatch(
        /http_server_request_duration_seconds_count\{[^}]*http_route="\/api\/snippets\/:owner\/:name"/,
      );
      expect(exposition).toMatch(/db_client_connection_count\{[^}]*db_system_name="mongodb"/);
      expect(exposition).toMatch(/db_client_connection_count\{[^}]*db_system_name="redis"/);
      // Per-operation latency (MONGODB_OPERATION_METRICS / REDIS_OPERATION_METRICS on here).
      expect(exposition).toMatch(
        /db_client_operation_duration_seconds_count\{[^}]*db_system_name="mongodb",db_operation_name="find",db_collection_name="snippets"[^}]*\} [1-9]/,
      );
      expect(exposition).toMatch(
        /db_client_operation_duration_seconds_count\{[^}]*db_system_name="redis",db_operation_name="GET"[^}]*\} [1-9]/,
      );
      for (const secret of SECRETS) {
        expect(exposition).not.toContain(secret);
      }
    });

    it('every metric the dashboard and the alert rules query is exported by the app, with data', () => {
      const exported = exportedSeriesNames(exposition);
      const withData = seriesWithSamples(exposition);
      const dashboard = JSON.parse(
        readFileSync(join(ROOT, 'deploy/grafana/codebot-dashboard.json'), 'utf8'),
      ) as {
        panels: Array<{ targets?: Array<{ expr: string }> }>;
        templating: { list: Array<{ query?: unknown }> };
      };
      const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
      for (const v of dashboard.templating.list) {
        if (typeof v.query === 'string' && v.query.startsWith('label_values(')) exprs.push(v.query);
      }
      const alertExprs = alertRuleExpressions(
        readFileSync(join(ROOT, 'deploy/grafana/alerts.yaml'), 'utf8'),
      );
      expect(exprs.length).toBeGreaterThan(15);
      expect(alertExprs.length).toBeGreaterThanOrEqual(10);
      const missing: string[] = [];
      const empty = new Set<string>();
      for (const expr of [...exprs, ...alertExprs]) {
        for (const name of metricNamesIn(expr)) {
          if (PROMETHEUS_SYNTHETIC.has(name)) continue;
          if (!exported.has(name)) missing.push(`${name} (in ${expr.slice(0, 60)}…)`);
          else if (!withData.has(name)) empty.add(name);
        }
      }
      expect(missing).toEqual([]);
      // A panel over a series that was never written shows "No data" instead of zero.
      expect([...empty].sort()).toEqual([]);
    });
  });
});

/** Series Prometheus adds itself for every scrape target (not exported by applications). */
const PROMETHEUS_SYNTHETIC = new Set(['up']);

/** Series names with at least one sample line in the exposition. */
function seriesWithSamples(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? \S+$/gm)) {
    names.add(match[1]!);
  }
  return names;
}

/** Every series name the exposition can produce (histograms expand to _bucket/_sum/_count). */
function exportedSeriesNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const match of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    } else {
      names.add(name);
    }
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'label_values',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'abs',
  'absent',
  'le',
]);

/** Metric names used in a PromQL expression: identifiers that are not functions, keywords or labels. */
function metricNamesIn(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '');
  const label = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(withoutStrings.trim());
  // label_values(metric, label): only the first argument is a metric.
  if (label?.[1]) return [label[1]];
  const names = new Set<string>();
  for (const match of withoutStrings.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    const after = withoutStrings.slice((match.index ?? 0) + word.length).trimStart();
    if (PROMQL_WORDS.has(word) || after.startsWith('(') || /^\d/.test(word)) continue;
    if (word.startsWith('$') || (/^[a-z]+$/.test(word) && !word.includes('_') && word !== 'up'))
      continue;
    names.add(word);
  }
  return [...names];
}

/** The `expr:` values of a Prometheus rule file (single-line or `|` block scalars). */
function alertRuleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!match) continue;
    const indent = match[1]!.length;
    if (match[2] === '|' || match[2] === '>') {
      const block: string[] = [];
      while (
        i + 1 < lines.length &&
        (lines[i + 1]!.trim() === '' || /^\s*/.exec(lines[i + 1]!)![0].length > indent)
      ) {
        block.push(lines[++i]!.trim());
      }
      exprs.push(block.join(' '));
    } else {
      exprs.push(match[2]!);
    }
  }
  return exprs;
}
