import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';

/**
 * How the upstream answers a request. Used as the global behaviour
 * ({@link HttpUpstreamOptions}) and per route ({@link HttpUpstreamOptions.routes}); a route's
 * fields replace the global ones, unset fields fall back to them.
 *
 * Order of events for one request: the request body is read in full, `latencyMs` passes,
 * `reset: 'before-response'` fires, the headers are sent, `bodyDelayMs` passes, the body is
 * written (in `chunks` when set; `reset: 'mid-response'` fires after half of it).
 */
export interface UpstreamBehavior {
  /**
   * Status code, or a sequence of codes answered in turn (`[503, 503, 200]`); the last one
   * repeats. Each route keeps its own position; `resetCounters()` rewinds every sequence.
   * @default 200
   */
  status?: number | readonly number[];
  /**
   * Extra response headers, e.g. `{ 'retry-after': '1' }`.
   * @default {}
   */
  headers?: OutgoingHttpHeaders;
  /**
   * Response body. Ignored when `bodySize` is set.
   * @default a JSON object `{ method, path, request, connection }` describing the request
   */
  body?: string | Buffer;
  /**
   * Generate a body of this many bytes (a repeating ASCII pattern, streamed without holding it
   * in memory unless `gzip` is on). Use for large or streamed bodies.
   * @default undefined (use `body`)
   */
  bodySize?: number;
  /**
   * Delay before the status line and headers are sent (time to first byte), in milliseconds.
   * @default 0
   */
  latencyMs?: number;
  /**
   * Delay between the headers and the first body byte, in milliseconds.
   * @default 0
   */
  bodyDelayMs?: number;
  /**
   * Slow body: the body is split into `count` pieces with `intervalMs` pauses between them.
   * @default undefined (the body is written at once)
   */
  chunks?: { count: number; intervalMs: number };
  /**
   * Gzip the body and send `Content-Encoding: gzip`.
   * @default false
   */
  gzip?: boolean;
  /**
   * Send `Content-Length`. With `false` the body goes out with `Transfer-Encoding: chunked`.
   * @default true
   */
  contentLength?: boolean;
  /**
   * Abort the connection with a TCP RST: `'before-response'` after the request was read (and
   * `latencyMs` passed) but before any byte of the response; `'mid-response'` after the headers
   * and half of the body.
   * @default undefined (no reset)
   */
  reset?: 'before-response' | 'mid-response';
  /**
   * Advertise `Keep-Alive: timeout=<n>` (seconds) regardless of the real idle timeout
   * (`keepAliveTimeoutMs`), e.g. to advertise more than the server keeps.
   * @default undefined (Node's own header derived from `keepAliveTimeoutMs`)
   */
  keepAliveHeaderSeconds?: number;
  /**
   * Answer with `Connection: close` and close the socket after the response.
   * @default false
   */
  closeConnection?: boolean;
}

/** What the upstream knows about one received request. */
export interface UpstreamRequestRecord {
  /** 1-based number of the request since start (or the last `resetCounters()`). */
  requestNo: number;
  /** Id of the TCP connection that carried it (1-based, in accept order). */
  connectionId: number;
  /** HTTP method. */
  method: string;
  /** Path without the query string. */
  path: string;
  /** Full request target (path and query). */
  url: string;
  /** Request headers (lower-cased names). */
  headers: IncomingHttpHeaders;
  /** Request body (at most `maxRecordedBodyBytes` bytes are kept). */
  body: Buffer;
  /** Total size of the request body in bytes. */
  bodyBytes: number;
  /** `'1.1'`, or `'2.0'` for a request that came as an HTTP/2 stream. */
  httpVersion: string;
  /**
   * Subject CN of the client certificate the connection presented and the server verified
   * (`tls.requestCert`); undefined without TLS or without a verified client certificate.
   */
  clientCertificate?: string;
}

