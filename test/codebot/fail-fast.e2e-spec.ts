/* eslint-disable @typescript-eslint/no-unsafe-member-access -- response bodies are JSON checked field by field */
// CodeBot with MongoDB behind the TCP fault proxy: once the pool's circuit opens, requests that
// need MongoDB answer 503 with Retry-After at once — never 500, never a hang — and succeed again
// after the server returns.
import { startFaultProxy } from '@nest-pools/testing';

import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import { median } from '../support/stats.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  type RunningStack,
  stackEnv,
  startCodebot,
  startStack,
  waitForStartup,
  waitUntil,
} from './codebot-harness.js';

const TOKEN = '777003:fail-fast-test-token';
const external = Boolean(process.env.MONGODB_TEST_URL);
const wireIt = external ? it.skip : it;
if (external) {
  console.log(
    'skipping the fail-fast test: MONGODB_TEST_URL names a server the proxy is not in front of',
  );
}

describe('CodeBot fails fast while MongoDB is unavailable (built app as a child process)', () => {
  let stack: RunningStack | undefined;
  let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
  let app: CodebotProcess | undefined;

  beforeAll(async () => {
    if (external) return;
    await buildCodebot();
    stack = await startStack({
      telegram: new TelegramStandIn(TOKEN),
      github: new GitHubStandIn(),
      telegramToken: TOKEN,
      mongo: { tryMemoryServer: false },
    });
    const target = new URL(stack.mongo.url);
    proxy = await startFaultProxy({ target: { host: target.hostname, port: Number(target.port) } });
    const proxied = stack.mongo.url.replace(`:${target.port}/`, `:${proxy.port}/`);
    app = await startCodebot(
      baseEnv({
        ...stackEnv({ ...stack, mongo: { url: proxied } }),
        MONGODB_HEARTBEAT_FREQUENCY_MS: '500',
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1000',
      }),
    );
    await waitForStartup(app.baseUrl);
  }, 240_000);

  afterAll(async () => {
    const exit = await app?.stop('SIGTERM');
    await Promise.all([proxy?.close(), stack?.stop()]);
    if (app) expect(exit?.code).toBe(0);
  });

  wireIt(
    '503 with Retry-After at once after the circuit opens; 200 again once MongoDB is back',
    async () => {
      const base = app!.baseUrl;
      const list = () => http(base, 'GET', '/api/snippets?owner=nobody');
      expect((await list()).status).toBe(200);
      await proxy!.refuse();
      // Until the circuit opens, requests wait for server selection (1 s) and still answer 503.
      await waitUntil(
        async () => {
          const res = await list();
          expect([200, 503]).toContain(res.status);
          return res.status === 503 && /circuit breaker/.test(String(res.body?.message));
        },
        20_000,
        50,
        'the circuit opens',
      );
      const times: number[] = [];
      const statuses: number[] = [];
      const retryAfter: unknown[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const res = await list();
        times.push(performance.now() - started);
        statuses.push(res.status);
        retryAfter.push(res.headers['retry-after']);
      }
      expect(statuses).toEqual(Array.from({ length: 20 }, () => 503));
      expect(retryAfter.every((v) => Number(v) >= 1)).toBe(true);
      expect(median(times)).toBeLessThanOrEqual(100);

      await proxy!.heal();
      const healed = performance.now();
      await waitUntil(
        async () => (await list()).status === 200,
        10_000,
        50,
        'requests succeed again',
      );
      console.info(
        `codebot fail-fast: median ${median(times).toFixed(1)} ms over 20 requests; 200 again ${(performance.now() - healed).toFixed(0)} ms after MongoDB returned`,
      );
    },
    60_000,
  );
});
