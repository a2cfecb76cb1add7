import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { closeHttpServer } from '../shutdown/close-http-server.js';

/** Reads a request body as JSON (undefined when empty or not JSON). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

/** A small local HTTP server on 127.0.0.1 with a random port by default. */
export abstract class LocalJsonServer {
  private server?: Server;
  private baseUrl?: string;
  private readonly requests = new Map<string, number>();

  /** Requests received so far, by method and path without the query (`GET /`), e.g. to count health probes. */
  requestsSeen(): Record<string, number> {
    return Object.fromEntries(this.requests);
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** Starts listening; returns the base URL (`http://127.0.0.1:<port>`). */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => {
      const key = `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]}`;
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, description: String(error) });
        else res.destroy();
      });
    });
    // Short keep-alive on purpose: the app's pools must cope with servers that drop idle sockets.
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    this.baseUrl = `http://${host}:${address.port}`;
    return this.baseUrl;
  }

  /** Base URL; throws before {@link start}. */
  get url(): string {
    if (!this.baseUrl) throw new Error('Server not started; call start() first');
    return this.baseUrl;
  }

  /** Stops listening and closes every socket. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeHttpServer(server);
  }
}
