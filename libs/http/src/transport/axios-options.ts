import type { AxiosRequestConfig } from 'axios';
import { AxiosError } from 'axios';

import { ERR_POOL_UNSUPPORTED_OPTION } from '../http-pool.constants.js';
import type { PooledTransport } from './transport.interface.js';

/** The kind of a client's transport (`HTTP_TRANSPORT`). */
export type TransportKind = PooledTransport['kind'];

/** An axios request option the pooled transport refuses, and what to use instead. */
interface RefusedOption {
  /** Transports that refuse it; the others honour it as axios does. */
  readonly on: readonly TransportKind[];
  /** What to use instead, in the words of the client's options. */
  readonly instead: string;
  /** True when the value given is one the transport honours after all (e.g. `httpVersion: 1`). */
  readonly accepts?: (value: unknown) => boolean;
}

const AGENTS =
  "the client's pooled agents own the sockets: set limitPerHost / poolLimit (HTTP_LIMIT_PER_HOST, HTTP_POOL_LIMIT), keepAliveTimeoutMs, the TLS options tlsCaFile / tlsCertFile / tlsKeyFile / tlsRejectUnauthorized (HTTP_TLS_*) and proxy (HTTP_PROXY_URL) on the client";
const NODE_ONLY = "with transport: 'http' (HTTP_TRANSPORT=http), on Node's agents";
const H2 = 'HTTP/2 is a setting of the client: allowH2 (HTTP_ALLOW_H2), undici transport';

/**
 * The axios request options the pooled transports do not honour. Every other option of
 * `AxiosRequestConfig` is honoured as axios's own http adapter does (docs/http.md, "axios
 * options"); browser-only options (`withCredentials`, `xsrf*`) have no effect on Node either way.
 */
export const REFUSED_AXIOS_OPTIONS: Readonly<Record<string, RefusedOption>> = {
  httpAgent: { on: ['undici', 'http'], instead: AGENTS },
  httpsAgent: { on: ['undici', 'http'], instead: AGENTS },
  transport: {
    on: ['undici', 'http'],
    instead: "the client's transport is chosen with transport (HTTP_TRANSPORT): undici or http",
  },
  fetchOptions: {
    on: ['undici', 'http'],
    instead:
      "it applies to axios's fetch adapter only; set headers, timeout and signal on the request, the rest on the client",
  },
  httpVersion: { on: ['undici', 'http'], instead: H2, accepts: (value) => value === 1 },
  http2Options: { on: ['undici', 'http'], instead: H2 },
  socketPath: { on: ['undici'], instead: `a Unix socket works ${NODE_ONLY}` },
  lookup: {
    on: ['undici'],
    instead: `undici resolves names itself, cached for dnsCacheTtlMs (HTTP_DNS_CACHE_TTL); a custom lookup works ${NODE_ONLY}`,
  },
  family: {
    on: ['undici'],
    instead: `call the upstream by an IPv4 or IPv6 address, or use family ${NODE_ONLY}`,
  },
  beforeRedirect: {
    on: ['undici'],
    instead: `set maxRedirects: 0 and follow the Location header yourself, or use beforeRedirect ${NODE_ONLY}`,
  },
  sensitiveHeaders: {
    on: ['undici'],
    instead: `undici drops Authorization, Cookie and Proxy-Authorization on a cross-origin redirect; for more headers set maxRedirects: 0, or use sensitiveHeaders ${NODE_ONLY}`,
  },
  maxRate: { on: ['undici'], instead: `bandwidth limits work ${NODE_ONLY}` },
  onUploadProgress: {
    on: ['undici'],
    instead: `send a stream as data and count what it yields, or use onUploadProgress ${NODE_ONLY}`,
  },
  onDownloadProgress: {
    on: ['undici'],
    instead: `use responseType: 'stream' and count the chunks, or use onDownloadProgress ${NODE_ONLY}`,
  },
  insecureHTTPParser: {
    on: ['undici'],
    instead: `undici has no lenient parser; use insecureHTTPParser ${NODE_ONLY}`,
    accepts: (value) => value === false,
  },
};

