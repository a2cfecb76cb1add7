import { PassThrough, Readable, Stream } from 'node:stream';

import axios, { AxiosError, AxiosHeaders } from 'axios';
import setFormDataHeaders from 'axios/unsafe/core/setFormDataHeaders.js';
import type { Dispatcher } from 'undici';

import type { ReleaseSlot } from './pool-limiter.js';
import type { TransportAttempt } from './transport.interface.js';
import { limitStream } from './undici-transport.response.js';

/** axios's response `request` stand-in: enough to log and to find the final URL. */
export interface UndiciRequestInfo {
  method: string;
  protocol: string;
  host: string;
  path: string;
  /** The URL the response came from: the request URL, or the last redirect target. */
  responseURL: string;
}

/** One attempt as the undici transport sends it, shared by the stream and buffered paths. */
export interface UndiciExchange {
  readonly attempt: TransportAttempt;
  readonly request: UndiciRequestInfo;
  /** The request headers as undici takes them ({@link undiciHeaders}). */
  readonly headers: string[];
  /** Gives back the attempt's `poolLimit` slot. */
  readonly release: ReleaseSlot;
  /** Receives the response's `Keep-Alive` header. */
  readonly keepAliveHint: (header: string | string[]) => void;
}

/** Headers undici manages itself and refuses to take from the caller. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** The `request` of an attempt's axios response and errors, before any redirect. */
export function requestInfo({ url, method }: TransportAttempt): UndiciRequestInfo {
  return {
    method,
    protocol: url.protocol,
    host: url.host,
    path: url.pathname + url.search,
    responseURL: url.href,
  };
}

/**
 * The options `dispatch()` and `request()` share for one attempt. Builds the body, so it throws
 * an `AxiosError` (`ERR_BAD_REQUEST`) for data undici cannot send.
 */
export function undiciRequestOptions({
  attempt,
  request,
  headers,
}: UndiciExchange): Dispatcher.DispatchOptions {
  const { config, origin, method } = attempt;
  return {
    origin,
    path: request.path,
    method,
    headers,
    body: toRequestBody(config.data, config),
    maxRedirections: maxRedirectsOf(config),
    throwOnMaxRedirect: true,
  } as Dispatcher.DispatchOptions;
}

/** Redirects one attempt follows: axios's `maxRedirects` (21, follow-redirects' default, unset). */
export function maxRedirectsOf(config: TransportAttempt['config']): number {
  return config.maxRedirects ?? 21;
}

/**
 * Headers undici takes as a flat `[name, value, …]` list, from the axios request headers, with
 * axios's http-adapter rules: `auth` becomes `Authorization: Basic …`, a default `User-Agent` and
 * `Accept-Encoding` are added when absent, `null` / `false` / `undefined` values and hop-by-hop
 * headers are dropped.
 */
export function undiciHeaders(config: TransportAttempt['config']): string[] {
  type HeaderValue = string | number | boolean | Array<string | number> | null | undefined;
  const headers = AxiosHeaders.from(config.headers);
  const form = legacyFormData(config.data);
  // As axios's http adapter: the boundary (and, by default, every header) of a `form-data` body.
  if (form) setFormDataHeaders(headers, form.getHeaders(), config.formDataHeaderPolicy);
  const source = headers as unknown as Record<string, HeaderValue>;
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

/**
 * The request body undici sends for axios's transformed `data`: strings, `Buffer`s and
 * `Uint8Array`s as they are, other binary views as `Buffer`s, streams and `FormData` as they are,
 * a `Blob` as a stream; anything else is an `AxiosError` (`ERR_BAD_REQUEST`).
 */
export function toRequestBody(
  data: unknown,
  config: TransportAttempt['config'],
): Dispatcher.RequestOptions['body'] {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string' || Buffer.isBuffer(data) || data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Readable) return limitRequestBody(data, config);
  // The `form-data` package (what axios serializes objects into for multipart/form-data on
  // Node) is an old-style stream: piped into a Readable undici can send.
  if (legacyFormData(data)) {
    // It starts producing only when piped (`form-data` extends `combined-stream`).
    return limitRequestBody((data as Stream).pipe(new PassThrough()), config);
  }
  if (data instanceof FormData) return data as never;
  if (data instanceof Blob) return Readable.fromWeb(data.stream() as never);
  throw new AxiosError(
    'Data after transformation must be a string, an ArrayBuffer, a Buffer, or a Stream',
    AxiosError.ERR_BAD_REQUEST,
    config,
  );
}

/** A body of the `form-data` package: an old-style stream that knows its multipart headers. */
interface LegacyFormData {
  getHeaders(): Record<string, string>;
}

/** `data` when it is a `form-data` package body (what axios builds for multipart on Node). */
export function legacyFormData(data: unknown): LegacyFormData | undefined {
  return data instanceof Stream &&
    !(data instanceof Readable) &&
    typeof (data as Partial<LegacyFormData>).getHeaders === 'function'
    ? (data as unknown as LegacyFormData)
    : undefined;
}

/**
 * A streamed request body counted against axios's `maxBodyLength` as undici sends it: past the
 * limit the stream fails with axios's `ERR_BAD_REQUEST` and the request is cut. Bodies of known
 * length are checked before the request starts (`refuseOversizedBody`).
 */
function limitRequestBody(data: Readable, config: TransportAttempt['config']): Readable {
  const limit = config.maxBodyLength ?? -1;
  if (limit < 0) return data;
  return data.pipe(
    limitStream(
      limit,
      data,
      () =>
        new AxiosError(
          'Request body larger than maxBodyLength limit',
          AxiosError.ERR_BAD_REQUEST,
          config,
        ),
    ),
  );
}
