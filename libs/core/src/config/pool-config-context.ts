import { z } from 'zod';

import {
  isSecretKey,
  redact,
  REDACTED,
  redactEnvValue,
  redactObject,
} from '../redaction/redaction.js';
import { type AppEnv, type EnvSource, inspectAppEnv } from './app-env.js';
import type { ConfigIssue } from './config-issue.interface.js';
import type { AnyPoolField, PoolFields } from './pool-field.js';

/** Switches of the parse functions that apply to applications rather than libraries. */
export interface PoolConfigParseFlags {
  /**
   * With `APP_ENV=production` (or `NODE_ENV` fallback), refuse the `localhost` URL default: the
   * URL must be given as an option or env variable (`MONGODB_URL`, `REDIS_URL` for a standalone
   * Redis). Off by default so libraries and tests stay usable; applications turn it on.
   * @default false
   */
  requireUrlInProduction?: boolean;
  /**
   * Skip the `APP_ENV` presets: keys not given fall back to the library defaults (the module
   * option `ignoreEnv` sets it, with an empty env).
   * @default false
   */
  ignorePresets?: boolean;
}

/** Where a resolved value came from. */
export type PoolValueOrigin = 'option' | 'env' | 'preset' | 'default';

interface ValueSource {
  origin: PoolValueOrigin;
  /** As the user wrote it: env name (alias included) or `options.<key>`; canonical name otherwise. */
  variable: string;
  raw?: unknown;
}

/** An option or env variable that drivers no longer support, refused with an explanation. */
export interface UnsupportedPoolOption {
  /** Option key, e.g. `waitQueueMultiple`. */
  readonly option: string;
  /** Env name that would carry it, e.g. `MONGODB_WAIT_QUEUE_MULTIPLE`. */
  readonly env?: string;
  /** Why it is refused and what to use instead. */
  readonly explanation: string;
}

/**
 * What the parse engine needs to know of one pool kind. Each pool library writes one (its fields,
 * presets and rules) and hands it to {@link definePool}; core itself knows no pool kind.
 */
export interface PoolSpec {
  /** Short id of the pool kind (`mongo`), used in error context and `config:explain`. */
  readonly kind: string;
  /** Name of the pool kind in messages (`MongoDB`). */
  readonly label: string;
  /** One field per config key, in reference order. */
  readonly fields: PoolFields;
  /** Values each `APP_ENV` preset fixes, below env variables and explicit options. */
  readonly presets: Readonly<Record<AppEnv, Readonly<Record<string, unknown>>>>;
  /** Options and env names refused with an explanation. */
  readonly unsupported: readonly UnsupportedPoolOption[];
  /** Option keys computed from others; accepted in options only when they agree. */
  readonly derived: readonly string[];
  /** Cross-field rules and derived values. */
  readonly check: (ctx: PoolConfigContext) => void;
}

/** Where one resolved value came from, as `explainPoolConfig` reports it. */
export interface PoolValueExplanation {
  /** Config key (`maxPoolSize`). */
  readonly key: string;
  /** The resolved value, masked when secret (`***`, userinfo in URLs hidden); `undefined` = not set. */
  readonly value: unknown;
  /** Which source won. */
  readonly origin: PoolValueOrigin;
  /**
   * The winning source in words: `option maxPoolSize`, `env MONGODB_MAX_POOL_SIZE` (the name as
   * written, alias included), `APP_ENV=production preset`, `default`; `derived` for computed keys.
   */
  readonly source: string;
  /** What the env variable (or, for options-only keys, the option) accepts. */
  readonly allowed: string;
  /** Canonical env name, when the key has one. */
  readonly env?: string;
  /** Whether the value is a secret. */
  readonly secret: boolean;
}

const MAX_GIVEN = 160;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const nameSchema = z.string().trim().regex(NAME_PATTERN);

function clip(text: string): string {
  return text.length > MAX_GIVEN ? `${text.slice(0, MAX_GIVEN)}…` : text;
}

function formatOptionValue(value: unknown, secret: boolean): string {
  if (secret) return JSON.stringify(REDACTED);
  if (typeof value === 'string') return clip(JSON.stringify(redact(value)));
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  try {
    return clip(JSON.stringify(redactObject(value)) ?? typeof value);
  } catch {
    return `(${typeof value})`;
  }
}

function maskValue(value: unknown, secret: boolean): unknown {
  if (value === undefined) return undefined;
  if (secret) return REDACTED;
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'object' && value !== null) return redactObject(value);
  return value;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The state of one parse: resolved values, where each came from, and the issues found. Cross-field
 * rules of each pool kind run against it.
 */
