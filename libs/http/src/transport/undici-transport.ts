import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';

import { waitAtMost } from '@nest-pools/core';
import type { AxiosResponse } from 'axios';
import axios, { AxiosError, AxiosHeaders } from 'axios';
import type { Dispatcher } from 'undici';
import { Agent, interceptors } from 'undici';

import type { HttpPoolOriginStats } from '../interfaces/http-pool-stats.interface.js';
import { toAxiosError } from './axios-errors.js';
import { parseKeepAliveHeader } from './keep-alive.js';
import type { ReleaseSlot } from './pool-limiter.js';
import { PoolLimiter } from './pool-limiter.js';
import type { PooledTransport, SendAttempt, TransportAttempt } from './transport.interface.js';

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

  origins(): HttpPoolOriginStats[] {
    const out: HttpPoolOriginStats[] = [];
    const all = this.agent.stats as unknown as Record<string, UndiciPoolStats>;
    for (const [origin, s] of Object.entries(all)) {
      const stats: HttpPoolOriginStats = {
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
      await waitAtMost(this.limiter.whenIdle(), timeoutMs);
      await this.agent.destroy();
    })();
    return this.closing;
  }

  private async sendAttempt(attempt: TransportAttempt) {
    const { config, url, method } = attempt;
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
    const plainHeaders = undiciHeaders(config);
    const decompress = config.decompress !== false;
    const release: ReleaseSlot =
      this.limiter.tryAcquire() ??
      (await this.limiter.acquire(attempt.signal, url.origin).catch(rethrowAbort(attempt.signal)));
    if (config.responseType !== 'stream') {
      return this.sendBuffered(attempt, plainHeaders, request, release);
    }
    const signal = attempt.signal;
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
        const decode = createDecoder(encoding);
        if (decode) {
          body = pipeDecoder(res.body, decode);
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

      let stream = body;
      if (maxContentLength > -1) stream = body.pipe(limitStream(maxContentLength, body));
      // The slot (and its socket) stays taken until the caller has read or dropped the stream.
      stream.once('close', release);
      res.body.once('close', release);
      releaseOnClose = true;
      response.data = stream;
      return response;
    } finally {
      if (!releaseOnClose) release();
    }
  }

  /**
   * One attempt whose body is handed out whole (every `responseType` but `stream`), on a dispatch
   * handler of its own: chunks are collected and joined once, with no body stream in between
   * unless the body has to be decoded.
   */
  private sendBuffered(
    attempt: TransportAttempt,
    headers: string[],
    request: UndiciRequestInfo,
    release: ReleaseSlot,
  ): Promise<AxiosResponse> {
    const { config, url, method } = attempt;
    return new Promise<AxiosResponse>((resolve, reject) => {
      const handler = new BufferedAttempt(attempt, request, release, resolve, reject, (header) =>
        this.recordKeepAliveHint(url.origin, header),
      );
      if (attempt.aborted) {
        handler.fail(attempt.reason);
        return;
      }
      try {
        this.dispatcher.dispatch(
          {
            origin: url.origin,
            path: request.path,
            method,
            headers,
            body: toRequestBody(config.data, config),
            maxRedirections: config.maxRedirects ?? 21,
            throwOnMaxRedirect: true,
          } as Dispatcher.DispatchOptions,
          handler,
        );
      } catch (error) {
        handler.fail(error);
      }
    });
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

/** Headers undici takes as a flat `[name, value, …]` list, from the axios request headers. */
function undiciHeaders(config: TransportAttempt['config']): string[] {
  type HeaderValue = string | number | boolean | Array<string | number> | null | undefined;
  const source = AxiosHeaders.from(config.headers) as unknown as Record<string, HeaderValue>;
  const out: Array<string | string[]> = [];
  const auth = config.auth;
  const basic = auth
    ? `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`
    : undefined;
  // axios's http adapter sets these only when absent (`set(…, false)`): a header the caller set to
  // `null` or `false` stays unsent.
  let hasUserAgent = false;
  let hasAcceptEncoding = false;
  let hasAuthorization = false;
  for (const name of Object.keys(source)) {
    const value = source[name];
    const lower = name.toLowerCase();
    if (lower === 'user-agent') hasUserAgent = value !== undefined;
    else if (lower === 'accept-encoding') hasAcceptEncoding = value !== undefined;
    else if (basic !== undefined && lower === 'authorization') {
      hasAuthorization = true;
      // axios overwrites any value but `false` with the `auth` credentials.
      if (value !== false) out.push(name, basic);
      continue;
    }
    if (value === undefined || value === null || value === false || HOP_BY_HOP.has(lower)) continue;
    out.push(name, Array.isArray(value) ? value.map(String) : String(value));
  }
  if (!hasUserAgent) out.push('User-Agent', `axios/${axios.VERSION}`);
  if (!hasAcceptEncoding && config.decompress !== false) {
    out.push('Accept-Encoding', 'gzip, deflate, br');
  }
  if (basic !== undefined && !hasAuthorization) out.push('Authorization', basic);
  // undici accepts an array value for a repeated header inside the flat list.
  return out as string[];
}

/** Runs `fn` one event-loop turn after undici's own post-response `setImmediate`. */
function afterUndiciTurn(fn: () => void): void {
  // Scheduled from a tick, so after undici queued the Immediate that marks the socket free.
  process.nextTick(setImmediate, fn);
}

/**
 * undici dispatch handler of one buffered attempt: builds the axios response at the headers,
 * collects the body (through a decoder when it is compressed), enforces `maxContentLength`, and
 * settles once. Aborts come from the attempt's signal.
 */
class BufferedAttempt implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private history: URL[] | undefined;
  private response: AxiosResponse | undefined;
  private chunks: Buffer[] = [];
  private total = 0;
  private decoding: Readable | undefined;
  private settled = false;
  private readonly maxContentLength: number;
  private readonly config: TransportAttempt['config'];
  private readonly onAbort = (reason: unknown) => {
    this.fail(reason);
    this.controller?.abort(reason as Error);
  };

  constructor(
    private readonly attempt: TransportAttempt,
    private readonly request: UndiciRequestInfo,
    private readonly release: ReleaseSlot,
    private readonly resolve: (response: AxiosResponse) => void,
    private readonly reject: (error: unknown) => void,
    private readonly keepAliveHint: (header: string | string[]) => void,
  ) {
    this.config = attempt.config;
    this.maxContentLength = attempt.config.maxContentLength ?? -1;
    if (!attempt.aborted) attempt.onAbort(this.onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.controller = controller;
    this.history = (context as { history?: URL[] } | undefined)?.history;
    if (this.settled) controller.abort(this.attempt.reason as Error);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (this.settled || statusCode < 200) return;
    const keepAlive = headers['keep-alive'];
    if (keepAlive !== undefined) this.keepAliveHint(keepAlive);
    const last = this.history?.[this.history.length - 1];
    if (last) this.request.responseURL = last.href;
    const responseHeaders = new AxiosHeaders(headers as Record<string, string>);
    this.response = {
      status: statusCode,
      statusText: statusMessage ?? '',
      headers: responseHeaders,
      config: this.config,
      request: this.request,
      data: undefined,
    };
    const encoding = headers['content-encoding'];
    const decode =
      this.config.decompress !== false &&
      typeof encoding === 'string' &&
      hasBody(this.attempt.method, statusCode)
        ? createDecoder(encoding)
        : undefined;
    if (decode) {
      // As axios does: the data handed out is no longer encoded.
      responseHeaders.delete('content-encoding');
      responseHeaders.delete('content-length');
      const source = new Readable({ read: () => this.controller?.resume() });
      this.decoding = source;
      readBody(pipeDecoder(source, decode), this.config, this.maxContentLength, this.request).then(
        (data) => this.finish(data),
        (error: unknown) => {
          this.fail(error);
          this.controller?.abort(error as Error);
        },
      );
      return;
    }
    const declared = Number(headers['content-length']);
    if (this.maxContentLength > -1 && declared > this.maxContentLength) {
      const error = contentLengthError(this.maxContentLength, this.config, this.request);
      this.fail(error);
      controller.abort(error);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    if (this.decoding) {
      if (!this.decoding.push(chunk)) controller.pause();
      return;
    }
    this.total += chunk.length;
    if (this.maxContentLength > -1 && this.total > this.maxContentLength) {
      const error = contentLengthError(this.maxContentLength, this.config, this.request);
      this.fail(error);
      controller.abort(error);
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.settled) return;
    if (this.decoding) {
      this.decoding.push(null);
      return;
    }
    this.finish(bufferedData(this.chunks, this.total, this.config));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.decoding?.destroy(error);
    this.fail(error);
  }

  /** Rejects the attempt (once) with the abort reason or the failure as an `AxiosError`. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.attempt.onAbort(undefined);
    this.release();
    this.reject(
      this.attempt.aborted ? this.attempt.reason : toAxiosError(error, this.config, this.request),
    );
  }

  private finish(data: unknown): void {
    const response = this.response;
    if (this.settled || !response) return;
    this.settled = true;
    this.attempt.onAbort(undefined);
    response.data = data;
    // undici marks the socket free one turn after the body ended; a caller sending its next
    // request at once would find it busy and open a second connection.
    afterUndiciTurn(() => {
      this.release();
      this.resolve(response);
    });
  }
}

/** A buffered body as axios hands it out: `Buffer` for `arraybuffer`, else decoded text. */
function bufferedData(
  chunks: Buffer[],
  total: number,
  config: TransportAttempt['config'],
): unknown {
  if (config.responseType === 'arraybuffer') return Buffer.concat(chunks, total);
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  const encoding = config.responseEncoding;
  const asText = encoding === undefined || encoding === 'utf8' || encoding === 'utf-8';
  const text = bytes.toString(asText ? 'utf8' : (encoding as BufferEncoding));
  // A UTF-8 byte order mark is dropped, as axios does.
  return asText && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
  return bufferedData(chunks, total, config);
}

/** Responses to HEAD and 204/304 carry no body, whatever their headers say. */
function hasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304;
}

/** A decoder for a `Content-Encoding` axios decodes, or undefined to pass the body through. */
function createDecoder(encoding: string): Transform | undefined {
  // Lenient flushing, as axios: a body truncated by the server still yields what arrived.
  const lenient = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  switch (encoding.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
    case 'compress':
    case 'x-compress':
      return zlib.createGunzip(lenient);
    case 'deflate':
      return zlib.createInflate(lenient);
    case 'br':
      return zlib.createBrotliDecompress({
        flush: zlib.constants.BROTLI_OPERATION_FLUSH,
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
      });
    default:
      return undefined;
  }
}

/** Pipes `source` into `decode`, each side's failure or close tearing down the other. */
function pipeDecoder(source: Readable, decode: Transform): Readable {
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
