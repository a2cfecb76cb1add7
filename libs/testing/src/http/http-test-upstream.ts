import {
  createServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  constants as http2Constants,
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TLSSocket } from 'node:tls';
import { gzipSync } from 'node:zlib';

import { resetSocket } from '../util/reset-socket.js';
import type {
  HttpUpstreamOptions,
  UpstreamBehavior,
  UpstreamHandler,
  UpstreamRequestRecord,
  UpstreamStats,
} from './http-upstream.types.js';

const DEFAULT_HOST = '127.0.0.1';
const WRITE_PIECE_BYTES = 64 * 1024;
const PATTERN = Buffer.alloc(
  WRITE_PIECE_BYTES,
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n',
);

/** A response body that can be read in pieces without holding all of it. */
interface WireBody {
  length: number;
  read(offset: number, length: number): Buffer;
}

function bufferBody(buf: Buffer): WireBody {
  return { length: buf.length, read: (offset, length) => buf.subarray(offset, offset + length) };
}

function patternBody(size: number): WireBody {
  return {
    length: size,
    read: (offset, length) => {
      const out = Buffer.allocUnsafe(length);
      for (let done = 0; done < length;) {
        const start = (offset + done) % PATTERN.length;
        done += PATTERN.copy(out, done, start, Math.min(PATTERN.length, start + length - done));
      }
      return out;
    },
  };
}

/** Per-connection bookkeeping: id, requests being answered, idle timer. */
interface ConnectionState {
  id: number;
  inFlight: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Set once the connection closed. */
  gone: boolean;
  /** Ends the idle connection: destroys the socket, or closes the HTTP/2 session (GOAWAY). */
  closeIdle: () => void;
}

/** The stream of a request that came over HTTP/2, undefined for HTTP/1.1. */
function http2StreamOf(req: IncomingMessage): Http2ServerRequest['stream'] | undefined {
  return req.httpVersionMajor === 2 ? (req as unknown as Http2ServerRequest).stream : undefined;
}

/** Subject CN of the verified client certificate of a TLS request, if any. */
function clientCertificateOf(req: IncomingMessage): string | undefined {
  // Over HTTP/2 `req.socket` is a proxy that forwards these reads to the TLS socket.
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return;
  const cn = socket.getPeerCertificate().subject?.CN;
  return Array.isArray(cn) ? cn.join(',') : cn;
}

function isHandler(spec: UpstreamBehavior | UpstreamHandler): spec is UpstreamHandler {
  return typeof spec === 'function';
}

