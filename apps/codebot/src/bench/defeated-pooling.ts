import { Redis } from 'ioredis';

import type { RedisCommands } from '../redis/redis-commands.js';

/**
 * Benchmarks only (`CODEBOT_BENCH_DEFEAT_POOLING=1`): a {@link RedisCommands} that opens a new
 * connection for every command and quits it afterwards, as code without a shared client does.
 * `npm run bench -- load` measures CodeBot with it to show what connection reuse is worth.
 */
export function connectionPerCommand(url: string): RedisCommands {
  const once = async <T>(command: (client: Redis) => Promise<T>): Promise<T> => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await command(client);
    } finally {
      await client.quit().catch(() => client.disconnect());
    }
  };
  const commands = {
    get: (key: string) => once((c) => c.get(key)),
    set: (...args: unknown[]) =>
      once((c) => (c.set as (...a: unknown[]) => Promise<unknown>)(...args)),
    del: (...keys: string[]) => once((c) => c.del(...keys)),
    eval: (...args: unknown[]) =>
      once((c) => (c.eval as (...a: unknown[]) => Promise<unknown>)(...args)),
  };
  return commands as unknown as RedisCommands;
}
