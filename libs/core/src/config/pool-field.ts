import { z } from 'zod';

import type { AppEnv } from './app-env.js';

/** How a variable is written in the environment. */
export type PoolVariableUnit =
  'count' | 'milliseconds' | 'seconds' | 'boolean' | 'url' | 'text' | 'enum' | 'list' | 'host-list';

/**
 * Describes one configuration variable of a pool: its env name (and aliases), option key, unit,
 * default, per-environment presets and allowed range. The reference in docs/configuration.md is
 * generated from these entries.
 */
export interface PoolVariableMeta {
  /** Key in the parsed config and in explicit options. */
  readonly key: string;
  /** Canonical env name; undefined for options-only keys (`name`, `headers`). */
  readonly env?: string;
  /** Accepted alias env names, in precedence order (after the canonical name). */
  readonly aliases: readonly string[];
  /** How the env value is written (`seconds` values become milliseconds in the config). */
  readonly unit: PoolVariableUnit;
  /** Value used when no option, env variable or preset sets the key; undefined = not set. */
  readonly default: unknown;
  /** Values from the `APP_ENV` presets, where a preset sets this key. */
  readonly presets: Readonly<Partial<Record<AppEnv, unknown>>>;
  /** What the env variable accepts, in words. */
  readonly allowed: string;
  /** What the explicit option accepts, in words (option values are in the config's units). */
  readonly allowedOption: string;
  /** What the setting does. */
  readonly description: string;
  /** Whether the value is a secret and always shown as `***`. */
  readonly secret: boolean;
}

/**
 * A variable's metadata plus the zod schemas that parse it from env and from options. `D` is the
 * type of the default: a field whose default is `undefined` becomes an optional key of the config
 * type derived from its field map ({@link PoolConfigOf}).
 */
export interface PoolField<V, D extends V | undefined = V | undefined> {
  /** Canonical env name; undefined for options-only keys. */
  readonly env?: string;
  /** Alias env names, in precedence order after the canonical name. */
  readonly aliases?: readonly string[];
  /** How the env value is written. */
  readonly unit: PoolVariableUnit;
  /** Value when nothing else sets the key; undefined = left unset. */
  readonly default: D;
  /** What the env variable accepts, in words. */
  readonly allowed: string;
  /** What the explicit option accepts, in words. */
  readonly allowedOption: string;
  /** What the setting does. */
  readonly description: string;
  /** Always shown as `***`. */
  readonly secret?: boolean;
  /** Parses the env string into the config value (unit conversion included). */
  readonly fromEnv?: z.ZodType<V>;
  /** Validates an explicit option value. */
  readonly fromOption: z.ZodType<V>;
}

/** Any field, whatever its value type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPoolField = PoolField<any, any>;

/** A pool's fields by config key, in reference order (derived keys and `name` excluded). */
export type PoolFields = Readonly<Record<string, AnyPoolField>>;

/** The value type a field parses to. */
export type PoolFieldValue<F> = F extends PoolField<infer V, infer _D> ? V : never;

type FieldValues<F extends PoolFields> = { -readonly [K in keyof F]: PoolFieldValue<F[K]> };
type OptionalKeys<F extends PoolFields> = {
  [K in keyof F]: F[K]['default'] extends undefined ? K : never;
}[keyof F];

/**
 * The resolved config type of a field map: `name`, every field with a default as a required key,
 * every field without one as an optional key. Derived from the fields, so the type cannot drift
 * from what the parser produces; the JSDoc of each field-map entry shows on the config key.
 */
export type PoolConfigOf<F extends PoolFields> = { name: string } & Omit<
  FieldValues<F>,
  OptionalKeys<F>
> &
  Partial<Pick<FieldValues<F>, OptionalKeys<F>>>;

/**
 * Explicit options for a config `C`: any subset of its keys, in the config's units. Other keys are
 * accepted by the type so that the parser can refuse them with an explanation (a removed driver
 * option) or name them as unknown, listing the keys that exist.
 */
export type PoolOptionsOf<C> = Partial<C> & { readonly [key: string]: unknown };

interface Described<V, D extends V | undefined> {
  env?: string;
  aliases?: readonly string[];
  default: D;
  description: string;
  secret?: boolean;
}

// A plain decimal number: `2`, `2.0`, `.5`, `-1` (signs are accepted so that the range check, not
// the syntax check, reports negative values). Hex, exponents and `Infinity` are refused.
const decimal = z
  .string()
  .trim()
  .regex(/^[+-]?(\d+\.?\d*|\.\d+)$/)
  .transform(Number);

const optionNumber = z.union([z.number(), decimal]);

function range(min: number, max: number | undefined): string {
  return max === undefined ? `≥ ${min}` : `≥ ${min} and ≤ ${max}`;
}

