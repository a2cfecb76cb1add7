import { createHmac, timingSafeEqual } from 'node:crypto';

import { OWNER_PATTERN } from '../snippets/snippet.validation.js';

/**
 * Domain separation: the HMAC input is this prefix plus the owner, so a signature made with the
 * same secret for any other purpose can never pass as an API key (and `v1` leaves room for a
 * different key format later).
 */
const KEY_CONTEXT = 'codebot-api-key/v1\0';

/** Length of an HMAC-SHA256 in unpadded base64url. */
const SIGNATURE_LENGTH = 43;

const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Longest possible key: a 64-character owner, the dot and the signature. */
export const MAX_API_KEY_LENGTH = 64 + 1 + SIGNATURE_LENGTH;

/** The secrets that sign and verify API keys (`API_TOKEN_SECRET`, `API_TOKEN_PREVIOUS_SECRET`). */
export interface ApiKeySecrets {
  /** Signs new keys and verifies keys. */
  current: string;
  /** Still verifies keys during a rotation; never signs. */
  previous?: string;
}

/** Why a presented key was refused. */
export type ApiKeyRefusal = 'malformed' | 'bad_signature';

/** Outcome of {@link verifyApiKey}. */
export type ApiKeyVerification =
  | { ok: true; owner: string; signedWith: 'current' | 'previous' }
  | { ok: false; reason: ApiKeyRefusal };

function signature(owner: string, secret: string): string {
  return createHmac('sha256', secret)
    .update(KEY_CONTEXT + owner, 'utf8')
    .digest('base64url');
}

/**
 * Mints the API key of `owner`: `<owner>.<base64url HMAC-SHA256(secret, owner)>`. Deterministic —
 * the same owner and secret always give the same key, so nothing has to be stored; rotating the
 * secret revokes every key at once.
 *
 * @example mintApiKey('alice', process.env.API_TOKEN_SECRET) // 'alice.Zq3…'
 */
export function mintApiKey(owner: string, secret: string): string {
  if (!OWNER_PATTERN.test(owner)) {
    throw new Error(
      `Not a valid owner id: 1-64 characters, letters, digits, . _ : - (got ${JSON.stringify(owner)})`,
    );
  }
  return `${owner}.${signature(owner, secret)}`;
}

/**
 * Checks a presented key against the current and (during a rotation) the previous secret and
 * returns the owner it was minted for. Signatures are compared with `crypto.timingSafeEqual`;
 * both secrets are always tried, so the time taken does not say which one matched.
 */
export function verifyApiKey(key: string, secrets: ApiKeySecrets): ApiKeyVerification {
  if (key.length > MAX_API_KEY_LENGTH) return { ok: false, reason: 'malformed' };
  // Owners may contain dots; the signature never does, so it starts after the last one.
  const dot = key.lastIndexOf('.');
  const owner = key.slice(0, dot);
  const given = key.slice(dot + 1);
  if (dot < 1 || !OWNER_PATTERN.test(owner) || !SIGNATURE_PATTERN.test(given)) {
    return { ok: false, reason: 'malformed' };
  }
  const presented = Buffer.from(given, 'ascii');
  // Both buffers are 43 ASCII bytes (checked above), as timingSafeEqual requires.
  const current = timingSafeEqual(
    presented,
    Buffer.from(signature(owner, secrets.current), 'ascii'),
  );
  const previous =
    secrets.previous !== undefined &&
    timingSafeEqual(presented, Buffer.from(signature(owner, secrets.previous), 'ascii'));
  if (current) return { ok: true, owner, signedWith: 'current' };
  if (previous) return { ok: true, owner, signedWith: 'previous' };
  return { ok: false, reason: 'bad_signature' };
}

/** What the request headers carry. */
export type PresentedApiKey =
  { kind: 'key'; key: string } | { kind: 'missing' } | { kind: 'malformed'; message: string };

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

/**
 * Reads the key from `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Both may be sent if they
 * agree; another `Authorization` scheme, a repeated header or two different keys are malformed.
 */
export function presentedApiKey(headers: {
  authorization?: string | string[];
  'x-api-key'?: string | string[];
}): PresentedApiKey {
  const authorization = headers.authorization;
  const apiKeyHeader = headers['x-api-key'];
  if (authorization === undefined && apiKeyHeader === undefined) return { kind: 'missing' };

  let fromAuthorization: string | undefined;
  if (authorization !== undefined) {
    const match = /^Bearer +(\S+) *$/i.exec(single(authorization) ?? '');
    if (!match?.[1]) {
      return { kind: 'malformed', message: 'Authorization must be "Bearer <API key>".' };
    }
    fromAuthorization = match[1];
  }
  let fromHeader: string | undefined;
  if (apiKeyHeader !== undefined) {
    fromHeader = single(apiKeyHeader)?.trim();
    if (!fromHeader || /\s/.test(fromHeader)) {
      return { kind: 'malformed', message: 'X-Api-Key must hold exactly one API key.' };
    }
  }
  if (
    fromAuthorization !== undefined &&
    fromHeader !== undefined &&
    fromAuthorization !== fromHeader
  ) {
    return { kind: 'malformed', message: 'Authorization and X-Api-Key carry different keys.' };
  }
  return { kind: 'key', key: (fromAuthorization ?? fromHeader)! };
}
