// How the three pool modules read their configuration — the same rules for each:
// zero-argument forRootAsync() reads through ConfigService whether or not ConfigModule is global
// (`load` and .env included) and fails without ConfigModule; forRoot / forRootAsync({ useFactory })
// merge env and the APP_ENV preset under the explicit options unless ignoreEnv is set.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigSourceMissingError } from '@nest-pools/core';
import { HttpPoolModule } from '@nest-pools/http';
import { MongoPoolModule } from '@nest-pools/mongo';
import { RedisPoolModule } from '@nest-pools/redis';
import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';

interface Kind {
  label: string;
  /** The pool-size key and its env variable; production presets: Mongo 100, Redis 100, HTTP 100. */
  key: string;
  env: string;
  production: number;
  development: number;
  configToken: string;
  /** A URL nobody listens on, so compiling never reaches a server. */
  explicit: Record<string, unknown>;
  forRoot(options: Record<string, unknown>): DynamicModule;
  forRootAsync(options?: Record<string, unknown>): DynamicModule;
}

const KINDS: Kind[] = [
  {
    label: 'MongoPoolModule',
    key: 'maxPoolSize',
    env: 'MONGODB_MAX_POOL_SIZE',
    production: 100,
    development: 20,
    configToken: 'MongoPoolConfig(default)',
    explicit: { url: 'mongodb://127.0.0.1:9/app' },
    forRoot: (o) => MongoPoolModule.forRoot(o),
    forRootAsync: (o) => MongoPoolModule.forRootAsync(o),
  },
  {
    label: 'RedisPoolModule',
    key: 'maxConnections',
    env: 'REDIS_MAX_CONNECTIONS',
    production: 100,
    development: 20,
    configToken: 'RedisPoolConfig(default)',
    explicit: { url: 'redis://127.0.0.1:9' },
    forRoot: (o) => RedisPoolModule.forRoot(o),
    forRootAsync: (o) => RedisPoolModule.forRootAsync(o),
  },
  {
    label: 'HttpPoolModule',
    key: 'poolLimit',
    env: 'HTTP_POOL_LIMIT',
    production: 100,
    development: 20,
    configToken: 'nest-pools:HttpPoolConfig',
    explicit: { baseURL: 'http://127.0.0.1:9' },
    forRoot: (o) => HttpPoolModule.forRoot(o),
    forRootAsync: (o) => HttpPoolModule.forRootAsync(o),
  },
];

/** Compiles (providers only: no onModuleInit, so no connection is attempted) and reads the config. */
async function resolvedConfig(kind: Kind, imports: unknown[]): Promise<Record<string, unknown>> {
  const moduleRef = await Test.createTestingModule({
    imports: imports as DynamicModule[],
  }).compile();
  try {
    return moduleRef.get<Record<string, unknown>>(kind.configToken, { strict: false });
  } finally {
    await moduleRef.close();
  }
}

const configWith = (values: Record<string, string>, isGlobal = false) =>
  ConfigModule.forRoot({ isGlobal, ignoreEnvFile: true, load: [() => values] });

describe.each(KINDS)('$label configuration sources', (kind) => {
  it('forRoot(explicit options) still applies the APP_ENV preset under them', async () => {
    const config = await resolvedConfig(kind, [
      configWith({ APP_ENV: 'production' }),
      kind.forRoot(kind.explicit),
    ]);
    expect(config[kind.key]).toBe(kind.production);
  });

  it('forRootAsync({ useFactory }) merges env and the preset under the factory options', async () => {
    const config = await resolvedConfig(kind, [
      configWith({ APP_ENV: 'production', [kind.env]: '7' }),
      kind.forRootAsync({ useFactory: () => kind.explicit }),
    ]);
    expect(config[kind.key]).toBe(7);
  });

  it.each([false, true])(
    'zero-argument forRootAsync() reads values from ConfigModule load (isGlobal %s)',
    async (isGlobal) => {
      const config = await resolvedConfig(kind, [
        configWith({ [kind.env]: '9' }, isGlobal),
        kind.forRootAsync(),
      ]);
      expect(config[kind.key]).toBe(9);
    },
  );

  it('zero-argument forRootAsync() reads a non-global ConfigModule .env file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nest-pools-env-'));
    const file = join(dir, '.env');
    writeFileSync(file, `${kind.env}=11\n`);
    try {
      const config = await resolvedConfig(kind, [
        ConfigModule.forRoot({ envFilePath: file }),
        kind.forRootAsync(),
      ]);
      expect(config[kind.key]).toBe(11);
    } finally {
      // ConfigModule copies .env values into process.env; leave nothing behind for other suites.
      delete process.env[kind.env];
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('zero-argument forRootAsync() without ConfigModule fails, saying to add ConfigModule.forRoot()', async () => {
    const failed = await Test.createTestingModule({ imports: [kind.forRootAsync()] })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(failed).toBeInstanceOf(ConfigSourceMissingError);
    expect((failed as Error).message).toContain(`${kind.label}.forRootAsync()`);
    expect((failed as Error).message).toContain('ConfigModule.forRoot()');
  });

  it('ignoreEnv: true takes neither env variables nor the preset', async () => {
    const config = await resolvedConfig(kind, [
      configWith({ APP_ENV: 'production', [kind.env]: '7' }),
      kind.forRoot({ ...kind.explicit, ignoreEnv: true }),
    ]);
    // The library default of each size key is the production number; development is lower.
    expect(config[kind.key]).toBe(kind.production);
    const dev = await resolvedConfig(kind, [
      configWith({ APP_ENV: 'development' }),
      kind.forRoot({ ...kind.explicit, ignoreEnv: true }),
    ]);
    expect(dev[kind.key]).toBe(kind.production);
    const withPreset = await resolvedConfig(kind, [
      configWith({ APP_ENV: 'development' }),
      kind.forRoot(kind.explicit),
    ]);
    expect(withPreset[kind.key]).toBe(kind.development);
  });
});
