import { existsSync } from 'node:fs';
import { connect } from 'node:net';

import {
  RedisTestServer,
  resolveRedisServerBinary,
  spawnRedisProcess,
  startRedis,
} from '@nest-pools/testing';
import { Redis } from 'ioredis';

/** Opens a raw TCP connection and reports the error code, or 'connected'. */
async function probe(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Sends an inline PING without authenticating and returns the first reply line. */
async function rawPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    let reply = '';
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.split('\r\n')[0] ?? '');
      }
    });
    socket.once('error', reject);
  });
}

function client(url: string): Redis {
  return new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
}

describe('resolveRedisServerBinary', () => {
  it('prefers REDISMS_SYSTEM_BINARY and falls back to PATH', () => {
    const fromPath = resolveRedisServerBinary({ PATH: process.env['PATH'] });
    expect(existsSync(fromPath)).toBe(true);
    expect(resolveRedisServerBinary({ REDISMS_SYSTEM_BINARY: fromPath, PATH: '' })).toBe(fromPath);
  });

  it('explains what to do when no binary can be found', () => {
    expect(() => resolveRedisServerBinary({ PATH: '/nonexistent' })).toThrow(/install it/);
    expect(() => resolveRedisServerBinary({ REDISMS_SYSTEM_BINARY: '/nonexistent/redis' })).toThrow(
      /REDISMS_SYSTEM_BINARY=\/nonexistent\/redis is not an executable/,
    );
  });
});

describe('RedisTestServer', () => {
  let redis: RedisTestServer;

  beforeAll(async () => {
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('serves real commands on a loopback port', async () => {
    expect(redis.host).toBe('127.0.0.1');
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const c = client(redis.url);
    await c.connect();
    await c.set('greeting', 'hello');
    expect(await c.get('greeting')).toBe('hello');
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await c.quit();
  });

  it('restarts on the same port and keeps data when persistence is on', async () => {
    const port = redis.port;
    const pidBefore = redis.pid;
    const c = client(redis.url);
    await c.connect();
    await c.set('survives', 'restart');
    await c.quit();

    await redis.restart();

    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(pidBefore);
    const again = client(redis.url);
    await again.connect();
    expect(await again.get('survives')).toBe('restart');
    await again.quit();
  });

  it('refuses connections while stopped and comes back on the same port', async () => {
    const port = redis.port;
    await redis.stop({ keepData: true });
    expect(redis.running).toBe(false);
    expect(await probe(port)).toBe('ECONNREFUSED');
    await redis.start();
    expect(redis.running).toBe(true);
    expect(redis.port).toBe(port);
    expect(await probe(port)).toBe('connected');
  });
});

describe('RedisTestServer with a password', () => {
  it('requires the password and puts it into the url', async () => {
    const redis = await startRedis({ password: 'p@ss word' });
    try {
      expect(redis.url).toBe(`redis://:p%40ss%20word@127.0.0.1:${redis.port}`);
      expect(await rawPing(redis.port)).toMatch(/^-NOAUTH/);
      const authed = client(redis.url);
      await authed.connect();
      expect(await authed.ping()).toBe('PONG');
      await authed.quit();
    } finally {
      await redis.stop();
    }
    expect(redis.dataDir).toBeUndefined();
  });

  it('fails loudly when a fixed port is taken', async () => {
    const first = await startRedis();
    try {
      const second = new RedisTestServer({ port: first.port });
      await expect(second.start()).rejects.toThrow(/the port is in use/);
      await second.stop();
    } finally {
      await first.stop();
    }
  });
});

describe('spawnRedisProcess', () => {
  it('starts a raw redis-server with extra args and cleans up its directory', async () => {
    const proc = await spawnRedisProcess({ args: ['--maxmemory', '12mb'] });
    expect(existsSync(proc.dir)).toBe(true);
    const c = client(proc.url);
    await c.connect();
    expect(await c.ping()).toBe('PONG');
    expect(await c.config('GET', 'maxmemory')).toEqual(['maxmemory', String(12 * 1024 * 1024)]);
    await c.quit();

    await proc.stop();
    expect(proc.exited).toBe(true);
    expect(existsSync(proc.dir)).toBe(false);
    expect(await probe(proc.port)).toBe('ECONNREFUSED');
  });

  it('runs a sentinel from a config file next to a replica pair', async () => {
    const primary = await spawnRedisProcess();
    const replica = await spawnRedisProcess({
      args: ['--replicaof', '127.0.0.1', String(primary.port)],
    });
    const sentinel = await spawnRedisProcess({
      config: `sentinel monitor mymaster 127.0.0.1 ${primary.port} 1\n`,
      args: ['--sentinel'],
    });
    try {
      const s = client(sentinel.url);
      await s.connect();
      const addr = await s.call('SENTINEL', 'get-master-addr-by-name', 'mymaster');
      expect(addr).toEqual(['127.0.0.1', String(primary.port)]);
      s.disconnect();
    } finally {
      await Promise.all([sentinel.stop(), replica.stop(), primary.stop()]);
    }
  });

  it('reports the server output when redis-server refuses its arguments', async () => {
    await expect(spawnRedisProcess({ args: ['--no-such-option', 'x'] })).rejects.toThrow(
      /no-such-option/i,
    );
  });
});
