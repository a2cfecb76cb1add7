import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import {
  Agent,
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, connect, type LookupFunction, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Options of {@link ForwardProxy} and {@link startForwardProxy}. */
export interface ForwardProxyOptions {
  /**
   * Require Basic proxy authentication with these credentials; requests and CONNECTs without
   * them (or with others) get `407 Proxy Authentication Required`.
   * @default undefined (no authentication)
   */
  auth?: { username: string; password: string };
  /**
   * Host names the proxy resolves itself, to an IP address (`{ 'only-via-proxy.test':
   * '127.0.0.1' }`): a made-up name reachable only through the proxy. Other names go to the
   * system resolver.
   * @default {}
   */
  hosts?: Readonly<Record<string, string>>;
  /**
   * Port to listen on.
   * @default 0 (a free port)
   */
  port?: number;
}

/** What the proxy did for one target (`host:port` as the client asked for it). */
export interface ForwardProxyTargetCounts {
  /** Plain HTTP requests forwarded (absolute-URI form). */
  requests: number;
  /** CONNECT tunnels opened. */
  connects: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `host:port` of an absolute URL, with the scheme's default port when none is written. */
function targetOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/** Splits a CONNECT authority (`host:443`, `[::1]:443`). */
function splitAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(authority);
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

/**
 * A real HTTP forward proxy on 127.0.0.1 for tests: plain HTTP requests in absolute-URI form are
 * forwarded, `CONNECT host:port` opens a TCP tunnel (HTTPS goes through it end to end). It counts
 * what it did per target, can require Basic authentication, and can resolve made-up host names
 * that only it knows, so a test can prove a request went through it.
 *
 * @example
 * const proxy = await startForwardProxy({ hosts: { 'only-via-proxy.test': '127.0.0.1' } });
 * // HTTP_PROXY=proxy.url; GET http://only-via-proxy.test:<port>/ reaches the upstream
 * proxy.counts('only-via-proxy.test:<port>'); // { requests: 1, connects: 0 }
 * await proxy.close();
 */
export class ForwardProxy {
  private readonly server: Server;
  private readonly agent: Agent;
  private readonly sockets = new Set<Duplex>();
  private readonly perTarget = new Map<string, ForwardProxyTargetCounts>();
  private readonly expectedAuth: string | undefined;
  private readonly lookup: LookupFunction;
  private accepted = 0;
  private refusedAuth = 0;
  private listeningPort = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ForwardProxyOptions = {}) {
    const { auth } = options;
    this.expectedAuth = auth
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      : undefined;
    const hosts = new Map(
      Object.entries(options.hosts ?? {}).map(([name, ip]) => [name.toLowerCase(), ip]),
    );
    this.lookup = (hostname: string, opts: { all?: boolean }, callback: LookupCallback) => {
      const ip = hosts.get(hostname.toLowerCase());
      if (ip === undefined) {
        dnsLookup(hostname, opts, callback as never);
        return;
      }
      const family = ip.includes(':') ? 6 : 4;
      if (opts.all) callback(null, [{ address: ip, family }]);
      else callback(null, ip, family);
    };
    this.agent = new Agent({ keepAlive: true, lookup: this.lookup });
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.accepted++;
      this.track(socket);
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.tunnel(req, socket, head),
    );
  }

  /** `http://127.0.0.1:<port>`, without credentials. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The listening port. */
  get port(): number {
    return this.listeningPort;
  }

  /**
   * The proxy URL with `username:password@` in it (URL-encoded), for clients that take the
   * credentials from the URL.
   */
  urlWith(username: string, password: string): string {
    return `http://${encodeURIComponent(username)}:${encodeURIComponent(password)}@127.0.0.1:${this.port}`;
  }

  /** Client connections accepted since the start (or the last {@link resetCounters}). */
  get connections(): number {
    return this.accepted;
  }

  /** Requests and CONNECTs answered with 407. */
  get authFailures(): number {
    return this.refusedAuth;
  }

  /** Forwarded requests and CONNECT tunnels for one target (`host:port`, as requested). */
  counts(target: string): ForwardProxyTargetCounts {
    const c = this.perTarget.get(target.toLowerCase());
    return { requests: c?.requests ?? 0, connects: c?.connects ?? 0 };
  }

  /** Every target seen, with its counts. */
  targets(): Record<string, ForwardProxyTargetCounts> {
    return Object.fromEntries([...this.perTarget].map(([k, v]) => [k, { ...v }]));
  }

  /** Zeroes every counter. */
  resetCounters(): void {
    this.perTarget.clear();
    this.accepted = 0;
    this.refusedAuth = 0;
  }

  /** Listens on 127.0.0.1 (a free port unless `port` was given). */
  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and destroys every client, tunnel and upstream socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.agent.destroy();
    });
    return this.closing;
  }

  private track(socket: Duplex): void {
    // A kept-alive upstream socket is handed to many requests: one close listener per socket.
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private count(target: string, field: keyof ForwardProxyTargetCounts): void {
    const key = target.toLowerCase();
    const c = this.perTarget.get(key) ?? { requests: 0, connects: 0 };
    c[field]++;
    this.perTarget.set(key, c);
  }

  private authorized(req: IncomingMessage): boolean {
    if (this.expectedAuth === undefined) return true;
    if (req.headers['proxy-authorization'] === this.expectedAuth) return true;
    this.refusedAuth++;
    return false;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('absolute http:// URL expected');
      return;
    }
    if (!this.authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="forward-proxy"' }).end();
      return;
    }
    this.count(targetOf(url), 'requests');
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    const upstream = httpRequest({
      agent: this.agent,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || 80,
      method: req.method,
      path: `${url.pathname}${url.search}`,
      headers,
    });
    upstream.on('socket', (socket) => this.track(socket));
    upstream.on('response', (answer) => {
      const out: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${error.message}`);
    });
    req.pipe(upstream);
  }

  private tunnel(req: IncomingMessage, client: Duplex, head: Buffer): void {
    this.track(client);
    client.on('error', () => client.destroy());
    if (!this.authorized(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\n' +
          'Proxy-Authenticate: Basic realm="forward-proxy"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    const target = splitAuthority(req.url ?? '');
    if (!target) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.count(req.url ?? '', 'connects');
    const upstream = connect({ host: target.host, port: target.port, lookup: this.lookup });
    this.track(upstream);
    let established = false;
    upstream.once('connect', () => {
      established = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (established) client.destroy();
      else client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      if (established) client.destroy();
    });
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Creates and starts a {@link ForwardProxy} on 127.0.0.1.
 * @returns The listening proxy; call `close()` in `afterAll`.
 * @example
 * const proxy = await startForwardProxy({ auth: { username: 'bot', password: 's3cret' } });
 */
export async function startForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  return new ForwardProxy(options).start();
}
