// A fourth pool kind built on core alone — fields, presets, config provider, registry and
// shutdown order — to show that core names no pool kind and needs no edit for a new one.
import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { z } from 'zod';

import { formatPoolConfigExplanation } from '../config/config-explain.js';
import { definePool, type PoolConfigExplanation } from '../config/pool-definition.js';
import { countField, durationField, textField, urlField } from '../config/pool-field.js';
import { ConfigSourceMissingError } from '../errors/config-source-missing.error.js';
import { ConfigValidationError } from '../errors/config-validation.error.js';
import { ShutdownModule } from '../shutdown/shutdown.module.js';
import { ShutdownCoordinator } from '../shutdown/shutdown-coordinator.js';
import {
  createPoolConfigProvider,
  POOL_CONFIG_IMPORTS,
  POOL_OPTIONS_FROM_ENV,
} from './pool-config.provider.js';
import { PoolNotFoundError, PoolRegistry } from './pool-registry.js';

const TOY_POOL = definePool({
  kind: 'toy',
  label: 'Toy',
  fields: {
    url: urlField({
      env: 'TOY_URL',
      default: 'toy://localhost',
      schema: z.string().regex(/^toy:\/\//),
      allowed: 'a toy:// URL',
      description: 'Where the toys are.',
    }),
    size: countField({
      env: 'TOY_SIZE',
      aliases: ['TOYS'],
      default: 4,
      min: 1,
      description: 'Toys.',
    }),
    waitMs: durationField({
      env: 'TOY_WAIT',
      envUnit: 'seconds',
      default: 1000,
      minMs: 1,
      description: 'Wait.',
    }),
    label: textField({
      env: 'TOY_LABEL',
      default: undefined,
      maxLength: 10,
      description: 'Label.',
    }),
  },
  presets: { development: {}, staging: { size: 8 }, production: { size: 16 } },
});

type ToyConfig = ReturnType<typeof TOY_POOL.parse>;

const events: string[] = [];

class ToyPool implements OnModuleInit, OnApplicationShutdown {
  private unregister?: () => void;
  constructor(
    readonly config: ToyConfig,
    private readonly registry: PoolRegistry<ToyPool>,
    private readonly coordinator?: ShutdownCoordinator,
  ) {}
  onModuleInit(): void {
    this.registry.register(this.config.name, this);
    this.unregister = this.coordinator?.register({
      name: `toy "${this.config.name}"`,
      phase: 'toy',
      order: 150,
      close: async () => {
        events.push(`close toy ${this.config.name}`);
        await Promise.resolve();
      },
    });
  }
  async onApplicationShutdown(): Promise<void> {
    if (this.coordinator) await this.coordinator.closeAll();
    this.unregister?.();
    this.registry.unregister(this.config.name, this);
  }
}

@Injectable()
class ToyRegistry extends PoolRegistry<ToyPool> {
  constructor() {
    super('Toy');
  }
}

@Module({ providers: [ToyRegistry], exports: [ToyRegistry] })
class ToyRegistryModule {}

const explained: PoolConfigExplanation[] = [];

function toyModule(name: string, options: Record<string | symbol, unknown>): DynamicModule {
  const optionsToken = `ToyOptions(${name})`;
  return {
    module: class ToyPoolModule {},
    imports: [...POOL_CONFIG_IMPORTS, ToyRegistryModule],
    providers: [
      { provide: optionsToken, useValue: options },
      createPoolConfigProvider({
        provide: `ToyConfig(${name})`,
        definition: TOY_POOL,
        name,
        optionsToken,
        module: 'ToyPoolModule',
        onExplained: (e) => explained.push(e),
      }),
      {
        provide: `ToyPool(${name})`,
        useFactory: (config: ToyConfig, registry: ToyRegistry, coordinator?: ShutdownCoordinator) =>
          new ToyPool(config, registry, coordinator),
        inject: [`ToyConfig(${name})`, ToyRegistry, { token: ShutdownCoordinator, optional: true }],
      },
    ],
    exports: [`ToyPool(${name})`],
  };
}

@Injectable()
class Closer implements OnModuleInit {
  constructor(@Inject(ShutdownCoordinator) private readonly coordinator: ShutdownCoordinator) {}
  onModuleInit(): void {
    for (const [phase, order] of [
      ['redis', 200],
      ['http', 100],
    ] as const) {
      this.coordinator.register({
        name: phase,
        phase,
        order,
        close: async () => {
          events.push(`close ${phase}`);
          await Promise.resolve();
        },
      });
    }
  }
}

describe('a pool kind core has never heard of', () => {
  beforeEach(() => {
    events.length = 0;
    explained.length = 0;
  });

  it('parses with option > env (aliases) > APP_ENV preset > default, and derives its type', () => {
    const config = TOY_POOL.parse(
      { APP_ENV: 'production', TOYS: '9', TOY_WAIT: '2.5' },
      { label: 'x' },
    );
    const size: number = config.size;
    const label: string | undefined = config.label;
    expect({ size, label, waitMs: config.waitMs, url: config.url }).toEqual({
      size: 9,
      label: 'x',
      waitMs: 2500,
      url: 'toy://localhost',
    });
    expect(TOY_POOL.parse({ APP_ENV: 'production' }).size).toBe(16);
    expect(TOY_POOL.envNames).toEqual([
      'APP_ENV',
      'NODE_ENV',
      'TOY_URL',
      'TOY_SIZE',
      'TOYS',
      'TOY_WAIT',
      'TOY_LABEL',
    ]);
  });

  it('explains where every value came from', () => {
    const e = TOY_POOL.explain({ APP_ENV: 'staging', TOYS: '3' }, { url: 'toy://other' });
    expect(e.values.map((v) => [v.key, v.value, v.source])).toEqual([
      ['url', 'toy://other', 'option url'],
      ['size', 3, 'env TOYS'],
      ['waitMs', 1000, 'default'],
      ['label', undefined, 'default'],
    ]);
    expect(TOY_POOL.explain({ APP_ENV: 'staging' }).values[1]?.source).toBe(
      'APP_ENV=staging preset',
    );
    const text = formatPoolConfigExplanation([e]);
    expect(text).toContain('Toy pool "default" (kind toy, APP_ENV=staging)');
    expect(text).toMatch(/size\s+TOY_SIZE\s+3\s+env TOYS\s+an integer ≥ 1/);
  });

  it('refuses bad input with one error naming every variable', () => {
    expect(() => TOY_POOL.parse({ TOY_SIZE: '0', TOY_URL: 'http://x' })).toThrow(
      ConfigValidationError,
    );
    try {
      TOY_POOL.parse({ TOY_SIZE: '0', TOY_URL: 'http://x' });
    } catch (err) {
      expect((err as ConfigValidationError).issues.map((i) => i.variable)).toEqual([
        'TOY_URL',
        'TOY_SIZE',
      ]);
      expect((err as Error).message).toContain('Invalid configuration of Toy pool "default"');
    }
  });

  it('wires into Nest with the shared config provider, registry and shutdown order', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ TOY_SIZE: '5', APP_ENV: 'production' })],
        }),
        ShutdownModule.forRoot(),
        toyModule('a', { [POOL_OPTIONS_FROM_ENV]: true }),
        toyModule('b', { size: 2, ignoreEnv: true }),
      ],
      providers: [Closer],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(ToyRegistry);
    expect(registry.get('a').config.size).toBe(5); // from ConfigModule's load, non-global
    expect(registry.get('b').config.size).toBe(2);
    expect(registry.get('b').config.waitMs).toBe(1000);
    expect(() => registry.get('c')).toThrow(PoolNotFoundError);
    expect(
      explained.map((e) => `${e.name}: ${e.values.find((v) => v.key === 'size')?.source}`).sort(),
    ).toEqual(['a: env TOY_SIZE', 'b: option size']);
    await moduleRef.close();
    expect(events).toEqual(['close http', 'close toy a', 'close toy b', 'close redis']);
  });

  it('zero-argument form without ConfigModule fails naming what to add', async () => {
    const failed = await Test.createTestingModule({
      imports: [toyModule('a', { [POOL_OPTIONS_FROM_ENV]: true })],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(failed).toBeInstanceOf(ConfigSourceMissingError);
    expect((failed as Error).message).toContain('ConfigModule.forRoot()');
  });
});
