// HTTP client metrics with OpenTelemetry attributes, for both transports, against a real local
// upstream: http_client_request_duration_seconds by status code and error type (a status from
// 400 on, or the failure's code when no response arrived) and
// http_client_connection_duration_seconds for every connection that closed, and the socket
// gauges as they are at the moment of a scrape.
import type { ServerResponse } from 'node:http';

import { getFreePort, waitFor } from '@nest-pools/testing';
import { firstValueFrom } from 'rxjs';

import { type HttpHarness, startHttpHarness } from '../support/http.js';

interface Sample {
  labels: Record<string, string>;
  value: number;
}

async function samples(harness: HttpHarness, name: string): Promise<Sample[]> {
  const metric = await harness.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => (v as { metricName?: string }).metricName === `${name}_count`)
    .map((v) => ({ labels: v.labels as Record<string, string>, value: v.value }));
}

async function gauge(harness: HttpHarness, name: string): Promise<Sample[]> {
  const metric = await harness.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).map((v) => ({
    labels: v.labels as Record<string, string>,
    value: v.value,
  }));
}

describe.each(['undici', 'http'] as const)('HTTP client metrics (%s transport)', (transport) => {
  let harness: HttpHarness;
  let held: ((res: ServerResponse) => void) | undefined;

  beforeAll(async () => {
    harness = await startHttpHarness({
      upstream: {
        routes: {
          '/missing': { status: 404 },
          // Node closes the socket after a response that says `Connection: close`.
          '/closing': { headers: { connection: 'close' } },
          // Answered when the test says so.
          '/held': (_req, res) => {
            held?.(res);
            return true;
          },
        },
      },
      pools: (upstream) => [{ baseURL: upstream.url, transport, retries: 0 }],
    });
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('labels each attempt with its status code and, from 400 on or without a response, an error type', async () => {
    const http = harness.http();
    await firstValueFrom(http.get('/ok'));
    await expect(firstValueFrom(http.get('/missing'))).rejects.toMatchObject({
      response: { status: 404 },
    });
    const port = await getFreePort();
    await expect(firstValueFrom(http.get(`http://127.0.0.1:${port}/nowhere`))).rejects.toThrow();

    const requests = await samples(harness, 'http_client_request_duration_seconds');
    const upstreamPort = String(harness.upstream.port);
    expect(requests).toEqual(
      expect.arrayContaining([
        {
          labels: {
            pool_name: 'default',
            server_address: '127.0.0.1',
            server_port: upstreamPort,
            http_request_method: 'GET',
            http_response_status_code: '200',
            error_type: '',
          },
          value: 1,
        },
        {
          labels: expect.objectContaining({
            server_port: upstreamPort,
            http_response_status_code: '404',
            error_type: '404',
          }) as Record<string, string>,
          value: 1,
        },
        {
          labels: expect.objectContaining({
            server_port: String(port),
            http_response_status_code: '',
            error_type: 'ECONNREFUSED',
          }) as Record<string, string>,
          value: 1,
        },
      ]),
    );
  });

  it('observes how long each connection stayed open once it closes', async () => {
    const http = harness.http();
    // Each answer closes the connection it went over: two closed connections, certain.
    await firstValueFrom(http.get('/closing'));
    await firstValueFrom(http.get('/closing'));
    await waitFor(
      async () =>
        (await samples(harness, 'http_client_connection_duration_seconds')).some(
          (s) => s.labels['server_port'] === String(harness.upstream.port) && s.value >= 2,
        ),
      { description: 'two closed connections observed' },
    );
    const [closed] = (await samples(harness, 'http_client_connection_duration_seconds')).filter(
      (s) => s.labels['server_port'] === String(harness.upstream.port),
    );
    expect(closed?.labels).toEqual({
      pool_name: 'default',
      server_address: '127.0.0.1',
      server_port: String(harness.upstream.port),
    });
  });

  it('scrapes the socket gauges as they are at that moment, not as of a timer tick', async () => {
    const http = harness.http();
    const arrived = new Promise<ServerResponse>((resolve) => (held = resolve));
    const answer = firstValueFrom(http.get('/held')).then(
      () => 'answered',
      (err: unknown) => err,
    );
    const res = await arrived;
    let open: Sample[];
    let pending: Sample[];
    try {
      // The request is on a socket the upstream holds: read by this very scrape.
      open = await gauge(harness, 'http_client_open_connections');
      pending = await gauge(harness, 'http_client_pending_requests');
    } finally {
      res.end('done');
      held = undefined;
    }
    expect(await answer).toBe('answered');
    const port = String(harness.upstream.port);
    expect(open).toContainEqual({
      labels: expect.objectContaining({
        server_port: port,
        http_connection_state: 'active',
      }) as Record<string, string>,
      value: 1,
    });
    expect(pending).toContainEqual({
      labels: expect.objectContaining({ server_port: port }) as Record<string, string>,
      value: 0,
    });
  });
});