export class PoolConfigContext {
  /** Every problem found so far, values masked. */
  readonly issues: ConfigIssue[] = [];
  /** Resolved values by config key (final units). */
  readonly values: Record<string, unknown> = {};
  /** The environment whose preset applies. */
  readonly appEnv: AppEnv;
  /** The pool name (`default` unless given). */
  readonly name: string;
  private readonly sources = new Map<string, ValueSource>();
  private readonly failed = new Set<string>();

  constructor(
    readonly spec: PoolSpec,
    readonly env: EnvSource,
    rawOptions: unknown,
    readonly flags: PoolConfigParseFlags,
  ) {
    const inspection = inspectAppEnv(env);
    this.appEnv = inspection.appEnv;
    if (inspection.issue) this.issues.push(inspection.issue);

    let options: Record<string, unknown> = {};
    if (isPlainRecord(rawOptions)) {
      options = rawOptions;
    } else if (rawOptions !== undefined && rawOptions !== null) {
      this.issues.push({
        variable: 'options',
        given: formatOptionValue(rawOptions, false),
        allowed: 'a plain object of option keys',
      });
    }

    this.name = this.resolveName(options.name);
    this.checkOptionKeys(options);
    this.checkUnsupportedEnv();
    for (const [key, field] of Object.entries(spec.fields)) this.resolve(key, field, options);
    spec.check(this);
  }

  private resolveName(raw: unknown): string {
    if (raw === undefined || raw === null) return 'default';
    const parsed = nameSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.issues.push({
      variable: 'options.name',
      given: formatOptionValue(raw, false),
      allowed:
        'a pool name: 1–64 characters, letters, digits, _ . : - (starting with a letter or digit)',
    });
    return 'default';
  }

  private checkOptionKeys(options: Record<string, unknown>): void {
    const known = ['name', ...Object.keys(this.spec.fields), ...this.spec.derived];
    for (const key of Object.keys(options)) {
      // `undefined` means "not given" for every key, so spreading optional values never fails.
      if (known.includes(key) || options[key] === undefined) continue;
      const unsupported = this.spec.unsupported.find((u) => u.option === key);
      this.issues.push({
        variable: `options.${key}`,
        given: formatOptionValue(options[key], isSecretKey(key)),
        allowed: unsupported
          ? unsupported.explanation
          : `no such option; the ${this.spec.kind} pool accepts: ${known.join(', ')}`,
      });
    }
    for (const key of this.spec.derived) {
      if (options[key] !== undefined)
        this.sources.set(key, { origin: 'option', variable: `options.${key}`, raw: options[key] });
    }
  }

  private checkUnsupportedEnv(): void {
    for (const u of this.spec.unsupported) {
      if (u.env === undefined) continue;
      const raw = this.env[u.env];
      if (raw === undefined || raw.trim() === '') continue;
      this.issues.push({
        variable: u.env,
        given: JSON.stringify(redactEnvValue(u.env, raw)),
        allowed: u.explanation,
      });
    }
  }

  private resolve(key: string, field: AnyPoolField, options: Record<string, unknown>): void {
    const option = options[key];
    if (option !== undefined && option !== null) {
      this.sources.set(key, { origin: 'option', variable: `options.${key}`, raw: option });
      const parsed = field.fromOption.safeParse(option);
      if (parsed.success) {
        this.values[key] = parsed.data;
      } else {
        this.fail(key, field.allowedOption);
      }
      return;
    }
    if (field.env !== undefined && field.fromEnv !== undefined) {
      for (const name of [field.env, ...(field.aliases ?? [])]) {
        const raw = this.env[name];
        if (raw === undefined || raw.trim() === '') continue;
        this.sources.set(key, { origin: 'env', variable: name, raw });
        const parsed = field.fromEnv.safeParse(raw);
        if (parsed.success) {
          this.values[key] = parsed.data;
        } else {
          this.fail(key, field.allowed);
        }
        return;
      }
    }
    const preset = this.flags.ignorePresets ? undefined : this.spec.presets[this.appEnv][key];
    if (preset !== undefined) {
      this.sources.set(key, { origin: 'preset', variable: field.env ?? `options.${key}` });
      this.values[key] = preset;
      return;
    }
    this.sources.set(key, { origin: 'default', variable: field.env ?? `options.${key}` });
    // A copy, so that a caller mutating its config (an array default) never changes the next parse.
    if (field.default !== undefined) this.values[key] = structuredClone(field.default as unknown);
  }

  private fail(key: string, allowed: string): void {
    this.failed.add(key);
    this.issue(key, allowed);
  }

  /** Whether the key's value came from an option or env variable (not a preset or default). */
  isUserSet(key: string): boolean {
    const origin = this.sources.get(key)?.origin;
    return origin === 'option' || origin === 'env';
  }

