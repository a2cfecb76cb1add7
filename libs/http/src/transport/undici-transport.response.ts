import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';

import type { AxiosResponse } from 'axios';
import { AxiosError, AxiosHeaders } from 'axios';

import type { TransportAttempt } from './transport.interface.js';
import type { UndiciExchange, UndiciRequestInfo } from './undici-transport.request.js';

type RequestConfig = TransportAttempt['config'];
type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What {@link startResponse} made of a status line and headers. */
export interface ResponseStart {
  /** The axios response, `data` still unset. */
  response: AxiosResponse;
  /** The decoder the body goes through, when it is compressed and `decompress` is on. */
  decode: Transform | undefined;
}

/**
 * The axios response of an attempt from undici's status line and headers, the same on the stream
 * and the buffered path: records the `Keep-Alive` hint, points `request.responseURL` at the last
 * redirect target, and picks the body decoder (dropping `content-encoding` / `content-length`, as
 * axios does, since the data handed out is no longer encoded).
 */
export function startResponse(
  { attempt, request, keepAliveHint }: UndiciExchange,
  statusCode: number,
  statusText: string | undefined,
  headers: ResponseHeaders,
  context: unknown,
): ResponseStart {
  const keepAlive = headers['keep-alive'];
  if (keepAlive !== undefined) keepAliveHint(keepAlive);
  const history = (context as { history?: URL[] } | undefined)?.history;
  const last = history?.[history.length - 1];
  if (last) request.responseURL = last.href;
  const responseHeaders = new AxiosHeaders(headers as Record<string, string>);
  const response: AxiosResponse = {
    status: statusCode,
    statusText: statusText ?? '',
    headers: responseHeaders,
    config: attempt.config,
    request,
    data: undefined,
  };
  const encoding = headers['content-encoding'];
  const decode =
    attempt.config.decompress !== false &&
    typeof encoding === 'string' &&
    hasBody(attempt.method, statusCode)
      ? createDecoder(encoding)
      : undefined;
  if (decode) {
    responseHeaders.delete('content-encoding');
    responseHeaders.delete('content-length');
  }
  return { response, decode };
}

/** Responses to HEAD and 204/304 carry no body, whatever their headers say. */
export function hasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status !== 204 && status !== 304;
}

/** A decoder for a `Content-Encoding` axios decodes, or undefined to pass the body through. */
export function createDecoder(encoding: string): Transform | undefined {
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
export function pipeDecoder(source: Readable, decode: Transform): Readable {
  source.once('error', (error) => decode.destroy(error));
  decode.once('close', () => source.destroy());
  return source.pipe(decode);
}

/** True when the declared `Content-Length` is already over `maxContentLength` (-1: no limit). */
export function declaresTooLong(headers: ResponseHeaders, maxContentLength: number): boolean {
  return maxContentLength > -1 && Number(headers['content-length']) > maxContentLength;
}

/** A buffered body as axios hands it out: `Buffer` for `arraybuffer`, else decoded text. */
export function bufferedData(chunks: Buffer[], total: number, config: RequestConfig): unknown {
  if (config.responseType === 'arraybuffer') return Buffer.concat(chunks, total);
  const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
  const encoding = config.responseEncoding;
  const asText = encoding === undefined || encoding === 'utf8' || encoding === 'utf-8';
  const text = bytes.toString(asText ? 'utf8' : (encoding as BufferEncoding));
  // A UTF-8 byte order mark is dropped, as axios does.
  return asText && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Reads a whole (decoded) body into what axios hands out ({@link bufferedData}); past
 * `maxContentLength` bytes it destroys the body and rejects with `ERR_BAD_RESPONSE`.
 */
export async function readBody(
  body: Readable,
  config: RequestConfig,
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

/** axios's error for a body over `maxContentLength`. */
export function contentLengthError(
  limit: number,
  config: RequestConfig,
  request: UndiciRequestInfo,
): AxiosError {
  return new AxiosError(
    `maxContentLength size of ${limit} exceeded`,
    AxiosError.ERR_BAD_RESPONSE,
    config,
    request,
  );
}

/**
 * Passes a stream through while it stays within `limit` bytes; past it, destroys `source` and
 * fails with `tooLong()` — by default axios's `maxContentLength` error (`ERR_BAD_RESPONSE`). A
 * failure of `source` fails the returned stream too.
 */
export function limitStream(
  limit: number,
  source: Readable,
  tooLong: () => Error = () =>
    new AxiosError(`maxContentLength size of ${limit} exceeded`, AxiosError.ERR_BAD_RESPONSE),
): Transform {
  let total = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      if (total > limit) {
        // Failed first: destroying undici's body makes it emit its own abort error, which would
        // otherwise reach the caller instead of this one.
        done(tooLong());
        source.destroy();
        return;
      }
      done(null, chunk);
    },
  });
  source.once('error', (error) => limiter.destroy(error));
  return limiter;
}