/**
 * The message of a refused option: which option, why, and what to use instead.
 *
 * @example
 * refusedOptionMessage('httpsAgent', 'default', 'undici');
 * // 'The axios option httpsAgent is not supported by HTTP client "default" (undici transport): …'
 */
export function refusedOptionMessage(option: string, client: string, kind: TransportKind): string {
  const refused = REFUSED_AXIOS_OPTIONS[option];
  const instead = refused ? refused.instead : 'remove it';
  return `The axios option ${option} is not supported by HTTP client "${client}" (${kind} transport): ${instead}.`;
}

/**
 * The error of a request that names its own `adapter`: axios would call that adapter instead of
 * the pooled one, past every limit, retry rule and metric of the client.
 */
export function refusedAdapterError(config: AxiosRequestConfig): AxiosError {
  return new AxiosError(
    "The axios option adapter is not supported on a pooled HttpService: the client's adapter is its pooled transport, chosen with transport (HTTP_TRANSPORT: undici or http); use a plain axios instance for another adapter.",
    ERR_POOL_UNSUPPORTED_OPTION,
    config as never,
  );
}

/** The options a transport refuses, in {@link REFUSED_AXIOS_OPTIONS} order. */
function refusedOn(kind: TransportKind): ReadonlyArray<readonly [string, RefusedOption]> {
  return Object.entries(REFUSED_AXIOS_OPTIONS).filter(([, refused]) => refused.on.includes(kind));
}

/** True when `config` sets `option` to a value the transport refuses (`null` / `undefined`: unset). */
function setsRefused(config: AxiosRequestConfig, option: string, refused: RefusedOption): boolean {
  const value = (config as Record<string, unknown>)[option];
  return value !== undefined && value !== null && !refused.accepts?.(value);
}

/** The refused options `config` sets (a `null` / `undefined` value means "not set"), in order. */
export function refusedOptionsOf(config: AxiosRequestConfig, kind: TransportKind): string[] {
  return refusedOn(kind)
    .filter(([option, refused]) => setsRefused(config, option, refused))
    .map(([option]) => option);
}

/**
 * Throws an `AxiosError` (`ERR_POOL_UNSUPPORTED_OPTION`, never retried) naming the first refused
 * option `config` sets and what to use instead; returns when there is none.
 */
export function refuseUnsupportedOptions(
  config: AxiosRequestConfig,
  client: string,
  kind: TransportKind,
): void {
  refuseFirstOf(refusedOn(kind), config, client, kind);
}

/** {@link refuseUnsupportedOptions} over the list of a transport's refused options. */
function refuseFirstOf(
  refusedList: ReadonlyArray<readonly [string, RefusedOption]>,
  config: AxiosRequestConfig,
  client: string,
  kind: TransportKind,
): void {
  for (const [option, refused] of refusedList) {
    if (!setsRefused(config, option, refused)) continue;
    throw new AxiosError(
      refusedOptionMessage(option, client, kind),
      ERR_POOL_UNSUPPORTED_OPTION,
      config as never,
    );
  }
}

/**
 * The byte length of a request body known before it is sent (strings, binary data, `Blob`s), or
 * undefined for streams and `FormData`.
 */
function knownBodyLength(data: unknown): number | undefined {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return undefined;
}

/**
 * axios's `maxBodyLength` for a body of known length, checked before anything is sent: an
 * `AxiosError` (`ERR_BAD_REQUEST`, axios's message) when it is longer. Streamed bodies are
 * counted by the transport as they are sent.
 */
export function refuseOversizedBody(config: AxiosRequestConfig): void {
  const limit = config.maxBodyLength ?? -1;
  if (limit < 0) return;
  const length = knownBodyLength(config.data);
  if (length === undefined || length <= limit) return;
  throw new AxiosError(
    'Request body larger than maxBodyLength limit',
    AxiosError.ERR_BAD_REQUEST,
    config as never,
  );
}