/** Resolves after `ms`, or false at once when `signal` aborts first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Writes `chunk`, waiting for `drain` when the socket buffer is full; false when it closed. */
async function write(res: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<boolean> {
  if (res.destroyed || signal.aborted) return false;
  if (res.write(chunk)) return true;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
  return !res.destroyed && !signal.aborted;
}

/**
 * A real `node:http` server on a loopback port whose latency, status codes, keep-alive, body
 * pacing and failures are set per route or globally, and which counts accepted TCP connections
 * and requests — for testing HTTP clients and pools against real sockets. With `tls` it serves
 * HTTPS (optionally requiring client certificates), with `http2` HTTP/2 negotiated by ALPN, and
 * counts sessions and refused handshakes too.
 *
 * Every response carries `x-upstream-connection-id` and `x-upstream-request-no`, so a client
 * can see which connection served it.
 *
 * @example
 * const upstream = await startHttpUpstream({
 *   keepAliveTimeoutMs: 1000,
 *   routes: { '/flaky': { status: [503, 503, 200], headers: { 'retry-after': '0' } } },
 * });
 * await fetch(`${upstream.url}/flaky`); // 503
 * expect(upstream.requestsTo('/flaky')).toBe(1);
 * await upstream.close();
 */
export class HttpTestUpstream {
  /**
   * The underlying server (e.g. to tune `headersTimeout`): a `node:http` server, a `node:https`
   * one with `tls`, or an `Http2SecureServer` with `http2`.
   */
  readonly server: Server | Http2SecureServer;
  private readonly closing = new AbortController();
  private readonly sockets = new Map<Socket, ConnectionState>();
  private readonly sessions = new Map<ServerHttp2Session, ConnectionState>();
  private readonly rawSockets = new Set<Socket>();
  private readonly routes = new Map<string, UpstreamBehavior | UpstreamHandler>();
  private readonly statusPositions = new Map<string, number>();
  private readonly byPath = new Map<string, number>();
  private records: UpstreamRequestRecord[] = [];
  private behavior: UpstreamBehavior;
  private handler: UpstreamHandler | undefined;
  private nextConnectionId = 1;
  private connectionsTotal = 0;
  private sessionsTotal = 0;
  private tlsErrors = 0;
  private requestsTotal = 0;
  private listening: AddressInfo | undefined;
  private closed: Promise<void> | undefined;
  private readonly maxBody: number;
  private keepAliveMs: number;
  private readonly maxRecords: number;

  /**
   * Creates the upstream; it listens after {@link start}.
   * @param options Global behaviour, routes, handler, keep-alive timeout and address.
   */
  constructor(private readonly options: HttpUpstreamOptions = {}) {
    const {
      routes,
      handler,
      keepAliveTimeoutMs,
      maxRecordedBodyBytes,
      maxRecordedRequests,
      port: _port,
      host: _host,
      tls: _tls,
      http2: _http2,
      ...behavior
    } = options;
    this.behavior = behavior;
    this.handler = handler;
    this.maxBody = maxRecordedBodyBytes ?? 1024 * 1024;
    this.maxRecords = maxRecordedRequests ?? 1000;
    for (const [key, spec] of Object.entries(routes ?? {})) this.routes.set(key, spec);
    this.keepAliveMs = keepAliveTimeoutMs ?? 5000;
    this.server = this.createServer();
    this.setServerKeepAlive();
  }

  private createServer(): Server | Http2SecureServer {
    const { tls, http2 } = this.options;
    const listener = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    if (!tls) {
      if (http2) throw new Error('HttpTestUpstream: http2 needs tls (h2 is negotiated by ALPN).');
      const server = createServer(listener);
      server.on('connection', (socket: Socket) => this.track(socket));
      return server;
    }
    const secure = {
      key: tls.key,
      cert: tls.cert,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.requestCert ?? false,
    };
    const server = http2
      ? createSecureServer({
          ...secure,
          allowHTTP1: typeof http2 === 'object' && http2.allowHTTP1 === true,
        }).on('request', listener as never)
      : createHttpsServer(secure, listener);
    server.on('connection', (socket: Socket) => {
      this.rawSockets.add(socket);
      socket.once('close', () => this.rawSockets.delete(socket));
    });
    // Prepended: the HTTP/2 server emits 'session' from its own 'secureConnection' listener,
    // and the session must find its connection already tracked.
    server.prependListener('secureConnection', (socket: TLSSocket) => this.track(socket));
    server.on('tlsClientError', () => this.tlsErrors++);
    if (http2) {
      server.on('session', (session: ServerHttp2Session) => this.trackSession(session));
    }
    return server;
  }

  private track(socket: Socket): void {
    const id = this.nextConnectionId++;
    this.connectionsTotal++;
    const state: ConnectionState = {
      id,
      inFlight: 0,
      idleTimer: undefined,
      gone: false,
      closeIdle: () => socket.destroy(),
    };
    this.sockets.set(socket, state);
    socket.once('close', () => {
      state.gone = true;
      clearTimeout(state.idleTimer);
      this.sockets.delete(socket);
    });
  }

  private trackSession(session: ServerHttp2Session): void {
    // `session.socket` is a proxy of the TLS socket: find its connection by the client's port.
    const port = session.socket.remotePort;
    const address = session.socket.remoteAddress;
    const state = [...this.sockets].find(
      ([socket]) => socket.remotePort === port && socket.remoteAddress === address,
    )?.[1];
    if (!state) return;
    this.sessionsTotal++;
    state.closeIdle = () => session.close();
    this.sessions.set(session, state);
    session.once('close', () => this.sessions.delete(session));
  }

  private setServerKeepAlive(): void {
    // An HTTP/2 server has no keep-alive timer of its own; the idle timer of trackIdle() closes
    // its sessions.
    if ('keepAliveTimeout' in this.server) this.server.keepAliveTimeout = this.keepAliveMs;
  }

  private connectionOf(req: IncomingMessage): ConnectionState | undefined {
    const stream = http2StreamOf(req);
    return stream
      ? this.sessions.get(stream.session as ServerHttp2Session)
      : this.sockets.get(req.socket);
  }

  /** Aborts a request: RST_STREAM for an HTTP/2 stream, TCP RST of the connection otherwise. */
  private resetRequest(req: IncomingMessage): void {
    const stream = http2StreamOf(req);
    if (stream) stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
    else resetSocket(req.socket);
  }

  /** Interface the server binds. */
  get host(): string {
    return this.options.host ?? DEFAULT_HOST;
  }

  /**
   * Port the server listens on.
   * @throws Error before {@link start}.
   */
  get port(): number {
    if (!this.listening) {
      throw new Error('HttpTestUpstream is not listening; await start() before reading port/url.');
    }
    return this.listening.port;
  }

  /** Base URL, `http://127.0.0.1:<port>` (`https://` with `tls`; no trailing slash). */
  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  /**
   * Connections accepted since start (or the last {@link resetCounters}); with `tls`, those
   * whose handshake completed.
   */
  get totalConnections(): number {
    return this.connectionsTotal;
  }

  /** HTTP/2 sessions accepted since start (or the last {@link resetCounters}). */
  get totalSessions(): number {
    return this.sessionsTotal;
  }

  /** TLS handshakes refused since start (or the last {@link resetCounters}). */
  get tlsClientErrors(): number {
    return this.tlsErrors;
  }

  /** TCP connections open right now. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Requests received since start (or the last {@link resetCounters}). */
  get totalRequests(): number {
    return this.requestsTotal;
  }

  /** The most recent request, if any. */
  get lastRequest(): UpstreamRequestRecord | undefined {
    return this.records.at(-1);
  }

  /** Recorded requests, oldest first (a copy; at most `maxRecordedRequests`). */
  get requests(): UpstreamRequestRecord[] {
    return [...this.records];
  }

  /**
   * Requests received for one path (without query string).
   * @param path Exact path, e.g. `'/items'`.
   */
  requestsTo(path: string): number {
    return this.byPath.get(path) ?? 0;
  }

  /** Snapshot of all counters. */
  stats(): UpstreamStats {
    return {
      connections: { total: this.connectionsTotal, open: this.sockets.size },
      http2Sessions: this.sessionsTotal,
      tlsClientErrors: this.tlsErrors,
      requests: { total: this.requestsTotal, byPath: Object.fromEntries(this.byPath) },
    };
  }

  /**
   * Zeroes the connection and request counters, drops the request records and rewinds every
   * status sequence. Open connections stay open (and still count as open).
   */
  resetCounters(): void {
    this.connectionsTotal = 0;
    this.sessionsTotal = 0;
    this.tlsErrors = 0;
    this.requestsTotal = 0;
    this.byPath.clear();
    this.records = [];
    this.statusPositions.clear();
  }

  /**
   * Replaces the global behaviour (routes keep theirs).
   * @param behavior New global behaviour; `{}` restores the defaults.
   */
  setBehavior(behavior: UpstreamBehavior): void {
    this.behavior = { ...behavior };
    this.statusPositions.delete('');
  }

  /**
   * Sets, replaces or (with `undefined`) removes one route, and rewinds its status sequence.
   * @param key Exact path or prefix ending in `*`.
   * @param spec Behaviour or handler for the route.
   */
  setRoute(key: string, spec: UpstreamBehavior | UpstreamHandler | undefined): void {
    if (spec === undefined) this.routes.delete(key);
    else this.routes.set(key, spec);
    this.statusPositions.delete(key);
  }

  /**
   * Replaces the global handler that runs before routing.
   * @param handler Returns `true` when it answered; `undefined` removes it.
   */
  setHandler(handler: UpstreamHandler | undefined): void {
    this.handler = handler;
  }

  /**
   * Changes the idle timeout of keep-alive connections for the next responses.
   * @param ms New `server.keepAliveTimeout` in milliseconds.
   */
  setKeepAliveTimeout(ms: number): void {
    this.keepAliveMs = ms;
    this.setServerKeepAlive();
  }

  /**
   * Starts listening. Does nothing when already listening.
   * @returns This upstream, for chaining.
   */
  async start(): Promise<this> {
    if (this.listening) return this;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.options.port ?? 0, host: this.host }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listening = this.server.address() as AddressInfo;
    return this;
  }

  /**
   * Stops listening, aborts pending delayed responses and destroys every connection.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing.abort();
    const sockets = [...new Set([...this.sockets.keys(), ...this.rawSockets])];
    const socketsClosed = sockets.map(
      (socket) =>
        new Promise<void>((resolve) =>
          socket.closed ? resolve() : socket.once('close', () => resolve()),
        ),
    );
    const serverClosed = new Promise<void>((resolve) =>
      this.server.listening ? this.server.close(() => resolve()) : resolve(),
    );
    for (const socket of sockets) socket.destroy();
    await Promise.all([serverClosed, ...socketsClosed]);
  }

  private findRoute(path: string): [string, UpstreamBehavior | UpstreamHandler] | undefined {
    const exact = this.routes.get(path);
    if (exact !== undefined) return [path, exact];
    let best: [string, UpstreamBehavior | UpstreamHandler] | undefined;
    for (const [key, spec] of this.routes) {
      if (!key.endsWith('*') || !path.startsWith(key.slice(0, -1))) continue;
      if (!best || key.length > best[0].length) best = [key, spec];
    }
    return best;
  }

  private nextStatus(key: string, status: number | readonly number[] | undefined): number {
    if (status === undefined) return 200;
    if (typeof status === 'number') return status;
    const position = this.statusPositions.get(key) ?? 0;
    this.statusPositions.set(key, position + 1);
    return status[Math.min(position, status.length - 1)] ?? 200;
  }

  private async readRecord(req: IncomingMessage): Promise<UpstreamRequestRecord> {
    const parts: Buffer[] = [];
    let kept = 0;
    let total = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (kept < this.maxBody) {
        const slice = chunk.subarray(0, this.maxBody - kept);
        parts.push(slice);
        kept += slice.length;
      }
    }
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    return {
      requestNo: 0,
      connectionId: this.connectionOf(req)?.id ?? 0,
      method: req.method ?? 'GET',
      path: queryAt >= 0 ? url.slice(0, queryAt) : url,
      url,
      headers: req.headers,
      body: Buffer.concat(parts),
      bodyBytes: total,
      httpVersion: req.httpVersion,
      ...(this.options.tls ? { clientCertificate: clientCertificateOf(req) } : {}),
    };
  }

  private recordRequest(record: UpstreamRequestRecord): void {
    this.requestsTotal++;
    record.requestNo = this.requestsTotal;
    this.byPath.set(record.path, (this.byPath.get(record.path) ?? 0) + 1);
    this.records.push(record);
    if (this.records.length > this.maxRecords) this.records.shift();
  }

  /**
   * Node keeps an idle keep-alive socket about a second longer than `keepAliveTimeout` (it pads
   * the timer against the client race); the upstream closes it on its own timer instead, so a
   * test sees the idle timeout it configured, to the millisecond.
   */
  private trackIdle(req: IncomingMessage, res: ServerResponse): void {
    const state = this.connectionOf(req);
    if (!state) return;
    clearTimeout(state.idleTimer);
    state.idleTimer = undefined;
    state.inFlight++;
    res.once('close', () => {
      state.inFlight--;
      // Not `req.socket.destroyed`: over HTTP/2 that reads the stream's state, not the socket's.
      if (state.inFlight > 0 || state.gone || this.keepAliveMs <= 0) return;
      state.idleTimer = setTimeout(state.closeIdle, this.keepAliveMs);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.trackIdle(req, res);
    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    const signal = AbortSignal.any([this.closing.signal, clientGone.signal]);
    try {
      let record: UpstreamRequestRecord;
      try {
        record = await this.readRecord(req);
      } catch {
        return; // The client aborted while sending its body; nothing to answer.
      }
      this.recordRequest(record);
      res.setHeader('x-upstream-connection-id', String(record.connectionId));
      res.setHeader('x-upstream-request-no', String(record.requestNo));
      const ctx = { record, signal };
      if (this.handler && (await this.handler(req, res, ctx)) === true) return;
      const route = this.findRoute(record.path);
      if (route && isHandler(route[1])) {
        await route[1](req, res, ctx);
        return;
      }
      const routeBehavior = route?.[1] as UpstreamBehavior | undefined;
      const behavior: UpstreamBehavior = { ...this.behavior, ...routeBehavior };
      const statusKey = route && routeBehavior?.status !== undefined ? route[0] : '';
      await this.respond(
        req,
        res,
        record,
        behavior,
        this.nextStatus(statusKey, behavior.status),
        signal,
      );
    } catch (err) {
      if (!res.headersSent && !res.destroyed) {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain');
        res.end(`HttpTestUpstream handler failed: ${String(err)}`);
      } else {
        res.destroy();
      }
    }
  }

  private async respond(
    req: IncomingMessage,
    res: ServerResponse,
    record: UpstreamRequestRecord,
    behavior: UpstreamBehavior,
    status: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (!(await pause(behavior.latencyMs ?? 0, signal))) return;
    if (behavior.reset === 'before-response') {
      this.resetRequest(req);
      return;
    }
    const noBody = req.method === 'HEAD' || status === 204 || status === 304;
    let body: WireBody;
    const headers: OutgoingHttpHeaders = {};
    if (behavior.bodySize !== undefined) {
      body = patternBody(behavior.bodySize);
      headers['content-type'] = 'text/plain';
    } else if (behavior.body !== undefined) {
      body = bufferBody(Buffer.from(behavior.body));
      headers['content-type'] =
        typeof behavior.body === 'string' ? 'text/plain' : 'application/octet-stream';
    } else {
      const described = {
        method: record.method,
        path: record.path,
        request: record.requestNo,
        connection: record.connectionId,
      };
      body = bufferBody(Buffer.from(JSON.stringify(described)));
      headers['content-type'] = 'application/json';
    }
    if (behavior.gzip) {
      body = bufferBody(gzipSync(body.read(0, body.length)));
      headers['content-encoding'] = 'gzip';
    }
    if (noBody) body = bufferBody(Buffer.alloc(0));
    if (behavior.contentLength !== false && !noBody) headers['content-length'] = body.length;
    const stream = http2StreamOf(req);
    // HTTP/2 forbids connection-specific headers; closing a session is a GOAWAY instead.
    if (behavior.keepAliveHeaderSeconds !== undefined && !stream) {
      headers['keep-alive'] = `timeout=${behavior.keepAliveHeaderSeconds}`;
    }
    if (behavior.closeConnection) {
      if (stream) res.once('finish', () => stream.session?.close());
      else headers['connection'] = 'close';
    }
    res.writeHead(status, { ...headers, ...behavior.headers });
    res.flushHeaders();
    if (!(await pause(behavior.bodyDelayMs ?? 0, signal))) return;
    await this.writeBody(req, res, body, behavior, signal);
  }

  private async writeBody(
    req: IncomingMessage,
    res: ServerResponse,
    body: WireBody,
    behavior: UpstreamBehavior,
    signal: AbortSignal,
  ): Promise<void> {
    const count = Math.max(1, behavior.chunks?.count ?? 1);
    const interval = behavior.chunks?.intervalMs ?? 0;
    const resetAt = behavior.reset === 'mid-response' ? Math.floor(body.length / 2) : -1;
    const pieceSize = Math.ceil(body.length / count);
    let offset = 0;
    for (let piece = 0; piece < count && offset < body.length; piece++) {
      if (piece > 0 && !(await pause(interval, signal))) return;
      const pieceEnd = Math.min(body.length, offset + pieceSize);
      while (offset < pieceEnd) {
        const end = Math.min(
          pieceEnd,
          offset + WRITE_PIECE_BYTES,
          resetAt >= 0 && offset < resetAt ? resetAt : Infinity,
        );
        if (!(await write(res, body.read(offset, end - offset), signal))) return;
        offset = end;
        if (offset === resetAt) {
          // Let the first half reach the client before the RST, so it sees a truncated body.
          if (!(await pause(20, signal))) return;
          this.resetRequest(req);
          return;
        }
      }
    }
    if (resetAt >= 0) {
      this.resetRequest(req);
      return;
    }
    res.end();
  }
}

/**
 * Creates and starts an {@link HttpTestUpstream}.
 * @param options Global behaviour, routes, handler, keep-alive timeout and address.
 * @returns The listening upstream; call `close()` in `afterAll`.
 * @example
 * const upstream = await startHttpUpstream({ latencyMs: 50, keepAliveTimeoutMs: 2000 });
 */
export async function startHttpUpstream(
  options: HttpUpstreamOptions = {},
): Promise<HttpTestUpstream> {
  return new HttpTestUpstream(options).start();
}
