import { Readable } from 'node:stream';

/** One request line of an attempt: the first one, or a redirect's. */
export interface RequestHop<B> {
  origin: string;
  path: string;
  method: string;
  /** undici's flat `[name, value, …]` list (a value may be an array for a repeated header). */
  headers: string[];
  body: B | undefined;
}

/** Statuses whose `Location` is followed (as undici's and the fetch spec's redirect rules). */
const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);

/** Whether a response with `statusCode` is a redirect that may be followed. */
export function isRedirectStatus(statusCode: number): boolean {
  return REDIRECT_STATUSES.has(statusCode);
}

const CREDENTIALS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * The redirects of one attempt, followed by the transport's own dispatch handlers (a response
 * whose redirect is followed is read and dropped, then {@link hop} is sent on the same
 * `poolLimit` slot). The rules are undici's and the fetch spec's: 301/302 turn a POST into a GET
 * and 303 anything but HEAD, without the body and its `content-*` headers; `Host` is never
 * carried over, credentials and cookies not to another origin. Doing it here rather than with
 * undici's redirect interceptor spares every request the interceptor's handler wrapping.
 */
export class RedirectFollower<B> {
  private followed = 0;

  /**
   * @param hop the first request line
   * @param max redirects followed before failing (`maxRedirects`); 0 hands a 3xx out
   */
  constructor(
    public hop: RequestHop<B>,
    private readonly max: number,
  ) {}

  /** The URL of the current hop: the request's, or the last redirect's target. */
  get url(): string {
    return this.hop.origin + this.hop.path;
  }

  /** True once a redirect was followed. */
  get redirected(): boolean {
    return this.followed > 0;
  }

  /**
   * For a response: `true` when its redirect is followed ({@link hop} is now the target, to send
   * once this response has ended), an error past `max` redirects (undici's `max redirects`, which
   * reads as `ERR_FR_TOO_MANY_REDIRECTS`), `false` when the response is the one to hand out (not
   * a redirect, no redirects allowed, a stream body that cannot be sent again, or a `Location`
   * that is no http(s) URL).
   */
  follow(statusCode: number, location: unknown): boolean | Error {
    if (!REDIRECT_STATUSES.has(statusCode) || typeof location !== 'string' || this.max <= 0) {
      return false;
    }
    if (this.followed >= this.max) return new Error('max redirects');
    const hop = this.hop;
    let url: URL;
    try {
      url = new URL(location, hop.origin + hop.path);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    let { method, body } = hop;
    const toGet =
      ((statusCode === 301 || statusCode === 302) && method === 'POST') ||
      (statusCode === 303 && method !== 'HEAD');
    if (toGet) {
      method = 'GET';
      body = undefined;
    } else if (body instanceof Readable) {
      return false;
    }
    this.followed++;
    this.hop = {
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      headers: redirectHeaders(hop.headers, toGet, url.origin !== hop.origin),
      body,
    };
    return true;
  }
}

/** A redirect's request headers from the previous hop's flat `[name, value, …]` list. */
function redirectHeaders(headers: string[], dropContent: boolean, crossOrigin: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] as string).toLowerCase();
    if (name === 'host') continue;
    if (dropContent && name.startsWith('content-')) continue;
    if (crossOrigin && CREDENTIALS.has(name)) continue;
    out.push(headers[i] as string, headers[i + 1] as string);
  }
  return out;
}
