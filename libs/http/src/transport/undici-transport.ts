import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

import type { AxiosResponse } from 'axios';
import axios, { AxiosError, AxiosHeaders } from 'axios';
import type { Dispatcher } from 'undici';
import { Agent, interceptors } from 'undici';

import { toAxiosError } from './axios-errors.js';
import { parseKeepAliveHeader } from './keep-alive.js';
import type { ReleaseSlot } from './pool-limiter.js';
import { PoolLimiter } from './pool-limiter.js';
import type {
  OriginSocketStats,
  PooledTransport,
  SendAttempt,
  TransportAttempt,
} from './transport.interface.js';

/** Settings of the undici transport (a subset of the client's resolved options). */
export interface UndiciTransportOptions {
  /** Sockets in use across all origins. */
  poolLimit: number;
  /** Sockets per origin (`protocol://host:port`). */
  limitPerHost: number;
  /** TCP + TLS connect timeout; 0 disables it. */
  connectTimeoutMs: number;
  /** Longest wait for response headers, and longest silence while reading the body; 0 disables. */
  readTimeoutMs: number;
  /** Idle time after which a pooled socket is closed; also caps an upstream's longer hint. */
  keepAliveTimeoutMs: number;
  /** DNS answers cached for this long (undici's `interceptors.dns`); 0 disables the cache. */
  dnsCacheTtlMs: number;
}

/**
 * Margin kept below an upstream's advertised `Keep-Alive: timeout=`: the upstream closes at
 * exactly its timeout, and a request sent in the last moment races the FIN. undici's own default
 * (2 s) would make a 1–2 s upstream timeout disable reuse entirely.
 */
export const KEEP_ALIVE_THRESHOLD_MS = 500;

/** What undici's `Agent#stats` holds per origin (a `PoolStats`). */
interface UndiciPoolStats {
  connected: number;
  free: number;
  pending: number;
  queued: number;
}

/** Headers undici manages itself and refuses to take from the caller. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** axios's response `request` stand-in: enough to log and to find the final URL. */
interface UndiciRequestInfo {
  method: string;
  protocol: string;
  host: string;
  path: string;
  responseURL: string;
}

/**
 * Pooled transport on an undici {@link Agent}: `limitPerHost` connections per origin, a total
 * cap of `poolLimit` requests in flight ({@link PoolLimiter}), keep-alive that follows the
 * upstream's `Keep-Alive: timeout=` hint, DNS cache, redirects and decompression as undici
 * interceptors. It sends one attempt of an axios request and builds an axios response from it.
 */
export class UndiciTransport implements PooledTransport {
  readonly kind = 'undici' as const;
  readonly agent: Agent;
  private readonly limiter: PoolLimiter;
  private readonly dispatcher: Dispatcher;
  private readonly upstreamKeepAlive = new Map<string, number>();
  private readonly lastKeepAliveHeader = new Map<string, string>();
  private closing: Promise<void> | undefined;

  constructor(options: UndiciTransportOptions) {
    this.limiter = new PoolLimiter(options.poolLimit);
    this.agent = new Agent({
      connections: options.limitPerHost,
      pipelining: 1,
      keepAliveTimeout: options.keepAliveTimeoutMs,
      keepAliveMaxTimeout: options.keepAliveTimeoutMs,
      keepAliveTimeoutThreshold: KEEP_ALIVE_THRESHOLD_MS,
      connectTimeout: options.connectTimeoutMs,
      headersTimeout: options.readTimeoutMs,
      bodyTimeout: options.readTimeoutMs,
    });
    const base =
      options.dnsCacheTtlMs > 0
        ? this.agent.compose(interceptors.dns({ maxTTL: options.dnsCacheTtlMs }))
        : this.agent;
    this.dispatcher = base.compose(interceptors.redirect());
  }

  readonly send: SendAttempt = (attempt) => this.sendAttempt(attempt);

  acquired(): number {
    return this.limiter.acquired;
  }

  pending(): number {
    return this.limiter.pending;
  }

  pendingByOrigin(): Map<string, number> {
    return this.limiter.pendingByKey();
  }

