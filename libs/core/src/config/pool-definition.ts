import { ConfigValidationError } from '../errors/config-validation.error.js';
import { configValidationTitle } from '../errors/messages.js';
import type { AppEnv, EnvSource } from './app-env.js';
import type { ConfigIssue } from './config-issue.interface.js';
import {
  PoolConfigContext,
  type PoolConfigParseFlags,
  type PoolSpec,
  type PoolValueExplanation,
  type UnsupportedPoolOption,
} from './pool-config-context.js';
import {
  describeFields,
  type PoolConfigOf,
  type PoolFields,
  type PoolFieldValue,
  type PoolOptionsOf,
  type PoolVariableMeta,
} from './pool-field.js';

/** Values a preset may fix: any subset of the fields' values. */
export type PoolPresetOf<F extends PoolFields> = { readonly [K in keyof F]?: PoolFieldValue<F[K]> };

/** What a pool library writes to describe its configuration to {@link definePool}. */
export interface PoolDefinitionInput<F extends PoolFields> {
  /** Short id of the pool kind (`mongo`); error context and `config:explain` use it. */
  readonly kind: string;
  /** Name of the pool kind in messages (`MongoDB`). */
  readonly label: string;
  /** One field per config key, in reference order (generated docs follow it). */
  readonly fields: F;
  /** What each `APP_ENV` preset fixes; keys it leaves out fall back to the field's default. */
  readonly presets: Readonly<Record<AppEnv, PoolPresetOf<F>>>;
  /** Options / env names refused with an explanation (removed driver options). */
  readonly unsupported?: readonly UnsupportedPoolOption[];
  /** Keys computed by `check` from other keys (`topology`); options may repeat them only when they agree. */
  readonly derived?: readonly string[];
  /** Cross-field rules and derived values, run after every field resolved. */
  readonly check?: (ctx: PoolConfigContext) => void;
}

/** What {@link PoolDefinition.inspect} returns: never throws. */
export interface PoolConfigInspection<C> {
  /** The resolved config; only trustworthy when `issues` is empty. */
  readonly config: C;
  /** Every problem found, in one pass. */
  readonly issues: ConfigIssue[];
  /** The pool name. */
  readonly name: string;
  /** The environment whose preset applied. */
  readonly appEnv: AppEnv;
  /** Every key with its masked value and the source that set it. */
  readonly explanation: PoolValueExplanation[];
}

/** The effective configuration of one pool, as `explainPoolConfig` and `config:explain` show it. */
export interface PoolConfigExplanation {
  /** Pool kind id (`mongo`). */
  readonly kind: string;
  /** Pool kind label (`MongoDB`). */
  readonly label: string;
  /** Pool name. */
  readonly name: string;
  /** The environment whose preset applied. */
  readonly appEnv: AppEnv;
  /** One row per key. */
  readonly values: readonly PoolValueExplanation[];
  /** Problems found (a pool with issues would fail at startup). */
  readonly issues: readonly ConfigIssue[];
}

/**
 * One pool kind's configuration, ready to parse: the engine of core bound to the fields, presets
 * and rules of a pool library. `C` is the resolved config type, derived from the field map.
 */