/** An integer count (`min`..`max`). */
export function countField<D extends number | undefined>(
  d: Described<number, D> & { min: number; max?: number; zeroMeans?: string },
): PoolField<number, D> {
  let rule = z.number().int().min(d.min);
  if (d.max !== undefined) rule = rule.max(d.max);
  const zero = d.zeroMeans === undefined ? '' : `; 0 = ${d.zeroMeans}`;
  const allowed = `an integer ${range(d.min, d.max)}${zero}`;
  return {
    ...d,
    unit: 'count',
    allowed,
    allowedOption: allowed,
    fromEnv: decimal.pipe(rule),
    fromOption: optionNumber.pipe(rule),
  };
}

/**
 * Longest duration a Node timer can hold; a larger delay silently fires after 1 ms, so it is refused.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * A duration kept in milliseconds. `envUnit: 'seconds'` reads the env value in seconds (decimals
 * allowed, `2.0` → 2000); explicit options are always milliseconds.
 */
export function durationField<D extends number | undefined>(
  d: Described<number, D> & {
    envUnit: 'seconds' | 'milliseconds';
    minMs: number;
    zeroMeans?: string;
  },
): PoolField<number, D> {
  const rule = z.number().int().min(d.minMs).max(MAX_TIMER_MS);
  const zero = d.zeroMeans === undefined ? '' : `; 0 = ${d.zeroMeans}`;
  const minText = d.minMs === 0 ? '≥ 0' : d.minMs === 1 ? '> 0' : `≥ ${d.minMs}`;
  const allowedOption = `an integer number of milliseconds ${minText} and ≤ ${MAX_TIMER_MS}${zero}`;
  if (d.envUnit === 'seconds') {
    const minS = d.minMs === 0 ? '≥ 0' : d.minMs === 1 ? '> 0' : `≥ ${d.minMs / 1000}`;
    const maxS = Math.floor(MAX_TIMER_MS / 1000);
    return {
      ...d,
      unit: 'seconds',
      allowed: `a number of seconds ${minS} and ≤ ${maxS} (decimals allowed, e.g. 2.0)${zero}`,
      allowedOption,
      fromEnv: decimal
        .pipe(z.number().min(0))
        .transform((s) => Math.round(s * 1000))
        .pipe(rule),
      fromOption: optionNumber.pipe(rule),
    };
  }
  return {
    ...d,
    unit: 'milliseconds',
    allowed: allowedOption,
    allowedOption,
    fromEnv: decimal.pipe(rule),
    fromOption: optionNumber.pipe(rule),
  };
}

const BOOLEAN_WORDS = { truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] };
const stringBool = z
  .string()
  .trim()
  .pipe(z.stringbool({ ...BOOLEAN_WORDS, case: 'insensitive' }));

/** A boolean; env accepts true/false, 1/0, yes/no, on/off in any case. */
export function booleanField<D extends boolean | undefined>(
  d: Described<boolean, D>,
): PoolField<boolean, D> {
  return {
    ...d,
    unit: 'boolean',
    allowed: 'a boolean: true/false, 1/0, yes/no or on/off (any case)',
    allowedOption: 'a boolean (true or false)',
    fromEnv: stringBool,
    fromOption: z.union([z.boolean(), stringBool]),
  };
}

/** One of a fixed set of words (case-insensitive in env). */
export function enumField<
  const T extends readonly [string, ...string[]],
  D extends T[number] | undefined,
>(d: Described<T[number], D> & { values: T }): PoolField<T[number], D> {
  const schema = z.string().trim().toLowerCase().pipe(z.enum(d.values));
  const allowed = `one of ${d.values.join(', ')}`;
  return {
    ...d,
    unit: 'enum',
    allowed,
    allowedOption: allowed,
    fromEnv: schema,
    fromOption: schema,
  };
}

/** Non-empty text of bounded length. */
export function textField<D extends string | undefined>(
  d: Described<string, D> & { maxLength: number },
): PoolField<string, D> {
  const schema = z.string().trim().min(1).max(d.maxLength);
  const allowed = `non-empty text of at most ${d.maxLength} characters`;
  return {
    ...d,
    unit: 'text',
    allowed,
    allowedOption: allowed,
    fromEnv: schema,
    fromOption: schema,
  };
}

/** A URL checked by `schema`; `allowed` says which schemes. */
export function urlField<D extends string | undefined>(
  d: Described<string, D> & { schema: z.ZodType<string>; allowed: string },
): PoolField<string, D> {
  return {
    ...d,
    unit: 'url',
    allowedOption: d.allowed,
    fromEnv: d.schema,
    fromOption: d.schema,
  };
}

/** A comma-separated list of words from `values` (env), or an array / comma string (options). */
export function listField<
  const T extends readonly [string, ...string[]],
  D extends Array<T[number]> | undefined,
