// The servers an application benchmark talks to, in one child process: a real redis-server, the
// wire-protocol MongoDB server (in a process of its own, see mongo-child.mjs), CodeBot's GitHub
// and Telegram stand-ins, and one TCP fault proxy per application and server. The proxies add
// the round-trip latency and count the connections each application opens. Driven over IPC by
// stack.mjs.
import { fileURLToPath } from 'node:url';

import { startFaultProxy, startRedis } from '@nest-pools/testing';
import { Redis } from 'ioredis';

import { GitHubStandIn } from '../../apps/codebot/dist/dev/github-stand-in.js';
import { TelegramStandIn } from '../../apps/codebot/dist/dev/telegram-stand-in.js';
import { forkWithIpc, serveIpc } from './ipc.mjs';

const SERVICES = ['mongo', 'redis', 'github', 'telegram'];
const apps = (process.env.BENCH_STACK_APPS ?? 'app').split(',');
const telegramToken = process.env.BENCH_TELEGRAM_TOKEN ?? '100000:bench-token';

const mongo = await forkWithIpc(fileURLToPath(new URL('./mongo-child.mjs', import.meta.url)));
const redis = await startRedis();
// Straight to redis-server (no proxy), for INFO only; it reconnects by itself after a restart.
const redisAdmin = new Redis(redis.port, '127.0.0.1', {
  lazyConnect: false,
  maxRetriesPerRequest: 1,
});
redisAdmin.on('error', () => undefined);
const github = new GitHubStandIn();
const telegram = new TelegramStandIn(telegramToken);
await Promise.all([github.start(), telegram.start()]);
// A gist whose files are all empty: importing it is one GitHub round trip and a 422, no write.
const emptyGistId = github.addGist({ 'empty.txt': '' }, 'nothing to import');

const targets = {
  mongo: () => ({ host: '127.0.0.1', port: Number(new URL(mongo.info.url).port) }),
  redis: () => ({ host: '127.0.0.1', port: redis.port }),
  github: () => ({ host: '127.0.0.1', port: Number(new URL(github.url).port) }),
  telegram: () => ({ host: '127.0.0.1', port: Number(new URL(telegram.url).port) }),
};
const proxies = {};
for (const app of apps) {
  proxies[app] = {};
  for (const service of SERVICES) {
    proxies[app][service] = await startFaultProxy({ target: targets[service]() });
  }
}
const all = () => apps.flatMap((app) => SERVICES.map((service) => proxies[app][service]));

function urlsOf(app) {
  const p = proxies[app];
  return {
    MONGODB_URL: `mongodb://127.0.0.1:${p.mongo.port}/bench?directConnection=true`,
    REDIS_URL: `redis://127.0.0.1:${p.redis.port}`,
    GITHUB_API_URL: `http://127.0.0.1:${p.github.port}`,
    TELEGRAM_API_URL: `http://127.0.0.1:${p.telegram.port}`,
    TELEGRAM_BOT_TOKEN: telegramToken,
  };
}

function counts() {
  const out = {};
  for (const app of apps) {
    out[app] = {};
    for (const service of SERVICES) {
      const stats = proxies[app][service].stats();
      out[app][service] = { total: stats.connections.total, open: stats.connections.open };
    }
  }
  return out;
}

let stopping;
async function stopAll() {
  stopping ??= (async () => {
    redisAdmin.disconnect();
    await Promise.all(all().map((proxy) => proxy.close()));
    await Promise.all([redis.stop(), mongo.stop(), github.close(), telegram.close()]);
  })();
  return stopping;
}

serveIpc({
  async latency({ ms }) {
    await Promise.all(all().map((proxy) => (ms > 0 ? proxy.latency(ms) : proxy.heal())));
  },
  counts,
  /** Health pings each server has answered: MongoDB `ping`, Redis PING, `GET /` on the stand-ins. */
  async pings() {
    const commands = await mongo.call('commands');
    const stats = await redisAdmin.info('commandstats');
    const redisPings = Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    return {
      mongo: commands.ping ?? 0,
      redis: redisPings,
      github: github.requestsSeen()['GET /'] ?? 0,
      telegram: telegram.requestsSeen()['GET /'] ?? 0,
    };
  },
  async 'restart-redis'() {
    await redis.restart();
  },
  async 'restart-mongo'() {
    await mongo.call('restart');
  },
  async stop() {
    await stopAll();
    setImmediate(() => process.exit(0));
  },
});
process.on('disconnect', () => void stopAll().then(() => process.exit(0)));
process.send({
  ready: true,
  emptyGistId,
  apps: Object.fromEntries(apps.map((app) => [app, urlsOf(app)])),
  redisPid: redis.pid,
});