  origins(): OriginSocketStats[] {
    const out: OriginSocketStats[] = [];
    const all = this.agent.stats as unknown as Record<string, UndiciPoolStats>;
    for (const [origin, s] of Object.entries(all)) {
      const stats: OriginSocketStats = {
        origin,
        connected: s.connected,
        active: Math.max(0, s.connected - s.free),
        idle: s.free,
        pending: s.pending + s.queued,
      };
      const hint = this.upstreamKeepAlive.get(origin);
      if (hint !== undefined) stats.upstreamKeepAliveMs = hint;
      out.push(stats);
    }
    return out;
  }

  close(timeoutMs: number): Promise<void> {
    this.closing ??= (async () => {
      // Agent#close() would forget its pools at once, leaving nothing for a later destroy() to
      // cut; so wait for in-flight requests (streams included) here, then destroy everything.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.limiter.whenIdle(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      await this.agent.destroy();
    })();
    return this.closing;
  }

  private async sendAttempt({ config, url, method, signal }: TransportAttempt) {
    const request: UndiciRequestInfo = {
      method,
      protocol: url.protocol,
      host: url.host,
      path: url.pathname + url.search,
      responseURL: url.href,
    };
    if (this.closing) {
      throw new AxiosError(
        'The HTTP client is shutting down; no new requests are sent.',
        'ERR_POOL_CLOSED',
        config,
        request,
      );
    }
    const headers = AxiosHeaders.from(config.headers);
    headers.set('User-Agent', `axios/${axios.VERSION}`, false);
    const decompress = config.decompress !== false;
    if (decompress) headers.set('Accept-Encoding', 'gzip, deflate, br', false);
    if (config.auth) {
      const { username = '', password = '' } = config.auth;
      headers.set(
        'Authorization',
        `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      );
    }
    const plainHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers.toJSON())) {
      if (value === undefined || value === null || HOP_BY_HOP.has(name.toLowerCase())) continue;
      plainHeaders[name] = Array.isArray(value) ? value.map(String) : String(value);
    }

    const release: ReleaseSlot =
      this.limiter.tryAcquire() ??
      (await this.limiter.acquire(signal, url.origin).catch(rethrowAbort(signal)));
    let releaseOnClose = false;
    try {
      const res = await this.dispatcher
        .request({
          origin: url.origin,
          path: request.path,
          method: method,
          headers: plainHeaders,
          body: toRequestBody(config.data, config),
          signal,
          maxRedirections: config.maxRedirects ?? 21,
          throwOnMaxRedirect: true,
        } as Dispatcher.RequestOptions)
        .catch((error: unknown) => {
          if (signal.aborted) throw signal.reason;
          throw toAxiosError(error, config, request);
        });

      const keepAlive = res.headers['keep-alive'];
      if (keepAlive !== undefined) this.recordKeepAliveHint(url.origin, keepAlive);
      const history = (res.context as { history?: URL[] } | undefined)?.history;
      const last = history?.[history.length - 1];
      if (last) request.responseURL = last.href;

      const responseHeaders = new AxiosHeaders(res.headers as Record<string, string>);
      const response: AxiosResponse = {
        status: res.statusCode,
        statusText: res.statusText ?? '',
        headers: responseHeaders,
        config,
        request,
        data: undefined,
      };
      let body: Readable = res.body;
      const encoding = res.headers['content-encoding'];
      if (decompress && typeof encoding === 'string' && hasBody(method, res.statusCode)) {
        const decoded = decoder(encoding, res.body);
        if (decoded) {
          body = decoded;
          // As axios does: the data handed out is no longer encoded.
          responseHeaders.delete('content-encoding');
          responseHeaders.delete('content-length');
        }
      }
      const maxContentLength = config.maxContentLength ?? -1;
      const declared = Number(res.headers['content-length']);
      if (body === res.body && maxContentLength > -1 && declared > maxContentLength) {
        res.body.destroy();
        throw contentLengthError(maxContentLength, config, request);
      }

      if (config.responseType === 'stream') {
        let stream = body;
        if (maxContentLength > -1) stream = body.pipe(limitStream(maxContentLength, body));
        // The slot (and its socket) stays taken until the caller has read or dropped the stream.
        stream.once('close', release);
        res.body.once('close', release);
        releaseOnClose = true;
        response.data = stream;
        return response;
      }

      try {
        response.data = await readBody(body, config, maxContentLength, request);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        throw toAxiosError(error, config, request);
      }
      // undici marks the socket free only after the I/O callback that ended the body; a caller
      // sending its next request at once would find it busy and open a second connection.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return response;
    } finally {
      if (!releaseOnClose) release();
    }
  }

  private recordKeepAliveHint(origin: string, header: string | string[]): void {
    // Upstreams repeat the same header on every response; parse only when it changes.
    const raw = Array.isArray(header) ? header.join(',') : header;
    if (this.lastKeepAliveHeader.get(origin) === raw) return;
    this.lastKeepAliveHeader.set(origin, raw);
    const { timeoutMs } = parseKeepAliveHeader(raw);
    if (timeoutMs === undefined) this.upstreamKeepAlive.delete(origin);
    else this.upstreamKeepAlive.set(origin, timeoutMs);
  }
}

function rethrowAbort(signal: AbortSignal): (error: unknown) => never {
  return (error) => {
    throw signal.aborted ? signal.reason : error;
  };
}

function toRequestBody(
  data: unknown,
  config: TransportAttempt['config'],
): Dispatcher.RequestOptions['body'] {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string' || Buffer.isBuffer(data) || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Readable) return data;
  if (data instanceof FormData) return data as never;
  if (data instanceof Blob) return Readable.fromWeb(data.stream() as never);
  throw new AxiosError(
    'Data after transformation must be a string, an ArrayBuffer, a Buffer, or a Stream',
    AxiosError.ERR_BAD_REQUEST,
    config,
  );
}

async function readBody(
  body: Readable,
  config: TransportAttempt['config'],
  maxContentLength: number,
  request: UndiciRequestInfo,
): Promise<unknown> {
  const encoding = config.responseEncoding;
  const asText =
    config.responseType !== 'arraybuffer' &&
    (encoding === undefined || encoding === 'utf8' || encoding === 'utf-8');
  if (maxContentLength < 0 && isUndiciBody(body)) {
    // undici's text() decodes UTF-8 and strips a BOM, as axios does.
    if (asText) return body.text();
    const bytes = Buffer.from(await body.arrayBuffer());
    return config.responseType === 'arraybuffer'
      ? bytes
      : bytes.toString(encoding as BufferEncoding);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (maxContentLength > -1 && total > maxContentLength) {
      body.destroy();
      throw contentLengthError(maxContentLength, config, request);
    }
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks, total);
  if (config.responseType === 'arraybuffer') return bytes;
  const text = bytes.toString(asText ? 'utf8' : (encoding as BufferEncoding));
  return asText && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** undici's body stream, whose `text()` / `arrayBuffer()` skip the chunk bookkeeping. */
function isUndiciBody(body: Readable): body is Dispatcher.ResponseData['body'] & Readable {
  return typeof (body as { text?: unknown }).text === 'function';
}

/** Responses to HEAD and 204/304 carry no body, whatever their headers say. */
function hasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304;
}

/** A decoding stream for a `Content-Encoding` axios decodes, or undefined to pass it through. */
function decoder(encoding: string, source: Readable): Readable | undefined {
  // Lenient flushing, as axios: a body truncated by the server still yields what arrived.
  const lenient = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  let decode: Transform;
  switch (encoding.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
    case 'compress':
    case 'x-compress':
      decode = zlib.createGunzip(lenient);
      break;
    case 'deflate':
      decode = zlib.createInflate(lenient);
      break;
    case 'br':
      decode = zlib.createBrotliDecompress({
        flush: zlib.constants.BROTLI_OPERATION_FLUSH,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      });
      break;
    default:
      return undefined;
  }
  source.once('error', (error) => decode.destroy(error));
  decode.once('close', () => source.destroy());
  return source.pipe(decode);
}

function contentLengthError(
  limit: number,
  config: TransportAttempt['config'],
  request: UndiciRequestInfo,
): AxiosError {
  return new AxiosError(
    `maxContentLength size of ${limit} exceeded`,
    AxiosError.ERR_BAD_RESPONSE,
    config,
    request,
  );
}

function limitStream(limit: number, source: Readable): Transform {
  let total = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      if (total > limit) {
        source.destroy();
        done(
          new AxiosError(`maxContentLength size of ${limit} exceeded`, AxiosError.ERR_BAD_RESPONSE),
        );
        return;
      }
      done(null, chunk);
    },
  });
  source.once('error', (error) => limiter.destroy(error));
  return limiter;
}
