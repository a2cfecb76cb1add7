/* eslint-disable @typescript-eslint/no-unsafe-member-access -- response bodies are JSON checked field by field */
// CodeBot with MongoDB, Redis and the GitHub upstream each behind a TCP fault proxy: once a pool's
// circuit opens, requests that need it answer 503 with Retry-After at once — never 500, never a
// hang — and succeed again within 2 s of the server's return. MongoDB and Redis are tried both
// refusing connections and blackholed (accepting, never answering); GitHub resetting connections.
import { startFaultProxy, type TcpFaultProxy } from '@nest-pools/testing';

import { GitHubStandIn } from '../../apps/codebot/src/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/src/dev/telegram-stand-in.js';
import { median } from '../support/stats.js';
import {
  baseEnv,
  buildCodebot,
  type CodebotProcess,
  http,
  type JsonResponse,
  type RunningStack,
  stackEnv,
  startCodebot,
  startStack,
  waitForStartup,
  waitUntil,
  wireServerIt,
} from './codebot-harness.js';

const TOKEN = '777003:fail-fast-test-token';
const RECOVERY_BOUND_MS = 2000;
const wireIt = wireServerIt('the fail-fast tests (the fault proxy must be in front of MongoDB)');
const external = Boolean(process.env.MONGODB_TEST_URL);

/** `url` with its port replaced by the proxy's. */
function through(url: string, proxy: TcpFaultProxy): string {
  const parsed = new URL(url);
  return url.replace(`:${parsed.port}`, `:${proxy.port}`);
}

/** What the requests below read from an answer's body. */
type Answer = JsonResponse<{ message?: unknown; ok?: unknown } | undefined>;

const openCircuit = (res: Answer): boolean =>
  res.status === 503 && /circuit breaker/.test(String(res.body?.message));

