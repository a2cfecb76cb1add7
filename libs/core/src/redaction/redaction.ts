/** Replacement text for every masked secret. */
export const REDACTED = '***';

// Query-string / key names whose values are secrets wherever they appear.
const SECRET_KEY =
  /(pass(word|wd)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|authorization|cookie|credential|signature)$/i;

// Environment-variable names whose whole value is a secret.
const SECRET_ENV_NAME = /(^|_)(TOKEN|SECRET|API_KEY|PRIVATE_KEY|ACCESS_KEY)$|PASSWORD|PASSWD/i;

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

// Token shapes that are secret whatever name they travel under.
const TOKEN_PATTERNS: readonly RegExp[] = [
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g,
  /\b\d{6,12}:[A-Za-z0-9_-]{30,}\b/g, // bot tokens (`<id>:<secret>`)
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g,
  /\bsk-[A-Za-z0-9_-]{16,}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWT
];

// `password=…`, `api_key: …`, `FOO_TOKEN=…` inside free text.
const ASSIGNMENT =
  /\b([A-Za-z0-9_.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key))(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&"'(][^\s,;&"']*)/gi;

/**
 * Masks the password in a URL's userinfo (`scheme://user:***@host`) and the values of secret
 * query parameters (`?password=***`). Works on multi-host URLs such as
 * `mongodb://u:p@h1:27017,h2:27017/db` that the WHATWG `URL` parser rejects. A string that is not a
 * URL is returned unchanged.
 *
 * @example redactUrl('redis://:hunter2@cache:6379/0') // 'redis://:***@cache:6379/0'
 */
export function redactUrl(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url);
  if (!scheme) return url;
  const prefix = scheme[1] ?? '';
  const rest = url.slice(prefix.length);
  const authorityEnd0 = rest.search(/[/?#]/);
  const plainAuthority = authorityEnd0 === -1 ? rest : rest.slice(0, authorityEnd0);
  let at = plainAuthority.lastIndexOf('@');
  if (at === -1 && plainAuthority.includes(':')) {
    // An unencoded `/`, `?` or `#` inside a password ends the authority early: take the last `@`
    // followed by something host-shaped. Masking too much is the safe side of that ambiguity.
    const hostAfter = /@[A-Za-z0-9.\-[\]:,_%]+(?=[/?#]|$)/g;
    for (let m = hostAfter.exec(rest); m; m = hostAfter.exec(rest)) at = m.index;
  }
  let authority: string;
  let tail: string;
  if (at === -1) {
    // `user:secret` with the `@host` part missing: a non-numeric "port" is more likely a password.
    const colon = plainAuthority.indexOf(':');
    const hostsLookBroken = plainAuthority
      .split(',')
      .some((host) => /^[^[\]:]*:(?!\d*$)/.test(host));
    authority = hostsLookBroken
      ? `${plainAuthority.slice(0, colon + 1)}${REDACTED}`
      : plainAuthority;
    tail = rest.slice(plainAuthority.length);
  } else {
    const hostEnd = rest.slice(at + 1).search(/[/?#]/);
    const authorityEnd = hostEnd === -1 ? rest.length : at + 1 + hostEnd;
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:${REDACTED}`;
    authority = `${user}${rest.slice(at, authorityEnd)}`;
    tail = rest.slice(authorityEnd);
  }
  tail = tail.replace(/([?&;])([^=&#;]+)=([^&#;]*)/g, (match, sep: string, key: string) =>
    SECRET_KEY.test(decodeSafe(key)) ? `${sep}${key}=${REDACTED}` : match,
  );
  return `${prefix}${authority}${tail}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Masks secrets in free text: URL userinfo passwords and secret query parameters, `key=value`
 * pairs whose key names a secret (`password`, `token`, `secret`, `api_key`, `FOO_TOKEN`, …), and
 * well-known token shapes (Bearer/Basic credentials, bot tokens, GitHub/Slack/API keys, JWTs).
 * Idempotent: redacting redacted text changes nothing.
 *
 * @example redact('connect mongodb://app:s3cret@db:27017 failed') // 'connect mongodb://app:***@db:27017 failed'
 */
export function redact(value: string): string {
  let out = value.replace(URL_IN_TEXT, (url) => redactUrl(url));
  for (const pattern of TOKEN_PATTERNS) {
    out = out.replace(pattern, (match: string, scheme?: string) =>
      scheme !== undefined && /^(Bearer|Basic)$/.test(scheme) ? `${scheme} ${REDACTED}` : REDACTED,
    );
  }
  out = out.replace(ASSIGNMENT, (match, key: string, sep: string, val: string) =>
    val === REDACTED || val === `"${REDACTED}"` ? match : `${key}${sep}${REDACTED}`,
  );
  return out;
}

/**
 * Whether an environment-variable name holds a secret as a whole: `*_TOKEN`, `*_SECRET`,
 * `*_API_KEY`, `*_PRIVATE_KEY`, `*_ACCESS_KEY` and anything containing `PASSWORD`/`PASSWD`.
 */
export function isSecretEnvName(name: string): boolean {
  return SECRET_ENV_NAME.test(name);
}

/**
 * Whether a property or option key names a secret (`password`, `sentinelPassword`, `apiToken`,
 * `clientSecret`, `authorization`, `cookie`, …) or is a secret env name.
 */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) || SECRET_ENV_NAME.test(key);
}

/**
 * Masks an environment variable's value for display: fully for secret names (see
 * {@link isSecretEnvName}), otherwise through {@link redact} (URL userinfo, embedded tokens).
 *
 * @example redactEnvValue('REDIS_SENTINEL_PASSWORD', 'pw') // '***'
 */
export function redactEnvValue(name: string, value: string): string {
  if (value === '') return value;
  return isSecretEnvName(name) ? REDACTED : redact(value);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Deep copy of `obj` with secrets masked: values under secret-looking keys (`password`,
 * `sentinelPassword`, `token`, `secret`, `apiKey`, `authorization`, `cookie`, …) become `***`,
 * every other string goes through {@link redact}. Plain objects, arrays, `Map`s and `Error`s are
 * walked (cycles are preserved); other objects are returned as they are.
 */
export function redactObject<T>(obj: T): T {
  return walk(obj, new WeakMap()) as T;
}

function walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value !== 'object' || value === null) return value;
  const known = seen.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(walk(item, seen));
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    seen.set(value, copy);
    for (const [k, v] of value) {
      copy.set(k, typeof k === 'string' && SECRET_KEY.test(k) ? REDACTED : walk(v, seen));
    }
    return copy;
  }
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
    seen.set(value, copy);
    copy.message = redact(value.message);
    if (value.stack !== undefined) copy.stack = redact(value.stack);
    for (const [k, v] of Object.entries(value)) {
      copy[k] = SECRET_KEY.test(k) && v != null ? REDACTED : walk(v, seen);
    }
    return copy;
  }
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = Object.create(
    Object.getPrototypeOf(value) as object | null,
  ) as Record<string, unknown>;
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) {
    copy[k] = SECRET_KEY.test(k) && v != null && v !== '' ? REDACTED : walk(v, seen);
  }
  return copy;
}
