import { jest } from '@jest/globals';
import { getHttpPoolClientToken, getHttpPoolToken, type HttpPoolClient } from '@nest-pools/http';
import { type HttpTestUpstream, startHttpUpstream, waitFor } from '@nest-pools/testing';
import type { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';

import { startHttpPoolsWithEnv } from '../support/http.js';
import { useTestCertificates } from '../support/tls.js';

describe('HttpPoolModule over HTTP/2 (HTTP_ALLOW_H2, local h2 TLS upstream)', () => {
  const suite = useTestCertificates('http-h2');
  let h2: HttpTestUpstream;
  let dual: HttpTestUpstream;
  let http1: HttpTestUpstream;
  /** Requests of `/held` being answered by the upstream right now, and the most seen at once. */
  let held = 0;
  let mostHeld = 0;
  let release: () => void = () => undefined;
  let released = Promise.resolve();

  beforeAll(async () => {
    const tls = suite.serverTls();
    h2 = await startHttpUpstream({
      tls,
      http2: true,
      routes: {
        '/held': async (_req, res) => {
          held++;
          mostHeld = Math.max(mostHeld, held);
          await released;
          held--;
          res.end('released');
        },
      },
    });
    dual = await startHttpUpstream({ tls, http2: { allowHTTP1: true } });
    http1 = await startHttpUpstream({ tls });
  });

  afterAll(async () => {
    release();
    await h2?.close();
    await dual?.close();
    await http1?.close();
  });

  beforeEach(() => {
    h2.resetCounters();
    dual.resetCounters();
    http1.resetCounters();
    held = 0;
    mostHeld = 0;
    released = new Promise((resolve) => (release = resolve));
  });

  afterEach(() => jest.restoreAllMocks());

  const get = (http: HttpService, url: string) => firstValueFrom(http.get<string>(url));

  it('negotiates h2 and runs limitPerHost concurrent streams on one session, queueing the rest', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await startHttpPoolsWithEnv(
      { HTTP_ALLOW_H2: 'true', HTTP_TLS_CA_FILE: suite.certs.ca },
      { limitPerHost: 4, poolLimit: 50 },
    );
    try {
      const http = moduleRef.get<HttpService>(getHttpPoolToken());
      const client = moduleRef.get<HttpPoolClient>(getHttpPoolClientToken());
      const replies = Promise.all(Array.from({ length: 12 }, () => get(http, `${h2.url}/held`)));
      // Four streams reach the upstream; the other eight wait in the client, not on new sockets.
      await waitFor(() => held === 4 && client.stats().pending === 8, {
        description: '4 streams at the upstream and 8 requests queued in the client',
      });
      expect(client.stats()).toMatchObject({ connections: 1, acquired: 12 });
      release();
      expect((await replies).map((r) => r.data)).toEqual(Array(12).fill('released'));
      expect(mostHeld).toBe(4);
      for (let i = 0; i < 10; i++) expect((await get(http, `${h2.url}/seq`)).status).toBe(200);
    } finally {
      await moduleRef.close();
    }
    expect(h2.totalRequests).toBe(22);
    expect(new Set(h2.requests.map((r) => r.httpVersion))).toEqual(new Set(['2.0']));
    expect(h2.totalSessions).toBe(1);
    expect(h2.totalConnections).toBe(1);
    expect(warn).not.toHaveBeenCalled();
    await waitFor(() => h2.openConnections === 0, {
      description: 'the session closed at shutdown',
    });
  });

  it('offers h2 only on the clients that ask for it', async () => {
    const moduleRef = await startHttpPoolsWithEnv(
      { HTTP_TLS_CA_FILE: suite.certs.ca },
      {},
      { name: 'multiplexed', allowH2: true },
    );
    try {
      const plain = moduleRef.get<HttpService>(getHttpPoolToken());
      const multiplexed = moduleRef.get<HttpService>(getHttpPoolToken('multiplexed'));
      expect((await get(plain, `${dual.url}/plain`)).status).toBe(200);
      expect((await get(multiplexed, `${dual.url}/multiplexed`)).status).toBe(200);
    } finally {
      await moduleRef.close();
    }
    expect(dual.requests.map((r) => [r.path, r.httpVersion])).toEqual([
      ['/plain', '1.1'],
      ['/multiplexed', '2.0'],
    ]);
    expect(dual.totalSessions).toBe(1);
  });

  it('warns once per origin when an upstream of an HTTP/2 client answers HTTP/1.1', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await startHttpPoolsWithEnv(
      { HTTP_TLS_CA_FILE: suite.certs.ca },
      { name: 'eager', allowH2: true, keepAliveTimeoutMs: 1 },
    );
    try {
      const http = moduleRef.get<HttpService>(getHttpPoolToken('eager'));
      // A 1 ms idle timeout closes the socket after each response: three connections, one warning.
      for (let i = 0; i < 3; i++) {
        expect((await get(http, `${http1.url}/old`)).status).toBe(200);
        await waitFor(() => http1.openConnections === 0, { description: 'the idle socket closed' });
      }
    } finally {
      await moduleRef.close();
    }
    expect(http1.totalConnections).toBe(3);
    expect(http1.requests.map((r) => r.httpVersion)).toEqual(['1.1', '1.1', '1.1']);
    expect(warn.mock.calls.map(([message]) => String(message))).toEqual([
      expect.stringContaining(
        `${http1.url} answered HTTP/1.1 to HTTP client "eager", which offers HTTP/2`,
      ),
    ]);
  });
});
