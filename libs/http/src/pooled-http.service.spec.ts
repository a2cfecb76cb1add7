import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import { type InternalAxiosRequestConfig, isCancel } from 'axios';
import { firstValueFrom } from 'rxjs';

import type { HttpPoolClient } from './http-pool.client.js';
import { HttpPoolModule } from './http-pool.module.js';
import { getHttpPoolClientToken } from './http-pool.utils.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PooledHttpService cancellation', () => {
  let server: http.Server;
  let moduleRef: TestingModule;
  let service: HttpService;
  let client: HttpPoolClient;
  let closedEarly = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') {
        const timer = setTimeout(() => res.end('late'), 2000);
        res.on('close', () => {
          if (!res.writableEnded) closedEarly++;
          clearTimeout(timer);
        });
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    moduleRef = await Test.createTestingModule({
      imports: [HttpPoolModule.forRoot({ baseURL: `http://127.0.0.1:${port}`, retries: 0 })],
    }).compile();
    await moduleRef.init();
    service = moduleRef.get(HttpService);
    client = moduleRef.get(getHttpPoolClientToken('default'));
  });

  afterAll(async () => {
    await moduleRef?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** Unsubscribes from a request in flight; resolves once the upstream saw the socket close. */
  async function unsubscribeMidway(): Promise<void> {
    const before = closedEarly;
    const errors: unknown[] = [];
    const sub = service.get('/slow').subscribe({ error: (error: unknown) => errors.push(error) });
    await sleep(50);
    expect(client.stats().acquired).toBe(1);
    sub.unsubscribe();
    for (let i = 0; i < 50 && closedEarly === before; i++) await sleep(10);
    expect(closedEarly).toBe(before + 1);
    expect(client.stats().acquired).toBe(0);
    // The Observable was torn down: nobody hears about the cancel.
    expect(errors).toEqual([]);
  }

  it('cancels without adding a signal when no request interceptor is registered', async () => {
    const ok = await firstValueFrom(service.get<{ path: string }>('/ok'));
    expect(ok.data.path).toBe('/ok');
    expect(ok.config.signal).toBeUndefined();
    await unsubscribeMidway();
  });

  it("still honours the caller's own signal on that path", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error: unknown = await firstValueFrom(
      service.get('/slow', { signal: controller.signal }),
    ).catch((e: unknown) => e);
    expect(isCancel(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('ERR_CANCELED');
  });

  it('falls back to an AbortSignal when a request interceptor runs first', async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const id = service.axiosRef.interceptors.request.use(
      async (config: InternalAxiosRequestConfig) => {
        await sleep(1);
        seen.push(config.signal as AbortSignal | undefined);
        return config;
      },
    );
    try {
      await unsubscribeMidway();
      expect(seen[0]).toBeInstanceOf(AbortSignal);
      expect(seen[0]?.aborted).toBe(true);
    } finally {
      service.axiosRef.interceptors.request.eject(id);
    }
    const ok = await firstValueFrom(service.get<{ path: string }>('/after'));
    expect(ok.config.signal).toBeUndefined();
  });
});
