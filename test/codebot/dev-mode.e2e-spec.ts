/* eslint-disable @typescript-eslint/no-unsafe-member-access -- response bodies are JSON checked field by field by the assertions */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { getFreePort } from '@nest-pools/testing';

import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  ROOT,
  startCodebot,
  waitUntil,
} from './codebot-harness.js';

const METRICS_TOKEN = 'dev-mode-metrics-token';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('CodeBot development mode: nothing configured (built app as a child process)', () => {
  let app: CodebotProcess;
  let metricsPort: number;

  beforeAll(async () => {
    await buildCodebot();
    metricsPort = await getFreePort();
    app = await startCodebot(baseEnv({ METRICS_PORT: String(metricsPort), METRICS_TOKEN }), 90_000);
  }, 300_000);

  afterAll(async () => {
    if (app && app.child.exitCode === null) await app.stop('SIGKILL');
  });

  it('starts Redis, a MongoDB backend and both stand-ins, prints where, and serves the bot', async () => {
    const output = app.output();
    const redisUrl = /redis-server at (redis:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    const telegramUrl = /Telegram Bot API stand-in at (http:\/\/127\.0\.0\.1:\d+)/.exec(
      output,
    )?.[1];
    expect(redisUrl).toBeDefined();
    expect(output).toMatch(
      /(MongoDB wire-protocol server|mongod \(mongodb-memory-server\)) at mongodb:\/\//,
    );
    expect(output).toMatch(/GitHub gists stand-in at http:\/\/127\.0\.0\.1:\d+/);
    if (output.includes('MongoDB wire-protocol server')) {
      expect(output).toContain('for local development only');
    }
    // No API_TOKEN_SECRET: development runs with API keys off, and says so.
    expect(output).toContain('API keys OFF: anyone can write or delete any snippet');

    await waitUntil(
      async () => (await http(app.baseUrl, 'GET', '/health/ready')).status === 200,
      20_000,
    );
    const update = {
      update_id: 1,
      message: { message_id: 1, from: { id: 5 }, chat: { id: 5, type: 'private' }, text: '/help' },
    };
    expect((await http(app.baseUrl, 'POST', '/telegram/webhook', update)).status).toBe(200);
    const sent = await http(telegramUrl!, 'GET', '/__messages?chat_id=5');
    expect(sent.body[0].text).toContain('Commands:');
  });

  it('serves /metrics only on METRICS_PORT, behind the bearer token', async () => {
    expect((await http(app.baseUrl, 'GET', '/metrics')).status).toBe(404);
    const metricsBase = `http://127.0.0.1:${metricsPort}`;
    expect((await http(metricsBase, 'GET', '/metrics')).status).toBe(401);
    const res = await http(metricsBase, 'GET', '/metrics', undefined, {
      authorization: `Bearer ${METRICS_TOKEN}`,
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('# TYPE db_client_connection_count gauge');
  });

  it('SIGTERM stops the app and every server it started, exit 0', async () => {
    const redisPort = Number(
      /redis-server at redis:\/\/127\.0\.0\.1:(\d+)/.exec(app.output())?.[1],
    );
    expect(await portOpen(redisPort)).toBe(true);
    const exit = await app.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(await portOpen(redisPort)).toBe(false);
    expect(await portOpen(metricsPort)).toBe(false);
  });

  it('npm run demo: the scripted conversation goes through the webhook and is printed', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'apps/codebot/dist/demo.js')], {
      cwd: tmpdir(),
      env: baseEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(out).toContain('you> /save hello.py print("Hello, CodeBot!")');
    expect(out).toContain('bot> Saved "hello.py" (python, 1 line).');
    expect(out).toContain('bot> (nothing: duplicate update_id, handled once)');
    expect(out).toMatch(/bot> Shared "add\.js": http:\/\/127\.0\.0\.1:\d+\/gist\//);
    // Then the REST API: public read, and a delete refused without the owner's key.
    expect(out).toMatch(/API keys required for writes/);
    expect(out).toMatch(
      /GET \/api\/snippets\?owner=tg:4242 {3}\(no key\)\n {2}→ 200 add\.js, fib\.js/,
    );
    expect(out).toMatch(/DELETE \/api\/snippets\/tg:4242\/add\.js {3}\(no key\)\n {2}→ 401 /);
    expect(out).toMatch(/\(key of someone-else\)\n {2}→ 403 /);
    expect(out).toMatch(/\(key of tg:4242\)\n {2}→ 204\n/);
    expect(out).toContain('CodeBot stopped (exit code 0).');
  }, 120_000);
});