/**
 * A URL the transport cannot send to: anything but http(s) on undici — axios's own http adapter
 * also decodes `data:` URLs. Throws `ERR_POOL_UNSUPPORTED_OPTION` naming the scheme.
 */
export function refuseUnsupportedUrl(
  url: URL,
  config: AxiosRequestConfig,
  client: string,
  kind: TransportKind,
): void {
  if (kind !== 'undici' || url.protocol === 'http:' || url.protocol === 'https:') return;
  const instead =
    url.protocol === 'data:'
      ? "decode the data: URL yourself, or use transport: 'http' (HTTP_TRANSPORT=http), whose axios adapter decodes it"
      : 'call an http:// or https:// URL';
  throw new AxiosError(
    `The URL scheme ${url.protocol} is not supported by HTTP client "${client}" (undici transport): ${instead}.`,
    ERR_POOL_UNSUPPORTED_OPTION,
    config as never,
  );
}

/**
 * The check the pooled adapter runs on each request before it takes a pool slot: refused options
 * ({@link refuseUnsupportedOptions}), the URL's scheme ({@link refuseUnsupportedUrl}), then
 * `maxBodyLength` ({@link refuseOversizedBody}).
 */
export function requestOptionsCheck(
  client: string,
  kind: TransportKind,
): (config: AxiosRequestConfig, url: URL) => void {
  // Listed once per client: the check runs on every request.
  const refusedList = refusedOn(kind);
  return (config, url) => {
    refuseFirstOf(refusedList, config, client, kind);
    refuseUnsupportedUrl(url, config, client, kind);
    refuseOversizedBody(config);
  };
}

/** axios request options the client configures under a name of its own. */
const CLIENT_EQUIVALENTS: Readonly<Record<string, string>> = {
  timeout: 'the client-wide axios timeout is timeoutTotalMs (HTTP_TIMEOUT_TOTAL)',
  adapter:
    "the client's adapter is its pooled transport: choose it with transport (HTTP_TRANSPORT)",
};

/** axios request options honoured per request, with no client option of their own. */
const PER_REQUEST_ONLY = [
  'url',
  'method',
  'allowAbsoluteUrls',
  'transformRequest',
  'transformResponse',
  'params',
  'paramsSerializer',
  'data',
  'timeoutErrorMessage',
  'withCredentials',
  'withXSRFToken',
  'auth',
  'responseType',
  'responseEncoding',
  'xsrfCookieName',
  'xsrfHeaderName',
  'maxContentLength',
  'maxBodyLength',
  'validateStatus',
  'allowedSocketPaths',
  'cancelToken',
  'signal',
  'decompress',
  'transitional',
  'env',
  'formSerializer',
  'parseReviver',
  'redact',
  'formDataHeaderPolicy',
] as const;

/**
 * What the module says about an axios option given to `HttpPoolModule.forRoot()`: startup fails
 * naming it, with the client option to use, the transport's refusal, or — for options honoured
 * per request — where to set them.
 */
export const AXIOS_OPTIONS_AT_CLIENT: ReadonlyArray<{ option: string; explanation: string }> = [
  ...Object.entries(CLIENT_EQUIVALENTS).map(([option, instead]) => ({
    option,
    explanation: `an axios request option, not a client option: ${instead}`,
  })),
  ...Object.entries(REFUSED_AXIOS_OPTIONS)
    .filter(([option]) => !(option in CLIENT_EQUIVALENTS))
    .map(([option, refused]) => ({
      option,
      explanation: `an axios request option the pooled transport refuses: ${refused.instead}`,
    })),
  ...PER_REQUEST_ONLY.map((option) => ({
    option,
    explanation: `an axios request option, not a client option: give it per request (or on httpService.axiosRef.defaults)`,
  })),
];
