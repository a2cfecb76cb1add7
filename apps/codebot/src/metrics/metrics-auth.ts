import { createHash, timingSafeEqual } from 'node:crypto';

/** True when `authorization` is `Bearer <token>` (constant-time); always true without a token. */
export function metricsAuthorized(
  authorization: string | undefined,
  token: string | undefined,
): boolean {
  if (token === undefined) return true;
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return false;
  const a = createHash('sha256').update(match[1].trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