  /** Whether the key resolved to a valid value (rules involving invalid keys are skipped). */
  isValid(key: string): boolean {
    return !this.failed.has(key);
  }

  /** The variable as the user wrote it (`REQUESTS_TIMEOUT`, `options.poolLimit`). */
  variable(key: string): string {
    return this.sources.get(key)?.variable ?? this.spec.fields[key]?.env ?? `options.${key}`;
  }

  /** The given value of a key, masked and quoted, or `(not set)`. */
  given(key: string): string {
    const source = this.sources.get(key);
    const secret = this.spec.fields[key]?.secret ?? false;
    if (!source || (source.origin !== 'option' && source.origin !== 'env')) {
      const value = this.values[key];
      return value === undefined
        ? '(not set)'
        : `${formatOptionValue(value, secret)} (${this.originText(key)})`;
    }
    if (source.origin === 'env') {
      const raw = String(source.raw);
      return JSON.stringify(secret ? REDACTED : redactEnvValue(source.variable, raw));
    }
    return formatOptionValue(source.raw, secret || isSecretKey(key));
  }

  /** `APP_ENV=production preset`, `library default`, or the variable name. */
  originText(key: string): string {
    const source = this.sources.get(key);
    if (source?.origin === 'preset') return `${this.appEnv} preset`;
    if (source?.origin === 'default' || !source) return 'library default';
    return source.variable;
  }

  /** Records an issue about `key` as the user wrote it. */
  issue(key: string, allowed: string): void {
    this.issues.push({ variable: this.variable(key), given: this.given(key), allowed });
  }

  /**
   * Enforces `values[low] <= values[high]`. When the low side was set by the user it is an issue;
   * when only the high side was, a preset/default low side is lowered to fit (presets are starting
   * points, never a reason to reject an explicit value).
   */
  checkOrder(low: string, high: string, relation: string): void {
    if (!this.isValid(low) || !this.isValid(high)) return;
    const lo = this.values[low];
    const hi = this.values[high];
    if (typeof lo !== 'number' || typeof hi !== 'number' || lo <= hi) return;
    if (this.isUserSet(low)) {
      const from = this.isUserSet(high)
        ? `${this.variable(high)} = ${hi}`
        : `${hi} from the ${this.originText(high)}`;
      this.issue(
        low,
        `at most the ${relation} (${from}); lower ${this.variable(low)} or raise ${this.variable(high)}`,
      );
    } else {
      this.values[low] = hi;
    }
  }

  /**
   * Refuses a URL that fell back to its default in production when the caller asked for it
   * ({@link PoolConfigParseFlags.requireUrlInProduction}).
   */
  requireExplicitInProduction(key: string, allowed: string): void {
    if (!this.flags.requireUrlInProduction || this.appEnv !== 'production') return;
    if (this.isUserSet(key)) return;
    this.issues.push({
      variable: this.spec.fields[key]?.env ?? `options.${key}`,
      given: '(not set)',
      allowed: `${allowed}, set explicitly: production never falls back to the localhost default`,
    });
  }

  /** An option value given for a derived key, if any. */
  derivedOption(key: string): unknown {
    const source = this.sources.get(key);
    return source?.origin === 'option' ? source.raw : undefined;
  }

  /**
   * Every key of the pool (fields, then derived keys) with its resolved value, masked, and the
   * source that set it. Pure: computed from the same state the parse used.
   */
  explain(): PoolValueExplanation[] {
    const rows: PoolValueExplanation[] = [];
    for (const [key, field] of Object.entries(this.spec.fields)) {
      const source = this.sources.get(key);
      const origin = source?.origin ?? 'default';
      const secret = field.secret ?? false;
      const words =
        origin === 'option'
          ? `option ${key}`
          : origin === 'env'
            ? `env ${source?.variable ?? field.env ?? key}`
            : origin === 'preset'
              ? `APP_ENV=${this.appEnv} preset`
              : 'default';
      rows.push({
        key,
        value: maskValue(this.values[key], secret || isSecretKey(key)),
        origin,
        source: words,
        allowed: field.env === undefined ? field.allowedOption : field.allowed,
        ...(field.env === undefined ? {} : { env: field.env }),
        secret,
      });
    }
    for (const key of this.spec.derived) {
      rows.push({
        key,
        value: this.values[key],
        origin: 'default',
        source: 'derived',
        allowed: 'computed from other keys',
        secret: false,
      });
    }
    return rows;
  }

  /** The resolved config with `name` first and unset keys left out. */
  result(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name };
    for (const [key, value] of Object.entries(this.values)) {
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
}
