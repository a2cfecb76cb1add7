import { type FactoryProvider, type InjectionToken, Logger } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ModulesContainer } from '@nestjs/core';
// The static context key of provider instances; its identity, not its shape, selects them.
import { STATIC_CONTEXT } from '@nestjs/core/injector/constants.js';

import type { EnvSource } from '../config/app-env.js';
import { summarizePoolConfig } from '../config/config-explain.js';
import type { PoolConfigParseFlags } from '../config/pool-config-context.js';
import type { PoolConfigExplanation, PoolDefinition } from '../config/pool-definition.js';
import { poolEnvFromConfig } from '../config/pool-env-names.js';
import { ConfigSourceMissingError } from '../errors/config-source-missing.error.js';
import { ConfigValidationError } from '../errors/config-validation.error.js';
import { configValidationTitle } from '../errors/messages.js';

/**
 * Marks the options of a zero-argument `forRootAsync()`: every value comes from `ConfigService`,
 * which must then exist. A symbol key, so the option parser never sees it.
 */
export const POOL_OPTIONS_FROM_ENV: unique symbol = Symbol('nest-pools:options-from-env');

/** Options every pool module accepts besides its own keys. */
export interface PoolSourceOptions {
  /**
   * Use the explicit options and library defaults only: no env variable, no `APP_ENV` preset.
   * @default false
   */
  ignoreEnv?: boolean;
  /** Set by the zero-argument `forRootAsync()` only. */
  readonly [POOL_OPTIONS_FROM_ENV]?: true;
}

/** What a pool module gives {@link createPoolConfigProvider}. */
export interface PoolConfigProviderOptions<C extends { name: string }> {
  /** Token the resolved config is provided under (module-local, e.g. `MongoPoolConfig(default)`). */
  provide: InjectionToken;
  /** The pool kind's definition. */
  definition: PoolDefinition<C>;
  /** Pool name (from the module's top-level `name`). */
  name: string;
  /** Token of the options the module builder produced. */
  optionsToken: InjectionToken;
  /** Public module name for messages (`MongoPoolModule`). */
  module: string;
  /** Parse flags (applications set `requireUrlInProduction`). */
  flags?: PoolConfigParseFlags;
  /** Where the resolved explanation goes, for `explainConfig(name)` of the pool service. */
  onExplained?: (explanation: PoolConfigExplanation) => void;
}

/** Modules a pool module imports so {@link createPoolConfigProvider} can read `ConfigService`. */
export const POOL_CONFIG_IMPORTS = [ConfigModule];

interface WrapperLike {
  readonly isAlias?: boolean;
  readonly isResolved?: boolean;
  readonly instance?: unknown;
  getInstanceByContextId?(ctx: unknown): { isResolved?: boolean; donePromise?: Promise<unknown> };
}

/**
 * Whether the application called `ConfigModule.forRoot()` (or `forFeature()`), global or not,
 * and a promise for its `load` factories having been merged into `ConfigService`. `forRoot()`'s
 * module provides `ConfigService` from a factory; the bare `ConfigModule` a pool module imports
 * only aliases it.
 */
async function configModuleReady(modules: ModulesContainer): Promise<boolean> {
  // Providers that need nothing asynchronous are created within the current turn of the event
  // loop; let them (ConfigModule's loaders among them) finish before reading.
  await new Promise<void>((resolve) => setImmediate(resolve));
  let found = false;
  const pending: Promise<unknown>[] = [];
  for (const moduleRef of modules.values()) {
    if (moduleRef.metatype !== ConfigModule) continue;
    for (const [token, raw] of moduleRef.providers) {
      const wrapper = raw as unknown as WrapperLike;
      if (token === ConfigService && wrapper.isAlias === false) found = true;
      if (token === 'CONFIGURATION_LOADER' || token === 'VALIDATED_ENV_LOADER') {
        found = true;
        const host = wrapper.getInstanceByContextId?.(STATIC_CONTEXT);
        if (host && !host.isResolved && host.donePromise) pending.push(host.donePromise);
      }
    }
  }
  await Promise.all(pending);
  return found;
}

/**
 * The provider of one pool's resolved config, the same for every pool kind: explicit options over
 * env variables (read through `ConfigService`: `.env`, `load` and `process.env` alike, whether or
 * not `ConfigModule` is global) over the `APP_ENV` preset over library defaults.
 *
 * - Zero-argument `forRootAsync()` ({@link POOL_OPTIONS_FROM_ENV}) with no `ConfigModule.forRoot()`
 *   in the application fails with {@link ConfigSourceMissingError}.
 * - Explicit options without `ConfigModule` read `process.env` beneath them.
 * - `ignoreEnv: true` uses the options and defaults only.
 *
 * Invalid input fails with one {@link ConfigValidationError} listing every issue. The effective
 * configuration is logged once at debug level (secrets masked).
 */
export function createPoolConfigProvider<C extends { name: string }>(
  opts: PoolConfigProviderOptions<C>,
): FactoryProvider<C> {
  const { definition, name } = opts;
  return {
    provide: opts.provide,
    inject: [opts.optionsToken, ModulesContainer, ConfigService],
    useFactory: async (
      given: Record<string | symbol, unknown> | undefined,
      modules: ModulesContainer,
      configService: ConfigService,
    ): Promise<C> => {
      const raw: Record<string | symbol, unknown> = { ...(given ?? {}) };
      const fromEnv = raw[POOL_OPTIONS_FROM_ENV] === true;
      delete raw[POOL_OPTIONS_FROM_ENV];
      const ignoreEnv = raw.ignoreEnv === true;
      delete raw.ignoreEnv;
      let env: EnvSource = {};
      if (!ignoreEnv) {
        if (await configModuleReady(modules)) {
          env = poolEnvFromConfig(definition, configService);
        } else if (fromEnv) {
          throw new ConfigSourceMissingError(definition.label, name, opts.module);
        } else {
          env = process.env;
        }
      }
      const flags = ignoreEnv ? { ...opts.flags, ignorePresets: true } : opts.flags;
      const result = definition.inspect(env, { ...raw, name } as never, flags);
      if (result.issues.length > 0) {
        throw ConfigValidationError.fromIssues(
          result.issues,
          configValidationTitle(definition.label, result.name),
          { poolName: result.name, context: { kind: definition.kind } },
        );
      }
      const explanation: PoolConfigExplanation = {
        kind: definition.kind,
        label: definition.label,
        name: result.name,
        appEnv: result.appEnv,
        values: result.explanation,
        issues: [],
      };
      opts.onExplained?.(explanation);
      new Logger(`${opts.module}(${name})`).debug(summarizePoolConfig(explanation));
      return result.config;
    },
  };
}
