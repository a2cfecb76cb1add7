// Starts the benchmark stack (stack-child.mjs) for a set of applications and gives the bench a
// small API over it: the env that points each app at its own proxies, latency on every proxy,
// connection counts per app and server, and Redis / MongoDB restarts.
import { fileURLToPath } from 'node:url';

import { forkWithIpc } from './ipc.mjs';

/** Starts the stack with one set of proxies per name in `apps`. Call `stop()` when done. */
export async function startStack(apps) {
  const stack = await forkWithIpc(fileURLToPath(new URL('./stack-child.mjs', import.meta.url)), {
    env: { BENCH_STACK_APPS: apps.join(',') },
  });
  const { info } = stack;
  return {
    emptyGistId: info.emptyGistId,
    /** Env variables that point app `name` at its proxies. */
    envFor: (name) => ({ ...info.apps[name] }),
    /** Adds `ms` per direction on every proxy (0 removes it). */
    latency: (ms) => stack.call('latency', { ms }),
    /** `{ app: { mongo: { total, open }, redis: …, github: …, telegram: … } }`. */
    counts: () => stack.call('counts'),
    /** `{ mongo, redis, github, telegram }`: health pings each server answered so far. */
    pings: () => stack.call('pings'),
    restartRedis: () => stack.call('restart-redis'),
    restartMongo: () => stack.call('restart-mongo'),
    pids: () => ({ stack: stack.child.pid, redis: info.redisPid }),
    stop: () => stack.stop(),
  };
}

/** Connections each app opened between two {@link startStack} `counts()` snapshots. */
export function newConnections(before, after) {
  const out = {};
  for (const [app, services] of Object.entries(after)) {
    out[app] = {};
    for (const [service, { total }] of Object.entries(services)) {
      out[app][service] = total - (before[app]?.[service]?.total ?? 0);
    }
  }
  return out;
}
