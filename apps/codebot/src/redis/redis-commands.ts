import type { Cluster, Redis } from 'ioredis';

/** The Redis client CodeBot issues ordinary commands on (standalone, sentinel or cluster). */
export type RedisCommands = Pick<Redis | Cluster, 'get' | 'set' | 'del' | 'eval'>;

/** Key prefixes; one place so operators can find every key CodeBot writes. */
export const REDIS_KEYS = {
  snippet: (owner: string, name: string) => `codebot:snippet:${owner}:${name}`,
  rate: (owner: string) => `codebot:rate:${owner}`,
  update: (updateId: number) => `codebot:update:${updateId}`,
} as const;

// Fixed window: the first hit of a window sets its expiry, so the key never lives forever even if
// a client crashes between commands. PTTL gives Retry-After without a second round trip.
const RATE_LIMIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

/** Outcome of one rate-limit check. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the current window. */
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

/** Counts one request for `owner` in a fixed window of `windowMs`, allowing `max` per window. */
export async function consumeRateLimit(
  redis: RedisCommands,
  owner: string,
  max: number,
  windowMs: number,
): Promise<RateLimitDecision> {
  const reply = (await redis.eval(RATE_LIMIT_SCRIPT, 1, REDIS_KEYS.rate(owner), windowMs)) as [
    number,
    number,
  ];
  const [count, ttl] = reply;
  return { allowed: count <= max, remaining: Math.max(0, max - count), resetMs: Math.max(ttl, 0) };
}

/** Records `updateId` as seen; true the first time, false for a repeat within `ttlMs`. */
export async function markUpdateSeen(
  redis: RedisCommands,
  updateId: number,
  ttlMs: number,
): Promise<boolean> {
  const reply = await redis.set(REDIS_KEYS.update(updateId), '1', 'PX', ttlMs, 'NX');
  return reply === 'OK';
}

/** Forgets `updateId` so a retry of an update that failed half-way is handled again. */
export async function forgetUpdate(redis: RedisCommands, updateId: number): Promise<void> {
  await redis.del(REDIS_KEYS.update(updateId));
}
