import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

/** What `net.connect` passes a `lookup` function as its options. */
interface LookupOptions {
  family?: number | 'IPv4' | 'IPv6';
  hints?: number;
  all?: boolean;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` function as `net.connect` and axios's `lookup` option take it. */
export type CachedLookup = (
  hostname: string,
  options: LookupOptions | number,
  callback: LookupCallback,
) => void;

/** Resolves every address of a name, as `dns.lookup(name, { all: true })` does. */
export type ResolveAll = (
  hostname: string,
  options: { family: number; hints?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

interface CacheEntry {
  /** The addresses of the resolver's first family, in its order; the rotation runs over these. */
  preferred: LookupAddress[];
  /** The addresses of the other family, in the resolver's order. */
  others: LookupAddress[];
  expiresAt: number;
  /** Where the next answer starts in `preferred`, so successive connections rotate. */
  next: number;
}

/** Told the outcome of a resolution it waited for: the new entry, or why there is none. */
type Settle = (error: NodeJS.ErrnoException | null, entry?: CacheEntry) => void;

/** Entries kept before the expired ones are swept out at the next insertion. */
const SWEEP_ABOVE = 256;

const systemResolveAll: ResolveAll = (hostname, options, callback) =>
  dns.lookup(hostname, { ...options, all: true }, callback);

function familyOf(family: LookupOptions['family']): number {
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  return family ?? 0;
}

/**
 * A DNS cache for Node's agents (`transport: 'http'`), the counterpart of undici's
 * `interceptors.dns` on the undici transport: the system resolver's answers (`dns.lookup`, so
 * `/etc/hosts` and the search domains count) are kept `ttlMs` per name and address family, and
 * each new connection starts at the next address of the first family. Lookups of one name that
 * overlap share one resolution; failures are not kept. {@link DnsCache.forget} drops a name whose
 * connection was refused or timed out, so a moved upstream is found again before the TTL ends.
 */
export class DnsCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly pending = new Map<string, Settle[]>();
  private readonly options: { ttlMs: number; now: () => number; resolveAll: ResolveAll };

  constructor(options: { ttlMs: number; now?: () => number; resolveAll?: ResolveAll }) {
    this.options = {
      ttlMs: options.ttlMs,
      now: options.now ?? (() => performance.now()),
      resolveAll: options.resolveAll ?? systemResolveAll,
    };
  }

  /** Names (per family) currently cached. */
  get size(): number {
    return this.entries.size;
  }

  readonly lookup: CachedLookup = (hostname, options, callback) => {
    const opts: LookupOptions = typeof options === 'number' ? { family: options } : options;
    const family = familyOf(opts.family);
    const all = opts.all === true;
    if (isIP(hostname) !== 0) {
      dns.lookup(hostname, { family, all }, callback as never);
      return;
    }
    const key = `${family}|${hostname.toLowerCase()}`;
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.options.now()) {
      answer(entry, all, callback);
      return;
    }
    const settle: Settle = (error, stored) => {
      if (stored) answer(stored, all, callback);
      else callback(error, all ? [] : '', undefined);
    };
    const waiting = this.pending.get(key);
    if (waiting) {
      waiting.push(settle);
      return;
    }
    this.pending.set(key, [settle]);
    this.options.resolveAll(
      hostname,
      { family, ...(opts.hints === undefined ? {} : { hints: opts.hints }) },
      (error, addresses) => {
        const settles = this.pending.get(key) ?? [];
        this.pending.delete(key);
        const stored = !error && addresses.length > 0 ? this.store(key, addresses) : undefined;
        const failure = stored
          ? null
          : (error ??
            Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
              code: 'ENOTFOUND',
              hostname,
            }));
        for (const done of settles) done(failure, stored);
      },
    );
  };

  /** Drops every cached answer for `hostname`. */
  forget(hostname: string): void {
    const name = hostname.toLowerCase();
    for (const key of this.entries.keys()) {
      if (key.slice(key.indexOf('|') + 1) === name) this.entries.delete(key);
    }
  }

  private store(key: string, addresses: LookupAddress[]): CacheEntry {
    const now = this.options.now();
    if (this.entries.size >= SWEEP_ABOVE) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
    }
    const firstFamily = (addresses[0] as LookupAddress).family;
    const entry: CacheEntry = {
      preferred: addresses.filter((a) => a.family === firstFamily),
      others: addresses.filter((a) => a.family !== firstFamily),
      expiresAt: now + this.options.ttlMs,
      next: 0,
    };
    this.entries.set(key, entry);
    return entry;
  }
}

/**
 * The cached addresses, starting one further each time among those of the resolver's first
 * family (the order getaddrinfo sorted them in is kept between families: a name that resolves to
 * `::1` and `127.0.0.1` is not sent to the other family by the rotation); `all` gives them all,
 * the others after the rotated ones, for `net`'s own family selection.
 */
function answer(entry: CacheEntry, all: boolean, callback: LookupCallback): void {
  const { preferred, others } = entry;
  const start = entry.next % preferred.length;
  entry.next = start + 1;
  if (all) {
    callback(null, [...preferred.slice(start), ...preferred.slice(0, start), ...others]);
  } else {
    const picked = preferred[start] as LookupAddress;
    callback(null, picked.address, picked.family);
  }
}
