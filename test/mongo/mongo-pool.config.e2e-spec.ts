import { ConfigValidationError } from '@nest-pools/core';
import {
  getMongooseConnectionTokenFor,
  getMongoPoolToken,
  InjectMongoPool,
  MongoCompressorUnavailableError,
  MongoPoolHealthIndicator,
  MongoPoolModule,
  MongoPoolService,
  urlWantsTls,
} from '@nest-pools/mongo';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { InjectConnection, InjectModel, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { type Connection, type Model, Schema } from 'mongoose';

import { type MongoBackend, startBackend } from '../support/mongo.js';

interface Cat {
  name: string;
}
interface Visit {
  page: string;
}
const CatSchema = new Schema<Cat>({ name: { type: String, required: true } });
const VisitSchema = new Schema<Visit>({ page: { type: String, required: true } });

@Injectable()
class CatsService {
  constructor(
    @InjectModel('Cat') readonly cats: Model<Cat>,
    @InjectConnection() readonly mongooseConnection: Connection,
    @InjectMongoPool() readonly poolConnection: Connection,
  ) {}
}

@Injectable()
class VisitsService {
  constructor(
    @InjectModel('Visit', 'analytics') readonly visits: Model<Visit>,
    @InjectConnection('analytics') readonly mongooseConnection: Connection,
    @InjectMongoPool('analytics') readonly poolConnection: Connection,
  ) {}
}

@Module({
  imports: [MongooseModule.forFeature([{ name: 'Cat', schema: CatSchema }])],
  providers: [CatsService],
  exports: [CatsService],
})
class CatsModule {}

@Module({
  imports: [MongooseModule.forFeature([{ name: 'Visit', schema: VisitSchema }], 'analytics')],
  providers: [VisitsService],
  exports: [VisitsService],
})
class VisitsModule {}

describe('MongoPoolModule configuration and @nestjs/mongoose interop', () => {
  let backend: MongoBackend;
  let app: TestingModule;
  let env: Record<string, string>;

  beforeAll(async () => {
    backend = await startBackend();
    env = {
      MONGODB_URL: backend.url('default'),
      MONGODB_MAX_POOL_SIZE: '7',
      MONGODB_MIN_POOL_SIZE: '1',
      MONGODB_MAX_CONNECTING: '3',
      MONGODB_WAIT_QUEUE_TIMEOUT_MS: '1234',
      MONGODB_MAX_IDLE_TIME_MS: '45678',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '2345',
      MONGODB_SOCKET_TIMEOUT_MS: '9876',
      MONGODB_CONNECT_TIMEOUT_MS: '3456',
      MONGODB_HEARTBEAT_FREQUENCY_MS: '4567',
      MONGODB_APPNAME: 'np-config-suite',
      MONGODB_COMPRESSORS: 'zlib',
      MONGODB_RETRY_WRITES: 'false',
      MONGODB_RETRY_READS: 'false',
      MONGODB_LEAK_DETECTION_THRESHOLD_MS: '60000',
      MONGODB_LEAK_DETECTION_STACKS: 'true',
      MONGODB_FAIL_FAST: 'true',
      MONGODB_HEALTH_TIMEOUT_MS: '777',
      MONGODB_SHUTDOWN_TIMEOUT_MS: '888',
      MONGODB_WARM_UP: 'false',
    };
    app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => env] }),
        MongoPoolModule.forRootAsync(),
        MongoPoolModule.forRootAsync({
          name: 'analytics',
          useFactory: () => ({ url: backend.url('analytics'), maxPoolSize: 3 }),
        }),
        CatsModule,
        VisitsModule,
      ],
    }).compile();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await backend?.stop();
  });

  it('passes every MONGODB_* variable read through ConfigService to the driver', () => {
    const pool = app.get(MongoPoolService).getPool('default');
    expect(pool.client.options).toMatchObject({
      maxPoolSize: 7,
      minPoolSize: 1,
      maxConnecting: 3,
      waitQueueTimeoutMS: 1234,
      maxIdleTimeMS: 45678,
      serverSelectionTimeoutMS: 2345,
      socketTimeoutMS: 9876,
      connectTimeoutMS: 3456,
      heartbeatFrequencyMS: 4567,
      appName: 'np-config-suite',
      compressors: ['zlib'],
      retryWrites: false,
      retryReads: false,
    });
    expect(Boolean(pool.client.options.tls)).toBe(urlWantsTls(env['MONGODB_URL']!));
    expect(pool.client.options.dbName).toMatch(/_default$/);
  });

  it('applies the variables the library itself acts on', () => {
    expect(app.get(MongoPoolService).getPool('default').config).toMatchObject({
      name: 'default',
      leakDetectionThresholdMS: 60000,
      leakDetectionStacks: true,
      failFast: true,
      healthTimeoutMS: 777,
      shutdownTimeoutMS: 888,
      warmUp: false,
    });
  });

  it('keeps named pools separate: own client, options, connection and database', () => {
    const pools = app.get(MongoPoolService);
    const main = pools.getPool('default');
    const analytics = pools.getPool('analytics');
    expect(analytics.client).not.toBe(main.client);
    expect(analytics.client.options.maxPoolSize).toBe(3);
    expect(main.client.options.maxPoolSize).toBe(7);
    expect(app.get(getMongoPoolToken('analytics'))).toBe(analytics.connection);
    expect(app.get(getMongoPoolToken())).toBe(main.connection);
    expect(analytics.connection).not.toBe(main.connection);
    expect(main.connection.name).toMatch(/_default$/);
    expect(analytics.connection.name).toMatch(/_analytics$/);
  });

  it('registers the default pool as mongoose’s default connection and a named one by name', () => {
    const cats = app.get(CatsService);
    const visits = app.get(VisitsService);
    expect(getMongooseConnectionTokenFor('default')).toBe('DatabaseConnection');
    expect(getMongooseConnectionTokenFor('analytics')).toBe('analyticsConnection');
    expect(cats.mongooseConnection).toBe(cats.poolConnection);
    expect(visits.mongooseConnection).toBe(visits.poolConnection);
    expect(cats.cats.db).toBe(cats.poolConnection);
    expect(visits.visits.db).toBe(visits.poolConnection);
  });

  it('runs @InjectModel models from MongooseModule.forFeature on the pools, each in its own database', async () => {
    const { cats } = app.get(CatsService);
    const { visits } = app.get(VisitsService);
    await cats.deleteMany({});
    await visits.deleteMany({});
    await cats.create({ name: 'Mitzi' });
    await visits.create([{ page: '/a' }, { page: '/b' }]);
    expect(await cats.find({}, { _id: 0, name: 1 }).lean()).toEqual([{ name: 'Mitzi' }]);
    expect(await visits.countDocuments()).toBe(2);
    const main = app.get(MongoPoolService).getPool('default').connection;
    expect(await main.db!.collection('visits').countDocuments()).toBe(0);
  });
});

