import { Readable } from 'node:stream';

import { redactUrl } from '@nest-pools/core';
import { AxiosError } from 'axios';

import type { NativeRequestBody } from './native-attempt.js';

/** Query parameters of a native request; `undefined` and `null` values are left out. */
export type HttpPoolQuery =
  | URLSearchParams
  | Readonly<
      Record<
        string,
        string | number | boolean | ReadonlyArray<string | number | boolean> | null | undefined
      >
    >;

/** Request headers of a native request; `undefined` / `null` drops a client default header. */
export type HttpPoolHeaders = Readonly<
  Record<string, string | number | ReadonlyArray<string> | null | undefined>
>;

/** A body of a native request: sent as it is, or, for a plain object or array, as JSON. */
export type HttpPoolBody = string | Buffer | Uint8Array | Readable | object;

/** Where a native request goes: its origin (cached per origin) and its request-line target. */
export interface NativeTarget {
  origin: URL;
  /** `origin.origin`, kept with the cached URL (the getter builds a new string on each read). */
  originText: string;
  path: string;
}

/** A cached origin: its URL and its text. */
interface KnownOrigin {
  url: URL;
  text: string;
}

const ABSOLUTE = /^[a-z][a-z\d+\-.]*:\/\//i;

/**
 * An absolute URL whose origin has no credentials and whose path and query hold only characters
 * the URL parser keeps as they are (no dot segments, no fragment, no quote, nothing it would
 * percent-encode): its target is the text after the origin, byte for byte what `new URL()` gives.
 */
const PLAIN_ABSOLUTE =
  /^([a-z][a-z\d+\-.]*:\/\/[^/?#@\\]+)((?:\/|\?)[A-Za-z0-9\-._~!$&()*+,;=:@/?%]*)?$/i;
const MAX_WRITTEN_ORIGINS = 256;
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)|%2e/i;

/** The error a native request fails with for bad input, naming the option and what is allowed. */
export function badOption(client: string, option: string, given: string, allowed: string): Error {
  return new AxiosError(
    `HttpPoolRequester(${client}): request option \`${option}\` ${allowed}; got ${given}.`,
    AxiosError.ERR_BAD_OPTION_VALUE,
  );
}

/**
 * Resolves a native request's target the way axios resolves `url` against `baseURL`: absolute
 * URLs as they are, other paths appended to the base URL's path. Origins are parsed once and
 * kept in `origins`, so a request to a known upstream parses no URL.
 */
export class NativeTargets {
  private readonly origins = new Map<string, KnownOrigin>();
  /** Origins of absolute paths by their text as written (`http://Host:80` and `http://host` apart). */
  private readonly written = new Map<string, KnownOrigin>();
  private readonly base: { origin: KnownOrigin; path: string } | undefined;

  constructor(
    private readonly client: string,
    baseURL: string | undefined,
  ) {
    if (baseURL) {
      const url = new URL(baseURL);
      this.base = { origin: this.originOf(url), path: url.pathname.replace(/\/+$/, '') };
    }
  }

  /** Origin URL and request-line target of `path` with `query`. */
  resolve(path: unknown, query: HttpPoolQuery | undefined): NativeTarget {
    if (typeof path !== 'string' || path === '') {
      throw badOption(
        this.client,
        'path',
        describe(path),
        'must be a non-empty string: a path under the client baseURL or an absolute http(s) URL',
      );
    }
    let origin: KnownOrigin;
    let target: string;
    const plain = PLAIN_ABSOLUTE.exec(path);
    if (plain !== null && !DOT_SEGMENT.test(path)) {
      // The common absolute URL: its origin parsed once, its target taken as written.
      origin = this.writtenOrigin(plain[1]!, path);
      let rest = plain[2] ?? '/';
      // An empty query is no query (`new URL('http://h/a?').search` is '').
      if (rest.indexOf('?') === rest.length - 1) rest = rest.slice(0, -1);
      target = rest === '' || rest.startsWith('?') ? `/${rest}` : rest;
    } else if (ABSOLUTE.test(path)) {
      const url = new URL(path);
      origin = this.httpOriginOf(url, path);
      target = url.pathname + url.search;
    } else if (this.base) {
      origin = this.base.origin;
      target = `${this.base.path}/${path.replace(/^\/+/, '')}`;
    } else {
      throw badOption(
        this.client,
        'path',
        describe(path),
        'must be an absolute http(s) URL when the client has no baseURL (HTTP_BASE_URL)',
      );
    }
    const search = query === undefined ? '' : serializeQuery(query);
    if (search !== '') target += (target.includes('?') ? '&' : '?') + search;
    return { origin: origin.url, originText: origin.text, path: target };
  }

  /** The origin of `written` (the start of absolute path `path`), parsed once per spelling. */
  private writtenOrigin(written: string, path: string): KnownOrigin {
    let origin = this.written.get(written);
    if (origin === undefined) {
      origin = this.httpOriginOf(new URL(written), path);
      // Bounded: a client sent to ever new hosts parses each one instead.
      if (this.written.size < MAX_WRITTEN_ORIGINS) this.written.set(written, origin);
    }
    return origin;
  }

  /** The shared origin of `url` (of absolute path `path`); refuses a scheme other than http(s). */
  private httpOriginOf(url: URL, path: string): KnownOrigin {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw badOption(this.client, 'path', describe(path), 'must use http: or https:');
    }
    return this.originOf(url);
  }

  private originOf(url: URL): KnownOrigin {
    const text = url.origin;
    let origin = this.origins.get(text);
    if (!origin) {
      origin = { url: new URL(text), text };
      this.origins.set(text, origin);
    }
    return origin;
  }
}

