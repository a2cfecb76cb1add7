import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent } from 'node:http';

import { mintApiKey } from '../../apps/codebot/src/auth/api-key.js';
import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { sendJson } from '../../apps/codebot/src/dev/json-server.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import { type CollectedSpan, OtlpCollector } from '../support/otlp-collector.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  runCodebotToExit,
  type RunningStack,
  stackEnv,
  startCodebot,
  startStack,
  waitForStartup,
  waitUntil,
} from './codebot-harness.js';

const TOKEN = '777002:trace-test-token';
const WEBHOOK_SECRET = 'webhook-secret-for-tracing';
const GITHUB_TOKEN = 'ghp_traceTestTokenValue456';
const REDIS_PASSWORD = 'redisTracePassw0rd';
const API_TOKEN_SECRET = 'trace-api-token-secret-0123456789abcdef';
const OWNER = 'trace-owner';
const API_KEY = mintApiKey(OWNER, API_TOKEN_SECRET);
const SECRETS = [
  TOKEN,
  'trace-test-token',
  WEBHOOK_SECRET,
  GITHUB_TOKEN,
  REDIS_PASSWORD,
  API_TOKEN_SECRET,
  API_KEY,
];
/** The code of the cached snippet: a value, which no span may carry. */
const CODE = 'export const tracedValue = "SNIPPET_VALUE_MARKER";';
/** Bound for spans to reach the collector (the app exports every 100 ms). */
const SPANS_WITHIN_MS = 10_000;

/** GitHub stand-in that records the `traceparent` header of every gist request. */
class RecordingGitHub extends GitHubStandIn {
  readonly traceparents: Array<string | undefined> = [];

  protected override handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.startsWith('/gists')) {
      this.traceparents.push(req.headers.traceparent as string | undefined);
    }
    return super.handle(req, res);
  }
}

/** Telegram stand-in that answers `sendMessage` with 400 while `refusing` is set. */
class RefusingTelegram extends TelegramStandIn {
  refusing = false;

  protected override handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.refusing && req.method === 'POST' && req.url?.endsWith('/sendMessage')) {
      sendJson(res, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: chat not found',
      });
      return Promise.resolve();
    }
    return super.handle(req, res);
  }
}

/** Whether `span` descends from the span `ancestorId` within `trace`. */
function descendsFrom(trace: CollectedSpan[], span: CollectedSpan, ancestorId: string): boolean {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId)) {
    if (parent.spanId === ancestorId) return true;
  }
  return false;
}

/** The SERVER span of `method path`, once exported. */
function serverSpan(collector: OtlpCollector, method: string, path: string): CollectedSpan[] {
  return collector.spans.filter(
    (s) =>
      s.kind === 'SERVER' &&
      s.attributes['http.request.method'] === method &&
      s.attributes['url.path'] === path,
  );
}

/**
 * Waits until the collector holds the SERVER span of `method path` and `complete(trace)` holds
 * for its trace (child spans may arrive in another export than their parent), then returns the
 * server span and the whole trace.
 */
async function traceOf(
  collector: OtlpCollector,
  method: string,
  path: string,
  complete: (trace: CollectedSpan[]) => boolean,
): Promise<{ server: CollectedSpan; trace: CollectedSpan[] }> {
  await waitUntil(
    () => {
      const [server] = serverSpan(collector, method, path);
      return Promise.resolve(server !== undefined && complete(collector.trace(server.traceId)));
    },
    SPANS_WITHIN_MS,
    50,
    `the trace of ${method} ${path}`,
  );
  const servers = serverSpan(collector, method, path);
  expect(servers).toHaveLength(1);
  const server = servers[0]!;
  return { server, trace: collector.trace(server.traceId) };
}

const dbSpans = (trace: CollectedSpan[], system: string, operation: string) =>
  trace.filter(
    (s) =>
      s.attributes['db.system.name'] === system && s.attributes['db.operation.name'] === operation,
  );