describe('CodeBot fails fast while a backing store is unavailable (built app as a child process)', () => {
  let stack: RunningStack | undefined;
  const github = new GitHubStandIn();
  const proxies: Partial<Record<'mongo' | 'redis' | 'github', TcpFaultProxy>> = {};
  let app: CodebotProcess | undefined;
  let updateId = 1000;

  beforeAll(async () => {
    if (external) return;
    await buildCodebot();
    stack = await startStack({
      telegram: new TelegramStandIn(TOKEN),
      github,
      telegramToken: TOKEN,
      mongo: { tryMemoryServer: false },
    });
    for (const [key, url] of [
      ['mongo', stack.mongo.url],
      ['redis', stack.redis.url],
      ['github', stack.github.url],
    ] as const) {
      const target = new URL(url);
      proxies[key] = await startFaultProxy({
        target: { host: target.hostname, port: Number(target.port) },
      });
    }
    app = await startCodebot(
      baseEnv({
        ...stackEnv({
          ...stack,
          mongo: { url: through(stack.mongo.url, proxies.mongo!) },
          redis: { url: through(stack.redis.url, proxies.redis!) },
          github: { url: through(stack.github.url, proxies.github!) },
        }),
        MONGODB_HEARTBEAT_FREQUENCY_MS: '500',
        MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1000',
        MONGODB_SOCKET_TIMEOUT_MS: '1000',
        MONGODB_CONNECT_TIMEOUT_MS: '1000',
        REDIS_SOCKET_TIMEOUT: '1',
        REDIS_RETRY_MAX_DELAY_MS: '200',
        RATE_LIMIT_MAX: '1000000',
      }),
    );
    await waitForStartup(app.baseUrl);
  }, 240_000);

  afterAll(async () => {
    const exit = await app?.stop('SIGTERM');
    await Promise.all([...Object.values(proxies).map((p) => p.close()), stack?.stop()]);
    if (app) expect(exit?.code).toBe(0);
  });

  /**
   * Applies `fault`, waits until `send` is refused by an open circuit, then times 20 sequential
   * requests (all must be 503 with Retry-After), runs `whileOpen`, and times the recovery after
   * the proxy heals.
   */
  async function failFastAndRecover(
    what: string,
    proxy: TcpFaultProxy,
    fault: () => Promise<void>,
    send: () => Promise<Answer>,
    recovered: (res: Answer) => boolean,
    whileOpen?: () => Promise<void>,
  ): Promise<void> {
    expect(recovered(await send())).toBe(true);
    await fault();
    try {
      // Until the circuit opens, requests wait for the driver's own timeouts and then answer 503
      // (never 500). waitUntil swallows a failed probe, so the statuses are checked after it.
      const before = new Set<number>();
      await waitUntil(
        async () => {
          const res = await send();
          before.add(res.status);
          return openCircuit(res);
        },
        20_000,
        50,
        `${what}: the circuit opens`,
      );
      expect([...before].filter((status) => ![200, 201, 502, 503].includes(status))).toEqual([]);
      const times: number[] = [];
      const answers: Answer[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        answers.push(await send());
        times.push(performance.now() - started);
      }
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 503));
      expect(answers.every((a) => Number(a.headers['retry-after']) >= 1)).toBe(true);
      await whileOpen?.();
      const healedAt = await proxy.heal().then(() => performance.now());
      await waitUntil(async () => recovered(await send()), 10_000, 20, `${what}: requests succeed`);
      const recoveryMs = performance.now() - healedAt;
      console.info(
        `codebot fail-fast, ${what}: median ${median(times).toFixed(1)} ms over 20 requests (max ${Math.max(...times).toFixed(1)} ms); succeeding again ${recoveryMs.toFixed(0)} ms after the server returned`,
      );
      expect(median(times)).toBeLessThanOrEqual(100);
      expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
    } finally {
      await proxy.heal();
    }
  }

  const listSnippets = () => http(app!.baseUrl, 'GET', '/api/snippets?owner=nobody');
  // A webhook update is de-duplicated in Redis before anything else happens.
  const webhook = () => http(app!.baseUrl, 'POST', '/telegram/webhook', { update_id: ++updateId });

  const stores = {
    MongoDB: { proxy: 'mongo', send: listSnippets, recovered: (res: Answer) => res.status === 200 },
    Redis: {
      proxy: 'redis',
      send: webhook,
      recovered: (res: Answer) => res.status === 200 && res.body?.ok === true,
    },
  } as const;
  wireIt.each([
    ['MongoDB', 'refuse'],
    ['MongoDB', 'blackhole'],
    ['Redis', 'refuse'],
    ['Redis', 'blackhole'],
  ] as const)(
    '%s: %s',
    async (store, mode) => {
      const { proxy, send, recovered } = stores[store];
      const target = proxies[proxy]!;
      await failFastAndRecover(`${store} ${mode}`, target, () => target[mode](), send, recovered);
    },
    60_000,
  );

  wireIt(
    'GitHub resetting connections: its circuit opens, health says degraded, imports answer 503',
    async () => {
      const gistId = github.addGist({ 'a.py': 'print(1)\n' });
      let owner = 0;
      // Each import under a new owner, so a recovered import is 201, not 409.
      const importGist = () =>
        http(app!.baseUrl, 'POST', '/api/snippets/import', { owner: `imp-${++owner}`, gistId });
      const githubHealth = async () => {
        const res = await http(app!.baseUrl, 'GET', '/health');
        return { status: res.status, github: res.body?.details?.github };
      };
      expect((await githubHealth()).github?.status).toBe('up');
      await failFastAndRecover(
        'GitHub resetting',
        proxies.github!,
        async () => {
          await proxies.github!.reset();
        },
        importGist,
        (res) => res.status === 201,
        async () => {
          // The circuit is not closed (the live pool stats say so at once); the optional check
          // turns degraded with its next fresh probe (results are cached for a second) while
          // readiness stays 200.
          const breakers = Object.values(
            ((await githubHealth()).github?.stats?.breakers ?? {}) as Record<string, string>,
          );
          expect(breakers.some((state) => state !== 'closed')).toBe(true);
          const healthStatuses = new Set<number>();
          await waitUntil(
            async () => {
              const health = await githubHealth();
              healthStatuses.add(health.status);
              return health.github?.status === 'degraded';
            },
            5000,
            50,
            'the GitHub check degraded',
          );
          expect([...healthStatuses]).toEqual([200]);
          expect((await http(app!.baseUrl, 'GET', '/health/ready')).status).toBe(200);
        },
      );
      // The check itself is cached for a second; it turns up again with the next fresh probe.
      await waitUntil(
        async () => (await githubHealth()).github?.status === 'up',
        RECOVERY_BOUND_MS + 1000,
        50,
        'the GitHub check up again',
      );
    },
    60_000,
  );
});
