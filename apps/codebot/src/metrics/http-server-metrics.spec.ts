import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';

import express, { type Response } from 'express';
import { Registry } from 'prom-client';

import { AppMetrics } from './app-metrics.service.js';
import { HttpServerMetrics } from './http-server-metrics.js';

/** Value of `name{labels}` in the registry's exposition, or undefined when the series is absent. */
async function sample(registry: Registry, series: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Requests counted under `route` and `status` (GET). */
function counted(registry: Registry, route: string, status: number): Promise<number | undefined> {
  return sample(
    registry,
    `http_server_request_duration_seconds_count{http_request_method="GET",http_route="${route}",http_response_status_code="${status}"}`,
  );
}

/** Requests with `method` in flight, as a scrape reads them. */
function active(registry: Registry, method = 'GET'): Promise<number | undefined> {
  return sample(registry, `http_server_active_requests{http_request_method="${method}"}`);
}

describe('HttpServerMetrics', () => {
  let registry: Registry;
  let server: Server;
  let serverMetrics: HttpServerMetrics;
  let base: string;
  let release: () => void = () => undefined;
  let entered: Promise<void>;
  let slowResponse: Promise<Response>;

  beforeEach(async () => {
    registry = new Registry();
    serverMetrics = new HttpServerMetrics(new AppMetrics(registry));
    let signalEntered: () => void = () => undefined;
    let gotResponse: (res: Response) => void = () => undefined;
    entered = new Promise((resolve) => (signalEntered = resolve));
    slowResponse = new Promise((resolve) => (gotResponse = resolve));
    const app = express();
    app.get('/items/:id', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/slow', (_req, res) => {
      gotResponse(res);
      signalEntered();
      release = () => res.status(202).end();
    });
    server = createServer(app);
    serverMetrics.attach(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    release();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('counts each answer under its route template and status, never the raw path', async () => {
    for (const path of ['/items/1', '/items/2', '/nowhere']) {
      const res = await fetch(`${base}${path}`);
      await res.arrayBuffer();
    }
    // A response's 'close' comes a tick after its last byte was written, before the client reads it.
    expect(await counted(registry, '/items/:id', 200)).toBe(2);
    expect(await counted(registry, 'unmatched', 404)).toBe(1);
    expect(await registry.metrics()).not.toContain('/items/1');
  });

  it('shows a request as active while it is handled, and not after', async () => {
    const answer = fetch(`${base}/slow`);
    await entered;
    expect(await active(registry)).toBe(1);
    release();
    await (await answer).arrayBuffer();
    expect(await active(registry)).toBe(0);
    expect(await counted(registry, '/slow', 202)).toBe(1);
  });

  it('ends a request whose client went away before the answer', async () => {
    const { port } = server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await entered;
    expect(await active(registry)).toBe(1);
    // The metrics' 'close' listener was added first, so it has run when this one runs.
    const closed = once(await slowResponse, 'close');
    socket.destroy();
    await closed;
    expect(await active(registry)).toBe(0);
    expect(await counted(registry, '/slow', 200)).toBe(1);
  });

  it('counts nothing once detached', async () => {
    await (await fetch(`${base}/items/1`)).arrayBuffer();
    serverMetrics.detach();
    await (await fetch(`${base}/items/1`)).arrayBuffer();
    expect(await counted(registry, '/items/:id', 200)).toBe(1);
  });

  it('reuses the gauge a second AppMetrics finds on the same registry', async () => {
    const first = new AppMetrics(registry);
    const second = new AppMetrics(registry);
    expect(second.activeRequests).toBe(first.activeRequests);
    first.requestStarted('POST');
    second.requestStarted('POST');
    expect(await active(registry, 'POST')).toBe(2);
  });
});