describe('CodeBot tracing (built app, OTLP/HTTP to a fake collector)', () => {
  let stack: RunningStack;
  const telegram = new RefusingTelegram(TOKEN);
  const github = new RecordingGitHub({ token: GITHUB_TOKEN });
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  let updateId = 7000;

  const appEnv = (extra: Record<string, string | undefined>) =>
    baseEnv({
      ...stackEnv(stack),
      API_TOKEN_SECRET,
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      GITHUB_TOKEN,
      ...extra,
    });

  const webhook = (base: string, text: string, chatId: number) =>
    http(
      base,
      'POST',
      '/telegram/webhook',
      {
        update_id: updateId++,
        message: {
          message_id: updateId,
          from: { id: chatId, first_name: 'T' },
          chat: { id: chatId, type: 'private' },
          text,
        },
      },
      { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
      agent,
    );

  /** Imports a new one-file gist; returns the answer and the `traceparent` headers GitHub saw. */
  const importGist = async (base: string, file: string) => {
    const gistId = github.addGist({ [file]: 'print("traced")\n' });
    const before = github.traceparents.length;
    const res = await http(
      base,
      'POST',
      '/api/snippets/import',
      { owner: OWNER, gistId },
      { 'x-api-key': API_KEY },
      agent,
    );
    return { status: res.status, gistId, traceparents: github.traceparents.slice(before) };
  };

  /**
   * Sends `/help` while Telegram refuses replies, so CodeBot logs an error inside the request;
   * returns the answer and that log line.
   */
  const undeliveredReply = async (app: CodebotProcess, chatId: number) => {
    telegram.refusing = true;
    let res;
    try {
      res = await webhook(app.baseUrl, '/help', chatId);
    } finally {
      telegram.refusing = false;
    }
    const line = app
      .output()
      .split('\n')
      .find((l) => l.includes(`Reply to update ${updateId - 1} not delivered`));
    return { body: res.body as unknown, line };
  };

  /**
   * Starts `collector` and CodeBot exporting to it in JSON (`env` of the collector adds to or,
   * with `undefined`, removes from that), waits for startup, runs `use`, then stops both.
   */
  async function withTracedApp(
    env: (collector: OtlpCollector) => Record<string, string | undefined>,
    use: (app: CodebotProcess, collector: OtlpCollector) => Promise<void>,
    collector = new OtlpCollector(),
  ): Promise<void> {
    await collector.start();
    let app: CodebotProcess | undefined;
    try {
      app = await startCodebot(
        appEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          ...env(collector),
        }),
      );
      await waitForStartup(app.baseUrl);
      await use(app, collector);
    } finally {
      await app?.stop('SIGKILL');
      await collector.close();
    }
  }

  beforeAll(async () => {
    await buildCodebot();
    stack = await startStack({
      telegram,
      github,
      telegramToken: TOKEN,
      redis: { password: REDIS_PASSWORD },
    });
  }, 240_000);

  afterAll(async () => {
    agent.destroy();
    await stack?.stop();
  });

  describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
    const collector = new OtlpCollector();
    let app: CodebotProcess;
    let base: string;

    beforeAll(async () => {
      await collector.start();
      app = await startCodebot(
        appEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: 'codebot-e2e',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        }),
      );
      base = app.baseUrl;
      await waitForStartup(base);
    }, 120_000);

    afterAll(async () => {
      const exit = await app?.stop('SIGTERM');
      await collector.close();
      expect(exit?.code).toBe(0);
    });

    it('puts a snippet read (cache miss) in one trace: server → MongoDB find, Redis GET/SET', async () => {
      const created = await http(
        base,
        'POST',
        '/api/snippets',
        { owner: OWNER, name: 'cached.js', language: 'javascript', code: CODE },
        { authorization: `Bearer ${API_KEY}` },
        agent,
      );
      expect(created.status).toBe(201);
      const path = `/api/snippets/${OWNER}/cached.js`;
      const miss = await http(base, 'GET', path, undefined, {}, agent);
      expect([miss.status, miss.headers['x-cache']]).toEqual([200, 'MISS']);

      const { server, trace } = await traceOf(
        collector,
        'GET',
        path,
        (t) =>
          dbSpans(t, 'mongodb', 'find').length > 0 &&
          dbSpans(t, 'redis', 'get').length > 0 &&
          dbSpans(t, 'redis', 'set').length > 0,
      );
      expect(server.name).toBe('GET /api/snippets/:owner/:name');
      expect(server.parentSpanId).toBe('');
      expect(server.attributes).toMatchObject({
        'http.route': '/api/snippets/:owner/:name',
        'http.response.status_code': 200,
      });
      expect(server.resource['service.name']).toBe('codebot-e2e');
      expect(trace.filter((s) => s.kind === 'SERVER')).toHaveLength(1);

      const mongoPort = Number(new URL(stack.mongo.url).port);
      const [find, ...moreFinds] = dbSpans(trace, 'mongodb', 'find');
      expect(moreFinds).toHaveLength(0);
      expect(find!.kind).toBe('CLIENT');
      expect(find!.name).toBe('find snippets');
      expect(find!.attributes).toMatchObject({
        'db.collection.name': 'snippets',
        'db.namespace': new URL(stack.mongo.url).pathname.slice(1),
        'server.port': mongoPort,
      });
      // The query's shape, never its values.
      expect(find!.attributes['db.query.text']).toEqual(expect.stringContaining('"filter"'));
      expect(find!.attributes['db.query.text']).not.toContain(OWNER);
      expect(descendsFrom(trace, find!, server.spanId)).toBe(true);

      const redisPort = Number(new URL(stack.redis.url).port);
      const key = `codebot:snippet:${OWNER}:cached.js`;
      const [get] = dbSpans(trace, 'redis', 'get');
      const [set] = dbSpans(trace, 'redis', 'set');
      const [rateLimit] = dbSpans(trace, 'redis', 'eval');
      for (const span of [get!, set!, rateLimit!]) {
        expect(span.kind).toBe('CLIENT');
        expect(span.attributes['server.port']).toBe(redisPort);
        expect(descendsFrom(trace, span, server.spanId)).toBe(true);
      }
      expect(get!.attributes['db.query.text']).toBe(`get ${key}`);
      // SET names its key; the cached JSON (and the TTL) stay out.
      expect(set!.attributes['db.query.text']).toBe(`set ${key} [3 other arguments]`);

      // One trace per request: no span of this read's MongoDB query or cache commands elsewhere
      // (the create before it removed the key in its own trace).
      const elsewhere = collector.spans.filter(
        (s) =>
          s.traceId !== server.traceId &&
          (s.attributes['db.query.text'] === get!.attributes['db.query.text'] ||
            s.attributes['db.query.text'] === set!.attributes['db.query.text'] ||
            (s.attributes['db.operation.name'] === 'find' &&
              s.attributes['db.collection.name'] === 'snippets')),
      );
      expect(elsewhere).toEqual([]);
    });

    it('puts a gist import in one trace: server → undici GET to GitHub, MongoDB insert, Redis DEL', async () => {
      const { status, gistId, traceparents } = await importGist(base, 'traced.py');
      expect(status).toBe(201);

      const { server, trace } = await traceOf(
        collector,
        'POST',
        '/api/snippets/import',
        (t) =>
          t.some((s) => s.scope === '@opentelemetry/instrumentation-undici') &&
          dbSpans(t, 'mongodb', 'insert').length > 0 &&
          dbSpans(t, 'redis', 'del').length > 0,
      );
      expect(server.name).toBe('POST /api/snippets/import');
      expect(server.attributes['http.response.status_code']).toBe(201);

      const outbound = trace.filter((s) => s.scope === '@opentelemetry/instrumentation-undici');
      expect(outbound).toHaveLength(1);
      const call = outbound[0]!;
      const githubUrl = new URL(github.url);
      expect(call.kind).toBe('CLIENT');
      expect(call.attributes).toMatchObject({
        'http.request.method': 'GET',
        'server.address': githubUrl.hostname,
        'server.port': Number(githubUrl.port),
        'url.full': `${github.url}/gists/${gistId}`,
        'http.response.status_code': 200,
      });
      expect(descendsFrom(trace, call, server.spanId)).toBe(true);
      // The context went out with the request: GitHub saw this trace, with the client span as parent.
      expect(traceparents).toEqual([`00-${server.traceId}-${call.spanId}-01`]);

      const [insert] = dbSpans(trace, 'mongodb', 'insert');
      expect(insert!.attributes['db.collection.name']).toBe('snippets');
      expect(descendsFrom(trace, insert!, server.spanId)).toBe(true);
      const [del] = dbSpans(trace, 'redis', 'del');
      expect(del!.attributes['db.query.text']).toBe(`del codebot:snippet:${OWNER}:traced.py`);
      expect(descendsFrom(trace, del!, server.spanId)).toBe(true);
    });

    it('writes trace_id and span_id on log lines inside a request, masks the bot token in spans', async () => {
      const { body, line } = await undeliveredReply(app, 4242);
      expect(body).toEqual({ ok: true, replied: false });

      const { server, trace } = await traceOf(collector, 'POST', '/telegram/webhook', (t) =>
        t.some((s) => s.scope === '@opentelemetry/instrumentation-undici'),
      );
      const send = trace.find((s) => s.scope === '@opentelemetry/instrumentation-undici')!;
      expect(send.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.response.status_code': 400,
        'url.path': '/bot***/sendMessage',
      });
      expect(String(send.attributes['url.full'])).toMatch(/\/bot\*\*\*\/sendMessage$/);
      expect(dbSpans(trace, 'redis', 'set')[0]!.attributes['db.query.text']).toBe(
        `set codebot:update:${updateId - 1} [4 other arguments]`,
      );

      expect(line).toBeDefined();
      const ids = /trace_id=([0-9a-f]{32}) span_id=([0-9a-f]{16})/.exec(line!);
      expect(ids?.[1]).toBe(server.traceId);
      expect(trace.map((s) => s.spanId)).toContain(ids?.[2]);
      // Lines written outside any request carry no ids.
      const startup = app
        .output()
        .split('\n')
        .find((l) => l.includes('listening on'));
      expect(startup).toBeDefined();
      expect(startup).not.toContain('trace_id=');
    });

    it('puts no secret in any span, and exports traces only', () => {
      expect(collector.spans.length).toBeGreaterThan(0);
      const exported = JSON.stringify(collector.spans);
      for (const secret of SECRETS) expect(exported).not.toContain(secret);
      expect(exported).not.toContain('SNIPPET_VALUE_MARKER');
      expect(new Set(collector.requests)).toEqual(
        new Set(['POST /v1/traces application/json body']),
      );
      // Probes and scrapes are not traced.
      expect(
        collector.spans.filter((s) => /^\/(health|metrics)/.test(String(s.attributes['url.path']))),
      ).toEqual([]);
    });
  });

  it('keeps each auto-pipelined Redis command in its own request trace, and flushes spans at shutdown', async () => {
    await withTracedApp(
      () => ({
        // Nothing is exported on schedule while the test runs: only the shutdown flush.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        REDIS_AUTO_PIPELINING: 'true',
      }),
      async (app, collector) => {
        const names = Array.from({ length: 24 }, (_, i) => `n${i}.js`);
        // Concurrent requests: their GETs are issued in the same tick and batched together.
        const answers = await Promise.all(
          names.map((name) =>
            http(app.baseUrl, 'GET', `/api/snippets/burst/${name}`, undefined, {}, agent),
          ),
        );
        expect(answers.map((a) => a.status)).toEqual(names.map(() => 404));
        expect(collector.spans).toHaveLength(0);

        expect((await app.stop('SIGTERM')).code).toBe(0);
        for (const name of names) {
          const servers = serverSpan(collector, 'GET', `/api/snippets/burst/${name}`);
          expect(servers).toHaveLength(1);
          const trace = collector.trace(servers[0]!.traceId);
          const gets = collector.spans.filter(
            (s) => s.attributes['db.query.text'] === `get codebot:snippet:burst:${name}`,
          );
          expect(gets).toHaveLength(1);
          expect(gets[0]!.traceId).toBe(servers[0]!.traceId);
          expect(descendsFrom(trace, gets[0]!, servers[0]!.spanId)).toBe(true);
          // ioredis names batched commands `PIPELINE get`: one per request's trace, none borrowed.
          expect(gets[0]!.attributes['db.operation.name']).toBe('PIPELINE get');
          expect(
            trace.filter((s) => String(s.attributes['db.query.text']).startsWith('get ')),
          ).toHaveLength(1);
        }
      },
    );
  }, 120_000);

  it('traces the HTTP pools on Node’s http transport too (HTTP_TRANSPORT=http), bot token masked', async () => {
    await withTracedApp(
      () => ({ HTTP_TRANSPORT: 'http', OTEL_BSP_SCHEDULE_DELAY: '100' }),
      async (app, collector) => {
        const imported = await importGist(app.baseUrl, 'node-http.py');
        expect(imported.status).toBe(201);
        const chatId = 4444;
        const before = telegram.messagesFor(chatId).length;
        expect((await webhook(app.baseUrl, '/help', chatId)).body).toEqual({
          ok: true,
          replied: true,
        });
        expect(telegram.messagesFor(chatId)).toHaveLength(before + 1);

        const outbound = (t: CollectedSpan[]) =>
          t.filter((s) => s.kind === 'CLIENT' && s.scope === '@opentelemetry/instrumentation-http');
        const gist = await traceOf(
          collector,
          'POST',
          '/api/snippets/import',
          (t) => outbound(t).length > 0,
        );
        const reply = await traceOf(
          collector,
          'POST',
          '/telegram/webhook',
          (t) => outbound(t).length > 0,
        );
        const githubUrl = new URL(github.url);
        expect(outbound(gist.trace).map((s) => s.attributes)).toEqual([
          expect.objectContaining({
            'http.request.method': 'GET',
            'server.address': githubUrl.hostname,
            'server.port': Number(githubUrl.port),
            'url.full': `${github.url}/gists/${imported.gistId}`,
            'http.response.status_code': 200,
          }),
        ]);
        expect(imported.traceparents).toEqual([
          `00-${gist.server.traceId}-${outbound(gist.trace)[0]!.spanId}-01`,
        ]);
        const [send] = outbound(reply.trace);
        expect(send!.attributes).toMatchObject({
          'http.request.method': 'POST',
          'url.full': `${telegram.url}/bot***/sendMessage`,
          'http.response.status_code': 200,
        });
        for (const { trace, server } of [gist, reply]) {
          for (const span of outbound(trace))
            expect(descendsFrom(trace, span, server.spanId)).toBe(true);
        }
        const exported = JSON.stringify(collector.spans);
        for (const secret of SECRETS) expect(exported).not.toContain(secret);
      },
    );
  }, 120_000);

  it('exports protobuf by default, to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given', async () => {
    await withTracedApp(
      (collector) => ({
        OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/custom/traces`,
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      }),
      async (app, collector) => {
        expect(
          (await http(app.baseUrl, 'GET', `/api/snippets/${OWNER}/absent.js`, undefined, {}, agent))
            .status,
        ).toBe(404);
        expect(app.output()).toContain(
          `tracing  http/protobuf to ${collector.url}/custom/traces as service "codebot"`,
        );
        expect(collector.requests).toEqual([]);
        expect((await app.stop('SIGTERM')).code).toBe(0);
        expect(collector.requests).toEqual(['POST /custom/traces application/x-protobuf body']);
      },
      new OtlpCollector('/custom/traces'),
    );
  }, 120_000);

  it('traces development mode (npm start: embedded servers, stand-ins in the same process), token masked', async () => {
    const collector = new OtlpCollector();
    await collector.start();
    let app: CodebotProcess | undefined;
    try {
      // No pool or upstream URL: CodeBot starts Redis, MongoDB and both stand-ins itself.
      app = await startCodebot(
        baseEnv({
          TELEGRAM_BOT_TOKEN: TOKEN,
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
        }),
        90_000,
      );
      await waitForStartup(app.baseUrl);
      const res = await http(app.baseUrl, 'POST', '/telegram/webhook', {
        update_id: 1,
        message: {
          message_id: 1,
          from: { id: 5, first_name: 'T' },
          chat: { id: 5, type: 'private' },
          text: '/help',
        },
      });
      expect(res.body).toEqual({ ok: true, replied: true });
      const { server, trace } = await traceOf(collector, 'POST', '/telegram/webhook', (t) =>
        t.some((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/bot***/sendMessage'),
      );
      // The stand-in's own server span is a child of CodeBot's outbound call, in the same trace.
      const standIn = trace.find((s) => s.kind === 'SERVER' && s !== server)!;
      const call = trace.find((s) => s.spanId === standIn.parentSpanId)!;
      expect(call.attributes).toMatchObject({
        'http.request.method': 'POST',
        'url.path': '/bot***/sendMessage',
      });
      expect(descendsFrom(trace, standIn, server.spanId)).toBe(true);
      expect(dbSpans(trace, 'redis', 'set')).toHaveLength(1);
      const exported = JSON.stringify(collector.spans);
      for (const secret of SECRETS) expect(exported).not.toContain(secret);
    } finally {
      await app?.stop('SIGTERM');
      await collector.close();
    }
  }, 150_000);

  it('leaves tracing off without OTEL_EXPORTER_OTLP_ENDPOINT: no context sent, no ids logged', async () => {
    const app = await startCodebot(
      appEnv({ OTEL_SERVICE_NAME: 'codebot-off', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }),
    );
    try {
      await waitForStartup(app.baseUrl);
      const imported = await importGist(app.baseUrl, 'untraced.py');
      expect(imported.status).toBe(201);
      expect(imported.traceparents).toEqual([undefined]);

      const { line } = await undeliveredReply(app, 4343);
      expect(line).toBeDefined();
      expect(app.output()).not.toContain('trace_id=');
      expect(app.output()).not.toContain('tracing  ');
    } finally {
      expect((await app.stop('SIGTERM')).code).toBe(0);
    }
  }, 120_000);

  it('refuses a bad tracing environment at startup, naming each variable, secrets masked', async () => {
    const { code, output } = await runCodebotToExit(
      baseEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://otel:hunter2secret@collector/v1/traces',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
        OTEL_SDK_DISABLED: 'maybe',
      }),
    );
    expect(code).toBe(1);
    expect(output).toContain('OTEL_EXPORTER_OTLP_ENDPOINT = "collector:4318"; allowed: an http://');
    expect(output).toContain(
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "ftp://otel:***@collector/v1/traces"; allowed: an http://',
    );
    expect(output).toContain(
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = "grpc"; allowed: http/protobuf or http/json',
    );
    expect(output).toContain('OTEL_SDK_DISABLED = "maybe"; allowed: true or false');
    expect(output).not.toContain('hunter2secret');
    expect(output).not.toContain('CODEBOT_READY');
  });
});