/** `a=1&b=x&b=y`: arrays repeat their key, `undefined` / `null` values are left out. */
export function serializeQuery(query: HttpPoolQuery): string {
  if (query instanceof URLSearchParams) return query.toString();
  const parts: string[] = [];
  for (const key of Object.keys(query)) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    const name = encodeURIComponent(key);
    if (Array.isArray(value)) {
      for (const item of value as ReadonlyArray<string | number | boolean>) {
        parts.push(`${name}=${encodeURIComponent(String(item))}`);
      }
    } else {
      parts.push(`${name}=${encodeURIComponent(String(value))}`);
    }
  }
  return parts.join('&');
}

/** A serialized body and whether it is JSON the client produced. */
export interface SerializedBody {
  body: NativeRequestBody | undefined;
  json: boolean;
  /** A stream: sent once, never retried. */
  stream: boolean;
}

/** The serialized form of no body, shared by every request without one. */
const NO_BODY: SerializedBody = Object.freeze({ body: undefined, json: false, stream: false });

/** Strings, bytes and streams as they are; plain objects and arrays as JSON. */
export function serializeBody(client: string, body: unknown): SerializedBody {
  if (body === undefined || body === null) return NO_BODY;
  if (typeof body === 'string' || body instanceof Uint8Array) {
    return { body, json: false, stream: false };
  }
  if (body instanceof Readable) return { body, json: false, stream: true };
  const proto: unknown = typeof body === 'object' ? Object.getPrototypeOf(body) : undefined;
  if (Array.isArray(body) || proto === Object.prototype || proto === null) {
    return { body: JSON.stringify(body), json: true, stream: false };
  }
  throw badOption(
    client,
    'body',
    describe(body),
    'must be a string, a Buffer / Uint8Array, a Readable stream, or a plain object or array (sent as JSON)',
  );
}

/**
 * Client default headers (name → value, any case) as undici's flat list; with `overrides`, a
 * header the request names (any case) replaces the default, and a `null` / `undefined` value
 * drops it. `json` adds `content-type: application/json` unless the request set one.
 */
export function mergeHeaders(
  defaults: readonly string[],
  overrides: HttpPoolHeaders | undefined,
  json: boolean,
): string[] {
  if (!overrides && !json) return defaults as string[];
  const named = new Set<string>();
  const out: string[] = [];
  let hasContentType = false;
  if (overrides) {
    for (const name of Object.keys(overrides)) {
      const lower = name.toLowerCase();
      named.add(lower);
      if (lower === 'content-type') hasContentType = true;
      const value = overrides[name];
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) out.push(name, v);
      else out.push(name, String(value));
    }
  }
  for (let i = 0; i < defaults.length; i += 2) {
    const name = defaults[i] as string;
    const lower = name.toLowerCase();
    if (named.has(lower)) continue;
    if (lower === 'content-type') hasContentType = true;
    out.push(name, defaults[i + 1] as string);
  }
  if (json && !hasContentType) out.push('content-type', 'application/json');
  return out;
}

/** The total timeout of one request: the request's own, else the client's (`timeoutTotalMs`). */
export function requestTimeout(client: string, given: unknown, fallback: number): number {
  if (given === undefined) return fallback;
  if (typeof given === 'number' && Number.isFinite(given) && given >= 0) return given;
  throw badOption(client, 'timeout', describe(given), 'must be milliseconds ≥ 0 (0 = no limit)');
}

/** Upper-case method; anything but an HTTP token is refused. */
export function requestMethod(client: string, given: unknown): string {
  if (given === undefined) return 'GET';
  // The shortcut methods pass these as they are: no pattern to test.
  if (given === 'GET' || given === 'POST' || given === 'PUT' || given === 'DELETE') return given;
  if (typeof given === 'string' && /^[A-Za-z]+$/.test(given)) return given.toUpperCase();
  throw badOption(client, 'method', describe(given), 'must be an HTTP method such as GET or POST');
}

/** A short, secret-free description of a given value for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    // A URL's userinfo password and secret query values never reach an error message.
    const shown = redactUrl(value);
    return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown);
  }
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return `an object (${typeof name === 'string' ? name : 'no prototype'})`;
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}