/** Context handed to an {@link UpstreamHandler}. */
export interface UpstreamRequestContext {
  /** The request as recorded (body already read). */
  record: UpstreamRequestRecord;
  /** Aborted when the client goes away or the upstream closes; pass it to your delays. */
  signal: AbortSignal;
}

/**
 * Custom request handler. As a route value it answers the request itself. As the global
 * `handler` it runs before routing and returns `true` when it answered; anything else falls
 * through to the configured behaviour. The request body has already been read (see
 * `ctx.record.body`). Over HTTP/2 (`http2`) `req` and `res` are Node's compatibility objects
 * (`Http2ServerRequest` / `Http2ServerResponse`), which offer the same request/response API.
 */
export type UpstreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: UpstreamRequestContext,
) => boolean | void | Promise<boolean | void>;

/** TLS material of {@link HttpUpstreamOptions.tls}, as PEM strings or buffers. */
export interface UpstreamTlsOptions {
  /** Private key of the server certificate. */
  key: string | Buffer;
  /** Server certificate (chain). */
  cert: string | Buffer;
  /** CA that client certificates must chain to (with `requestCert`). */
  ca?: string | Buffer;
  /**
   * Mutual TLS: ask every client for a certificate and refuse the handshake unless it presents
   * one signed by `ca` (the refusal counts in `tlsClientErrors`).
   * @default false
   */
  requestCert?: boolean;
}

/** HTTP/2 settings of {@link HttpUpstreamOptions.http2}. */
export interface UpstreamHttp2Options {
  /**
   * Also answer clients that do not offer `h2` in ALPN, over HTTP/1.1 on the same port.
   * @default false (such a handshake is refused)
   */
  allowHTTP1?: boolean;
}

/** Options of {@link HttpTestUpstream} and {@link startHttpUpstream}. */
export interface HttpUpstreamOptions extends UpstreamBehavior {
  /**
   * Serve HTTPS with this certificate (`url` becomes `https://`). See `makeTestCertificates()`.
   * @default undefined (plain HTTP)
   */
  tls?: UpstreamTlsOptions;
  /**
   * Serve HTTP/2 over TLS (`node:http2` `createSecureServer`, ALPN `h2`); needs `tls`. `true` is
   * `{}`.
   * @default undefined (HTTP/1.1 only)
   */
  http2?: boolean | UpstreamHttp2Options;
  /**
   * Per-path behaviour or handler. Keys are exact paths (`'/items'`) or prefixes ending in `*`
   * (`'/slow/*'`); an exact key wins over a prefix, a longer prefix over a shorter one.
   * @default {}
   */
  routes?: Record<string, UpstreamBehavior | UpstreamHandler>;
  /**
   * Runs first for every request; return `true` when it answered.
   * @default undefined
   */
  handler?: UpstreamHandler;
  /**
   * How long an idle keep-alive connection stays open after its last response, in ms; the
   * upstream closes it on time (Node alone pads `server.keepAliveTimeout` by about a second).
   * Also sets `server.keepAliveTimeout`, hence Node's advertised `Keep-Alive: timeout=<s>`.
   * `0` keeps idle connections open.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Port to listen on.
   * @default 0 (a free port)
   */
  port?: number;
  /**
   * Interface to bind.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * Bytes of each request body kept in the request records.
   * @default 1048576
   */
  maxRecordedBodyBytes?: number;
  /**
   * Request records kept (oldest dropped first).
   * @default 1000
   */
  maxRecordedRequests?: number;
}

/** Snapshot of the upstream's counters. */
export interface UpstreamStats {
  /** Connections accepted (with `tls`: connections whose handshake completed). */
  connections: { total: number; open: number };
  /** HTTP/2 sessions accepted (one per HTTP/2 connection; 0 without `http2`). */
  http2Sessions: number;
  /** TLS handshakes the server refused (no or untrusted client certificate, bad ALPN, …). */
  tlsClientErrors: number;
  /** Requests received, in total and per path. */
  requests: { total: number; byPath: Record<string, number> };
}