describe('MongoPoolModule option sources', () => {
  let backend: MongoBackend;
  beforeAll(async () => {
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.stop();
  });

  async function boot(imports: Parameters<typeof Test.createTestingModule>[0]['imports']) {
    const app = await Test.createTestingModule({ imports }).compile();
    await app.init();
    return app;
  }

  it('lets explicit forRoot options win over the environment', async () => {
    const app = await boot([
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        load: [() => ({ MONGODB_URL: 'mongodb://127.0.0.1:1/never', MONGODB_MAX_POOL_SIZE: '9' })],
      }),
      MongoPoolModule.forRoot({ url: backend.url('options'), minPoolSize: 0 }),
    ]);
    try {
      const pool = app.get(MongoPoolService).getPool();
      expect(pool.config.url).toBe(backend.url('options'));
      expect(pool.client.options.maxPoolSize).toBe(9);
    } finally {
      await app.close();
    }
  });

  it('takes options from a useClass factory', async () => {
    @Injectable()
    class Options {
      createMongoPoolOptions() {
        return { url: backend.url('use_class'), maxPoolSize: 4, minPoolSize: 0 };
      }
    }
    const app = await boot([MongoPoolModule.forRootAsync({ name: 'reports', useClass: Options })]);
    try {
      expect(app.get(MongoPoolService).getPool('reports').client.options.maxPoolSize).toBe(4);
    } finally {
      await app.close();
    }
  });

  it('makes the service and indicator app-wide with isGlobal, and only then', async () => {
    @Injectable()
    class Probe {
      constructor(
        readonly pools: MongoPoolService,
        readonly health: MongoPoolHealthIndicator,
      ) {}
    }
    @Module({ providers: [Probe], exports: [Probe] })
    class FeatureModule {}

    const url = backend.url('global');
    const app = await boot([
      MongoPoolModule.forRoot({ name: 'shared', url, minPoolSize: 0, isGlobal: true }),
      FeatureModule,
    ]);
    try {
      const probe = app.get(Probe);
      expect(probe.pools.getPool('shared').config.url).toBe(url);
    } finally {
      await app.close();
    }
    const before = backend.wire?.totalAccepted;
    await expect(
      boot([MongoPoolModule.forRoot({ name: 'local', url, minPoolSize: 0 }), FeatureModule]),
    ).rejects.toThrow(/MongoPoolService/);
    // The failed bootstrap never reached onModuleInit, so its pool never started connecting.
    if (before !== undefined) {
      await new Promise((r) => setTimeout(r, 200));
      expect(backend.wire?.totalAccepted).toBe(before);
    }
  });

  it('fails bootstrap with one error listing every invalid variable', async () => {
    const compile = boot([
      ConfigModule.forRoot({
        ignoreEnvFile: true,
        load: [
          () => ({
            MONGODB_URL: backend.url('invalid'),
            MONGODB_MAX_POOL_SIZE: 'lots',
            MONGODB_MIN_POOL_SIZE: '-1',
          }),
        ],
      }),
      MongoPoolModule.forRootAsync(),
    ]);
    await expect(compile).rejects.toThrow(ConfigValidationError);
    await expect(compile).rejects.toThrow(/MONGODB_MAX_POOL_SIZE[\s\S]*MONGODB_MIN_POOL_SIZE/);
  });

  it('refuses an unavailable compressor at startup, naming its package', async () => {
    const compile = boot([
      MongoPoolModule.forRoot({ url: backend.url('snappy'), compressors: ['snappy'] }),
    ]);
    await expect(compile).rejects.toThrow(MongoCompressorUnavailableError);
    await expect(compile).rejects.toThrow(/npm install snappy/);
  });
});
