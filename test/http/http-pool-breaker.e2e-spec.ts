// Per-origin circuit breakers of an HTTP client against a real local upstream and the TCP fault
// proxy: connection failures open the origin's circuit, requests then fail at once without a
// socket being opened; other origins are untouched; the upstream's return closes it. A saturated
// client stays healthy: its health request has its own socket.
import { jest } from '@jest/globals';
import { PoolUnavailableError } from '@nest-pools/core';
import { HttpPoolHealthIndicator, HttpPoolModule, HttpPoolService } from '@nest-pools/http';
import { startFaultProxy, startHttpUpstream, waitFor } from '@nest-pools/testing';
import { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';

import { median } from '../support/stats.js';

describe('HttpPoolModule circuit breaker', () => {
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  it('opens after consecutive resets, fails 20 requests at once, leaves other origins alone, closes on return', async () => {
    const upstream = await startHttpUpstream({ routes: { '/ok': { status: 200, body: 'ok' } } });
    const other = await startHttpUpstream({ routes: { '/ok': { status: 200, body: 'ok' } } });
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: upstream.port } });
    const moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({
          retries: 0,
          breakerFailures: 3,
          breakerHalfOpenMs: 1000,
          healthTimeoutMs: 500,
          ignoreEnv: true,
        }),
      ],
    }).compile();
    await moduleRef.init();
    const http = moduleRef.get(HttpService);
    const client = moduleRef.get(HttpPoolService).getClient();
    const health = moduleRef.get(HttpPoolHealthIndicator);
    const url = `http://127.0.0.1:${proxy.port}/ok`;
    try {
      expect((await firstValueFrom(http.get(url))).status).toBe(200);
      await proxy.reset();
      for (let i = 0; i < 3; i++) {
        await expect(firstValueFrom(http.get(url))).rejects.toMatchObject({
          code: expect.any(String),
        });
      }
      const origin = new URL(url).origin;
      expect(client.stats().breakers[origin]).toBe('open');
      const connectsBefore = proxy.stats().connections.total;
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        const error = await firstValueFrom(http.get(url)).then(
          () => undefined,
          (e: unknown) => e,
        );
        times.push(performance.now() - t);
        expect(error).toBeInstanceOf(PoolUnavailableError);
      }
      // Nothing reached the network while the circuit was open.
      expect(proxy.stats().connections.total).toBe(connectsBefore);
      expect(median(times)).toBeLessThanOrEqual(100);
      expect((await health.isHealthy('http'))['http']?.status).toBe('down');
      // Another upstream of the same client is not affected.
      expect((await firstValueFrom(http.get(`http://127.0.0.1:${other.port}/ok`))).status).toBe(
        200,
      );

      await proxy.heal();
      const healed = performance.now();
      await waitFor(
        async () => (await firstValueFrom(http.get(url)).catch(() => undefined))?.status === 200,
        { timeoutMs: 10_000, intervalMs: 50, description: 'requests succeed after the heal' },
      );
      expect(client.stats().breakers[origin]).toBe('closed');
      console.info(
        `http breaker: fail-fast median ${median(times).toFixed(2)} ms, recovery ${(performance.now() - healed).toFixed(0)} ms`,
      );
    } finally {
      await moduleRef.close();
      await proxy.close();
      await other.close();
      await upstream.close();
    }
  });

  it('a client whose every socket is busy still answers health on its own socket', async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const upstream = await startHttpUpstream({
      routes: {
        '/health': { status: 200, body: 'ok' },
        '/slow': async (_req, res) => {
          await held;
          res.end('late');
        },
      },
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        HttpPoolModule.forRoot({
          baseURL: `http://127.0.0.1:${upstream.port}`,
          poolLimit: 1,
          limitPerHost: 1,
          healthUrl: '/health',
          healthTimeoutMs: 1000,
          ignoreEnv: true,
        }),
      ],
    }).compile();
    await moduleRef.init();
    const http = moduleRef.get(HttpService);
    const client = moduleRef.get(HttpPoolService).getClient();
    try {
      const slow = [firstValueFrom(http.get('/slow')), firstValueFrom(http.get('/slow'))];
      await waitFor(() => upstream.requestsTo('/slow') === 1 && client.stats().pending >= 1, {
        description: 'the only socket busy and a request queued',
      });
      const result = await moduleRef.get(HttpPoolHealthIndicator).isHealthy('http');
      expect(result['http']?.status).toBe('up');
      release?.();
      await Promise.all(slow);
    } finally {
      release?.();
      await moduleRef.close();
      await upstream.close();
    }
  });
});
