// The Redis pool's circuit breaker against a real redis-server behind the TCP fault proxy:
// connection failures open it, then commands fail at once with PoolUnavailableError; reply errors
// never count; the server's return closes it.
import { jest } from '@jest/globals';
import { POOL_METRICS_REGISTRY, PoolUnavailableError } from '@nest-pools/core';
import { RedisPoolHealthIndicator, RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import { startFaultProxy, startRedis, waitFor } from '@nest-pools/testing';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

import { median } from '../support/stats.js';

async function breakerGauge(registry: Registry): Promise<number | undefined> {
  const metric = await registry.getSingleMetric('pool_circuit_breaker_state')?.get();
  return metric?.values.find((v) => v.labels['pool_system'] === 'redis')?.value;
}

describe('RedisPoolModule circuit breaker (real redis-server, fault proxy)', () => {
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  async function setup() {
    const server = await startRedis();
    const proxy = await startFaultProxy({ target: { host: server.host, port: server.port } });
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisPoolModule.forRoot({
          url: `redis://${proxy.host}:${proxy.port}`,
          commandTimeoutMs: 300,
          healthTimeoutMs: 300,
          healthCheckIntervalMs: 0,
          retryMaxDelayMs: 200,
          breakerFailures: 3,
          breakerHalfOpenMs: 1000,
          ignoreEnv: true,
        }),
      ],
    }).compile();
    await moduleRef.init();
    const close = async () => {
      await moduleRef.close();
      await proxy.close();
      await server.stop();
    };
    return {
      server,
      proxy,
      moduleRef,
      close,
      client: moduleRef.get(RedisPoolService).getClient(),
      registry: moduleRef.get<Registry>(POOL_METRICS_REGISTRY),
      health: moduleRef.get(RedisPoolHealthIndicator),
    };
  }

  it('opens after consecutive timeouts, then fails 20 sequential commands at once; recovers when the server answers', async () => {
    const { proxy, client, registry, health, close } = await setup();
    try {
      await client.set('k', 'v');
      expect(await breakerGauge(registry)).toBe(0);
      await proxy.blackhole();
      for (let i = 0; i < 3; i++) {
        await expect(client.get('k')).rejects.toThrow(/timed out/i);
      }
      expect(await breakerGauge(registry)).toBe(2);

      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const error = await client.get('k').then(
          () => undefined,
          (e: unknown) => e,
        );
        times.push(performance.now() - started);
        expect(error).toBeInstanceOf(PoolUnavailableError);
        expect((error as PoolUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
      // Refused before anything is queued or sent: microseconds, far below the 100 ms asked for.
      expect(median(times)).toBeLessThanOrEqual(100);
      const open = await health.isHealthy('redis');
      expect(open['redis']?.status).toBe('down');

      await proxy.heal();
      const healed = performance.now();
      await waitFor(async () => (await client.get('k').catch(() => undefined)) === 'v', {
        timeoutMs: 10_000,
        intervalMs: 50,
        description: 'a command succeeds after the heal',
      });
      const recoveryMs = performance.now() - healed;
      expect(await breakerGauge(registry)).toBe(0);
      // The down result above may still be cached for its 250 ms: wait for a fresh probe.
      await waitFor(async () => (await health.isHealthy('redis'))['redis']?.status === 'up', {
        timeoutMs: 5000,
        intervalMs: 50,
        description: 'health up once the circuit closed',
      });
      console.info(
        `redis breaker: fail-fast median ${median(times).toFixed(3)} ms, recovery ${recoveryMs.toFixed(0)} ms`,
      );
    } finally {
      await close();
    }
  });

  it('counts a command issued while a reconnect is in its handshake', async () => {
    const { proxy, client, registry, close } = await setup();
    try {
      await client.set('k', 'v');
      await proxy.blackhole();
      // The proxy accepts the new connection and holds the handshake: the client stays 'connect'.
      (client as Redis).stream.destroy();
      await waitFor(() => client.status === 'connect', {
        timeoutMs: 10_000,
        intervalMs: 5,
        description: 'the client reconnecting, in its handshake',
      });
      const errors: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        expect(client.status).toBe('connect');
        errors.push(
          await client.get('k').then(
            () => undefined,
            (e: unknown) => e,
          ),
        );
      }
      // The first ones time out; once their timeouts open the circuit the rest are refused.
      expect(String(errors[0])).toMatch(/timed out/i);
      for (const error of errors) {
        expect(error instanceof PoolUnavailableError || /timed out/i.test(String(error))).toBe(
          true,
        );
      }
      expect(await breakerGauge(registry)).toBe(2);
    } finally {
      await proxy.heal();
      await close();
    }
  });

  it('reply errors (WRONGTYPE) never count against the circuit', async () => {
    const { client, registry, close } = await setup();
    try {
      await client.set('s', 'text');
      for (let i = 0; i < 10; i++) {
        await expect(client.lpush('s', 'x')).rejects.toThrow(/WRONGTYPE/);
      }
      expect(await breakerGauge(registry)).toBe(0);
      expect(await client.get('s')).toBe('text');
    } finally {
      await close();
    }
  });

  it('a refusing server opens the circuit; the reconnect closes it at once', async () => {
    const { proxy, client, registry, close } = await setup();
    try {
      await client.set('k', 'v');
      await proxy.refuse();
      await waitFor(
        async () => {
          await client.get('k').catch(() => undefined);
          return (await breakerGauge(registry)) === 2;
        },
        { timeoutMs: 10_000, intervalMs: 20, description: 'the circuit opens while refused' },
      );
      await expect(client.get('k')).rejects.toBeInstanceOf(PoolUnavailableError);
      await proxy.heal();
      await waitFor(async () => (await breakerGauge(registry)) === 0, {
        timeoutMs: 10_000,
        intervalMs: 20,
        description: 'the circuit closes after the reconnect',
      });
      expect(await client.get('k')).toBe('v');
    } finally {
      await close();
    }
  });
});
