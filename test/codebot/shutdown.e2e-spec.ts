 
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

import { startMongo, startRedis } from '@nest-pools/testing';

import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  startCodebot,
  waitUntil,
} from './codebot-harness.js';

const TOKEN = '777003:shutdown-test-token';
const DRAIN_MS = 1000;
const SLOW_MS = 700;
const TARGET_RPS = 250;

describe('CodeBot graceful shutdown under load (built app as a child process)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let mongo: Awaited<ReturnType<typeof startMongo>>;
  const telegram = new TelegramStandIn(TOKEN);
  const github = new GitHubStandIn();
  let app: CodebotProcess | undefined;

  beforeAll(async () => {
    await buildCodebot();
    [redis, mongo] = await Promise.all([
      startRedis(),
      startMongo({ dbPrefix: 'codebot' }),
      telegram.start(),
      github.start(),
    ]).then(([r, m]) => [r, m] as const);
  }, 240_000);

  afterAll(async () => {
    if (app && app.child.exitCode === null) await app.stop('SIGKILL');
    await Promise.all([redis?.stop(), mongo?.stop(), telegram.close(), github.close()]);
  });

  it('SIGTERM under keep-alive load: no failed request, in-flight ones finish, exit 0 within drain + 2 s', async () => {
    app = await startCodebot(
      baseEnv({
        REDIS_URL: redis.url,
        MONGODB_URL: mongo.url,
        TELEGRAM_API_URL: telegram.url,
        TELEGRAM_BOT_TOKEN: TOKEN,
        GITHUB_API_URL: github.url,
        SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_MS),
        SHUTDOWN_TIMEOUT_MS: '10000',
        RATE_LIMIT_MAX: '1000000',
      }),
    );
    const base = app.baseUrl;
    await waitUntil(
      async () => (await http(base, 'GET', '/health/startup')).status === 200,
      15_000,
    );
    const seed = { owner: 'load', name: 'hot.js', language: 'javascript', code: 'hot();' };
    expect((await http(base, 'POST', '/api/snippets', seed)).status).toBe(201);
    const gistId = github.addGist({ 'slow.py': 'print("slow")' });

    const agent = new Agent({ keepAlive: true, maxSockets: 12 });
    const failures: string[] = [];
    let sent = 0;
    let completed = 0;
    let stopSending = false;
    const inFlight = new Set<Promise<void>>();
    const track = (p: Promise<void>) => {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };
    const fire = (method: string, path: string, body?: unknown, expected = [200]) => {
      sent++;
      track(
        http(base, method, path, body, {}, agent).then(
          (res) => {
            completed++;
            if (!expected.includes(res.status)) failures.push(`${method} ${path} → ${res.status}`);
          },
          (error: Error) => {
            completed++;
            failures.push(`${method} ${path} → ${error.message}`);
          },
        ),
      );
    };

    // Open loop at TARGET_RPS in 20 ms ticks, like a load balancer forwarding user traffic.
    const loadStart = Date.now();
    const generator = (async () => {
      let tick = 0;
      while (!stopSending) {
        const due = Math.floor(((Date.now() - loadStart) / 1000) * TARGET_RPS);
        while (sent < due && !stopSending) fire('GET', '/api/snippets/load/hot.js');
        tick++;
        await sleep(20);
      }
      return tick;
    })();

    await sleep(1500);
    const before = { sent, seconds: (Date.now() - loadStart) / 1000 };
    const rate = before.sent / before.seconds;
    // Slow requests in flight when SIGTERM arrives.
    github.latencyMs = SLOW_MS;
    fire('POST', '/api/snippets/import', { owner: 'load-a', gistId }, [201]);
    fire('POST', '/api/snippets/import', { owner: 'load-b', gistId }, [201]);
    await sleep(50);

    const sigtermAt = Date.now();
    app.child.kill('SIGTERM');

    // The balancer notices readiness 503 and stops routing to this pod.
    const readyDownAfter = await waitUntil(
      async () => (await http(base, 'GET', '/health/ready')).status === 503,
      1000,
      20,
      'readiness 503',
    );
    // One more slow request the balancer still sent: in flight when the server closes.
    await sleep(Math.max(0, DRAIN_MS - readyDownAfter - 300));
    fire('POST', '/api/snippets/import', { owner: 'load-c', gistId }, [201]);
    stopSending = true;
    await generator;

    while (inFlight.size > 0) await Promise.all([...inFlight]);
    const exit = await app.exited;
    agent.destroy();

    expect(rate).toBeGreaterThanOrEqual(200);
    expect(failures).toEqual([]);
    expect(completed).toBe(sent);
    expect(sent).toBeGreaterThan(300);
    expect(exit.code).toBe(0);
    expect(exit.atMs - sigtermAt).toBeLessThanOrEqual(DRAIN_MS + 2000);
    expect(app.output()).not.toContain('Exiting with code 1');
  }, 60_000);
});