export interface PoolDefinition<C extends { name: string } = { name: string }> {
  /** Short id of the pool kind. */
  readonly kind: string;
  /** Name of the pool kind in messages. */
  readonly label: string;
  /** The engine's view (fields, presets, rules). */
  readonly spec: PoolSpec;
  /** Every variable's metadata, in reference order (the generated docs tables come from it). */
  readonly variables: readonly PoolVariableMeta[];
  /** Every env name the parser reads, `APP_ENV`/`NODE_ENV` and refused names included. */
  readonly envNames: readonly string[];
  /**
   * Resolves a config: each key from the explicit option, else the env variable (canonical name,
   * then aliases), else the `APP_ENV` preset, else the library default.
   *
   * @throws ConfigValidationError listing every invalid variable (values masked)
   */
  readonly parse: (env: EnvSource, options?: PoolOptionsOf<C>, flags?: PoolConfigParseFlags) => C;
  /** Like {@link parse}, but returns the issues instead of throwing. */
  readonly inspect: (
    env: EnvSource,
    options?: PoolOptionsOf<C>,
    flags?: PoolConfigParseFlags,
  ) => PoolConfigInspection<C>;
  /**
   * Every key's value and source (option / env NAME / preset / default), secrets masked. The
   * three are plain functions (no `this`), safe to pass around: `const parse = DEF.parse`.
   */
  readonly explain: (
    env: EnvSource,
    options?: PoolOptionsOf<C>,
    flags?: PoolConfigParseFlags,
  ) => PoolConfigExplanation;
}

function envNamesOf(spec: PoolSpec): readonly string[] {
  const names = ['APP_ENV', 'NODE_ENV'];
  for (const field of Object.values(spec.fields)) {
    if (field.env !== undefined) names.push(field.env, ...(field.aliases ?? []));
  }
  for (const unsupported of spec.unsupported) {
    if (unsupported.env !== undefined) names.push(unsupported.env);
  }
  return Object.freeze(names);
}

/**
 * Binds the parse engine to one pool kind. Pool libraries call it once, in their `src/config/`,
 * with their own fields, presets and rules; a new pool kind needs no change in core.
 *
 * @typeParam F the field map; the config type is derived from it ({@link PoolConfigOf})
 * @typeParam X keys computed by `check` (`{ topology: RedisTopology }`)
 * @example
 * export const CACHE_POOL = definePool({
 *   kind: 'cache',
 *   label: 'Cache',
 *   fields: { size: countField({ env: 'CACHE_SIZE', default: 10, min: 1, description: 'Entries.' }) },
 *   presets: { development: {}, staging: {}, production: { size: 100 } },
 * });
 * CACHE_POOL.parse(process.env).size; // number
 */
export function definePool<F extends PoolFields, X extends object = object>(
  input: PoolDefinitionInput<F>,
): PoolDefinition<PoolConfigOf<F> & X> {
  type C = PoolConfigOf<F> & X;
  const spec: PoolSpec = Object.freeze({
    kind: input.kind,
    label: input.label,
    fields: input.fields,
    presets: input.presets,
    unsupported: input.unsupported ?? [],
    derived: input.derived ?? [],
    check: input.check ?? (() => undefined),
  });
  const inspect = (
    env: EnvSource,
    options?: PoolOptionsOf<C>,
    flags: PoolConfigParseFlags = {},
  ): PoolConfigInspection<C> => {
    const ctx = new PoolConfigContext(spec, env, options, flags);
    return {
      config: ctx.result() as C,
      issues: ctx.issues,
      name: ctx.name,
      appEnv: ctx.appEnv,
      explanation: ctx.explain(),
    };
  };
  return Object.freeze({
    kind: spec.kind,
    label: spec.label,
    spec,
    variables: describeFields(spec.fields, spec.presets),
    envNames: envNamesOf(spec),
    inspect,
    parse: (env: EnvSource, options?: PoolOptionsOf<C>, flags?: PoolConfigParseFlags): C => {
      const { config, issues, name } = inspect(env, options, flags);
      if (issues.length > 0) {
        throw ConfigValidationError.fromIssues(issues, configValidationTitle(spec.label, name), {
          poolName: name,
          context: { kind: spec.kind },
        });
      }
      return config;
    },
    explain: (
      env: EnvSource,
      options?: PoolOptionsOf<C>,
      flags?: PoolConfigParseFlags,
    ): PoolConfigExplanation => {
      const r = inspect(env, options, flags);
      return {
        kind: spec.kind,
        label: spec.label,
        name: r.name,
        appEnv: r.appEnv,
        values: r.explanation,
        issues: r.issues,
      };
    },
  });
}