>(
  d: Described<Array<T[number]>, D> & { values: T; none?: string },
): PoolField<Array<T[number]>, D> {
  const item = z.string().trim().toLowerCase().pipe(z.enum(d.values));
  const none = d.none;
  const fromString = z
    .string()
    .transform((s) => s.split(',').map((part) => part.trim()))
    .transform((parts) =>
      parts.filter((p) => p !== '' && (none === undefined || p.toLowerCase() !== none)),
    )
    .pipe(z.array(item))
    .transform((items) => [...new Set(items)]);
  const noneText = none === undefined ? '' : ` (or "${none}" / empty for none)`;
  const allowed = `a comma-separated list of ${d.values.join(', ')}${noneText}`;
  return {
    ...d,
    unit: 'list',
    allowed,
    allowedOption: `an array of ${d.values.join(', ')}`,
    fromEnv: fromString,
    fromOption: z.union([z.array(item).transform((items) => [...new Set(items)]), fromString]),
  };
}

/** A `host:port` pair. */
export interface HostPort {
  /** Host name or IP address (IPv6 in brackets in env: `[::1]:26379`). */
  host: string;
  /** TCP port, 1–65535. */
  port: number;
}

const port = z.number().int().min(1).max(65535);
const hostPortString = z
  .string()
  .trim()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/)
  .transform((s) => {
    const colon = s.lastIndexOf(':');
    return {
      host: s.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
      port: Number(s.slice(colon + 1)),
    };
  })
  .pipe(z.object({ host: z.string().min(1), port }));
const hostPortList = z
  .string()
  .transform((s) => s.split(',').filter((part) => part.trim() !== ''))
  .pipe(z.array(hostPortString).min(1));
const hostPortObject = z.strictObject({ host: z.string().trim().min(1), port });

/** A comma-separated `host:port` list (env), or an array of `{ host, port }` (options). */
export function hostListField<D extends HostPort[] | undefined>(
  d: Described<HostPort[], D>,
): PoolField<HostPort[], D> {
  return {
    ...d,
    unit: 'host-list',
    allowed: 'a comma-separated list of host:port (port 1–65535), e.g. s1:26379,s2:26379',
    allowedOption: 'a non-empty array of { host, port } (port 1–65535)',
    fromEnv: hostPortList,
    fromOption: z.union([z.array(hostPortObject).min(1), hostPortList]),
  };
}

/** Exported description of a field map (zod schemas stripped). */
export function describeFields(
  fields: PoolFields,
  presets: Readonly<Record<AppEnv, Readonly<Record<string, unknown>>>>,
): readonly PoolVariableMeta[] {
  return Object.freeze(
    Object.entries(fields).map(([key, f]) => {
      const perEnv: Partial<Record<AppEnv, unknown>> = {};
      for (const appEnv of ['development', 'staging', 'production'] as const) {
        const value = presets[appEnv][key];
        if (value !== undefined) perEnv[appEnv] = value;
      }
      const meta: PoolVariableMeta = {
        key,
        ...(f.env === undefined ? {} : { env: f.env }),
        aliases: Object.freeze([...(f.aliases ?? [])]),
        unit: f.unit,
        default: f.default,
        presets: Object.freeze(perEnv),
        allowed: f.allowed,
        allowedOption: f.allowedOption,
        description: f.description,
        secret: f.secret ?? false,
      };
      return Object.freeze(meta);
    }),
  );
}

/**
 * `*_OPERATION_METRICS`: whether the pool times every operation into
 * `db_client_operation_duration_seconds`. Off by default: it costs a closure and an observation
 * per command, which the benchmarks measure.
 */
export function operationMetricsField(env: string): PoolField<boolean, false> {
  return booleanField({
    env,
    default: false,
    description:
      'Per-operation latency histogram (db_client_operation_duration_seconds) by command, collection and error.',
  });
}

/**
 * `*_POOL_METRICS`: whether the pool records its metrics (connection counts, wait, use and create
 * times, timeouts, errors, breaker state) on the application's registry. On by default; `false`
 * leaves the pool out of `/metrics` entirely, e.g. to measure what recording costs.
 */
export function poolMetricsField(env: string): PoolField<boolean, true> {
  return booleanField({
    env,
    default: true,
    description:
      "Pool metrics on the application's registry; false records and exports nothing for this pool.",
  });
}

/** `*_BREAKER_ENABLED`: whether the pool's circuit breaker may open. On by default everywhere. */
export function breakerEnabledField(env: string): PoolField<boolean, true> {
  return booleanField({
    env,
    default: true,
    description:
      'Circuit breaker: fail calls at once (PoolUnavailableError) after repeated connection failures.',
  });
}

/** `*_BREAKER_FAILURES`: consecutive connection-level failures or timeouts that open the circuit. */
export function breakerFailuresField(env: string): PoolField<number, 5> {
  return countField({
    env,
    default: 5,
    min: 1,
    max: 1000,
    description: 'Consecutive connection failures or timeouts that open the circuit breaker.',
  });
}

/** `*_BREAKER_HALF_OPEN_MS`: how long an open circuit waits before one trial call. */
export function breakerHalfOpenField(env: string): PoolField<number, 1000> {
  return durationField({
    env,
    envUnit: 'milliseconds',
    default: 1000,
    minMs: 1,
    description: 'How long an open circuit fails calls before one trial call (half-open).',
  });
}
