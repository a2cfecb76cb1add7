import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Counter, Gauge, Histogram, register as globalRegistry, Registry } from 'prom-client';

import { PoolError } from '../errors/pool.error.js';
import { POOL_METRIC_NAMES, POOL_METRICS_REGISTRY } from './pool-metrics.constants.js';
import { PoolMetrics, poolMetricsFor } from './pool-metrics.js';
import { PoolMetricsModule } from './pool-metrics.module.js';

const EXPECTED: Record<keyof typeof POOL_METRIC_NAMES, { type: string; labels: string[] }> = {
  connectionCount: {
    type: 'gauge',
    labels: ['db_client_connection_pool_name', 'db_system_name', 'db_client_connection_state'],
  },
  connectionMax: { type: 'gauge', labels: ['db_client_connection_pool_name', 'db_system_name'] },
  connectionIdleMin: {
    type: 'gauge',
    labels: ['db_client_connection_pool_name', 'db_system_name'],
  },
  pendingRequests: { type: 'gauge', labels: ['db_client_connection_pool_name', 'db_system_name'] },
  timeouts: { type: 'counter', labels: ['db_client_connection_pool_name', 'db_system_name'] },
  waitTime: { type: 'histogram', labels: ['db_client_connection_pool_name', 'db_system_name'] },
  useTime: { type: 'histogram', labels: ['db_client_connection_pool_name', 'db_system_name'] },
  createTime: { type: 'histogram', labels: ['db_client_connection_pool_name', 'db_system_name'] },
  operationDuration: {
    type: 'histogram',
    labels: [
      'pool_name',
      'db_system_name',
      'db_operation_name',
      'db_collection_name',
      'db_namespace',
      'error_type',
    ],
  },
  httpOpenConnections: {
    type: 'gauge',
    labels: ['pool_name', 'server_address', 'server_port', 'http_connection_state'],
  },
  httpPendingRequests: { type: 'gauge', labels: ['pool_name', 'server_address', 'server_port'] },
  httpRequestDuration: {
    type: 'histogram',
    labels: [
      'pool_name',
      'http_request_method',
      'http_response_status_code',
      'error_type',
      'server_address',
      'server_port',
    ],
  },
  httpConnectionDuration: {
    type: 'histogram',
    labels: ['pool_name', 'server_address', 'server_port'],
  },
  httpRetries: { type: 'counter', labels: ['pool_name', 'server_address', 'reason'] },
  errors: { type: 'counter', labels: ['pool_name', 'pool_system', 'error_type'] },
  circuitState: { type: 'gauge', labels: ['pool_name', 'pool_system'] },
  leaks: { type: 'counter', labels: ['pool_name', 'pool_system'] },
  reconnects: { type: 'counter', labels: ['pool_name', 'pool_system'] },
  poolCleared: { type: 'counter', labels: ['pool_name', 'pool_system'] },
};

function labelNamesOf(metric: unknown): string[] {
  return [...((metric as { labelNames: string[] }).labelNames ?? [])].sort();
}

describe('PoolMetrics', () => {
  it('registers every family with the contract name, type and label names', () => {
    const registry = new Registry();
    const metrics = new PoolMetrics(registry);
    const registered = registry.getMetricsAsArray();
    expect(registered.map((m) => m.name).sort()).toEqual(Object.values(POOL_METRIC_NAMES).sort());

    for (const [key, want] of Object.entries(EXPECTED)) {
      const name = POOL_METRIC_NAMES[key as keyof typeof POOL_METRIC_NAMES];
      const family = registry.getSingleMetric(name);
      expect(family).toBe(metrics[key as keyof typeof EXPECTED]);
      const kind = { gauge: Gauge, counter: Counter, histogram: Histogram }[want.type];
      expect(family).toBeInstanceOf(kind);
      expect({ name, labels: labelNamesOf(family) }).toEqual({
        name,
        labels: [...want.labels].sort(),
      });
    }
  });

  it('never writes to the global prom-client registry', () => {
    const before = globalRegistry.getMetricsAsArray().length;
    new PoolMetrics(new Registry());
    expect(globalRegistry.getMetricsAsArray()).toHaveLength(before);
    expect(globalRegistry.getSingleMetric(POOL_METRIC_NAMES.connectionCount)).toBeUndefined();
  });

  it('creates families once per registry and shares them between instances', () => {
    const registry = new Registry();
    const a = new PoolMetrics(registry);
    const b = new PoolMetrics(registry);
    expect(b.connectionCount).toBe(a.connectionCount);
    expect(b.httpRequestDuration).toBe(a.httpRequestDuration);
    expect(registry.getMetricsAsArray()).toHaveLength(Object.keys(POOL_METRIC_NAMES).length);
  });

  it('refuses a same-named metric of another shape with an explanation', () => {
    const registry = new Registry();
    new Counter({ name: POOL_METRIC_NAMES.connectionMax, help: 'x', registers: [registry] });
    expect(() => new PoolMetrics(registry)).toThrow(PoolError);
    expect(() => new PoolMetrics(registry)).toThrow(/db_client_connection_max.*own registry/s);
  });

  it('exports observations with seconds-based histogram buckets', async () => {
    const registry = new Registry();
    const metrics = new PoolMetrics(registry);
    metrics.waitTime.observe(
      { db_client_connection_pool_name: 'p', db_system_name: 'redis' },
      0.003,
    );
    metrics.httpRequestDuration.observe(
      {
        pool_name: 'github',
        server_address: 'api.github.com',
        server_port: '443',
        http_request_method: 'GET',
        http_response_status_code: '200',
        error_type: '',
      },
      0.2,
    );
    const text = await registry.metrics();
    expect(text).toContain(
      'db_client_connection_wait_time_seconds_bucket{le="0.005",db_client_connection_pool_name="p",db_system_name="redis"} 1',
    );
    expect(text).toContain(
      'db_client_connection_wait_time_seconds_bucket{le="0.0025",db_client_connection_pool_name="p",db_system_name="redis"} 0',
    );
    expect(text).toMatch(/http_client_request_duration_seconds_bucket\{le="0\.25",.*\} 1/);
    expect(text).toMatch(/http_client_request_duration_seconds_bucket\{le="0\.1",.*\} 0/);
  });

  it('forgetPool removes only that pool\u2019s label sets, in every family', async () => {
    const registry = new Registry();
    const metrics = new PoolMetrics(registry);
    for (const pool of ['gone', 'kept']) {
      const db = { db_client_connection_pool_name: pool, db_system_name: 'mongodb' };
      metrics.connectionCount.set({ ...db, db_client_connection_state: 'idle' }, 2);
      metrics.connectionCount.set({ ...db, db_client_connection_state: 'used' }, 1);
      metrics.waitTime.observe(db, 0.01);
      metrics.errors.inc({ pool_name: pool, pool_system: 'mongodb', error_type: 'MongoError' });
      metrics.httpRetries.inc({ pool_name: pool, server_address: 'h', reason: '503' });
    }
    metrics.forgetPool('gone');
    const text = await registry.metrics();
    expect(text).not.toContain('pool_name="gone"');
    expect(text).toContain(
      'db_client_connection_count{db_client_connection_pool_name="kept",db_system_name="mongodb",db_client_connection_state="used"} 1',
    );
    expect(text).toContain(
      'db_client_connection_wait_time_seconds_count{db_client_connection_pool_name="kept"',
    );
    expect(text).toContain('pool_errors_total{pool_name="kept"');
    expect(text).toContain('http_client_retries_total{pool_name="kept"');
  });
});

describe('PoolMetrics.onCollect', () => {
  const labels = { pool_name: 'p', server_address: 'h', server_port: '1' };

  it('writes the gauge when it is scraped, for every instance on the registry, until removed', async () => {
    const registry = new Registry();
    const first = new PoolMetrics(registry);
    const second = new PoolMetrics(registry);
    let open = 0;
    let queued = 0;
    const stopOpen = first.onCollect(first.httpPendingRequests, () =>
      first.httpPendingRequests.set({ ...labels, pool_name: 'a' }, open),
    );
    second.onCollect(second.httpPendingRequests, () =>
      second.httpPendingRequests.set({ ...labels, pool_name: 'b' }, queued),
    );
    open = 3;
    queued = 5;
    let text = await registry.metrics();
    expect(text).toContain(
      'http_client_pending_requests{pool_name="a",server_address="h",server_port="1"} 3',
    );
    expect(text).toContain(
      'http_client_pending_requests{pool_name="b",server_address="h",server_port="1"} 5',
    );
    stopOpen();
    open = 7;
    queued = 6;
    text = await registry.metrics();
    expect(text).toContain('pool_name="a",server_address="h",server_port="1"} 3');
    expect(text).toContain('pool_name="b",server_address="h",server_port="1"} 6');
  });

  it('keeps the scrape going when one hook throws', async () => {
    const registry = new Registry();
    const metrics = new PoolMetrics(registry);
    metrics.onCollect(metrics.httpPendingRequests, () => {
      throw new Error('pool gone');
    });
    metrics.onCollect(metrics.httpPendingRequests, () =>
      metrics.httpPendingRequests.set(labels, 2),
    );
    await expect(registry.metrics()).resolves.toContain(
      'http_client_pending_requests{pool_name="p",server_address="h",server_port="1"} 2',
    );
  });

  it('does nothing on a silent instance', async () => {
    const silent = PoolMetrics.silent();
    let calls = 0;
    const stop = silent.onCollect(silent.httpPendingRequests, () => calls++);
    await silent.registry.metrics();
    stop();
    expect(calls).toBe(0);
  });
});

describe('PoolMetricsModule', () => {
  @Module({ imports: [PoolMetricsModule] })
  class RedisLikeModule {}
  @Module({ imports: [PoolMetricsModule] })
  class MongoLikeModule {}
  @Module({ imports: [RedisLikeModule, MongoLikeModule, PoolMetricsModule] })
  class AppModule {}

  const modules: TestingModule[] = [];
  afterAll(async () => {
    await Promise.all(modules.map((m) => m.close()));
  });

  async function compile(): Promise<TestingModule> {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    modules.push(moduleRef);
    return moduleRef;
  }

  it('gives one registry to every importer of one app and a fresh one to another app', async () => {
    const first = await compile();
    const second = await compile();

    const registry = first.get<Registry>(POOL_METRICS_REGISTRY);
    expect(registry).toBeInstanceOf(Registry);
    expect(registry).not.toBe(globalRegistry);
    expect(first.select(RedisLikeModule).get(POOL_METRICS_REGISTRY)).toBe(registry);
    expect(first.select(MongoLikeModule).get(PoolMetrics)).toBe(first.get(PoolMetrics));
    expect(first.get(PoolMetrics).registry).toBe(registry);

    const other = second.get<Registry>(POOL_METRICS_REGISTRY);
    expect(other).not.toBe(registry);
    first.get(PoolMetrics).leaks.inc({ pool_name: 'a', pool_system: 'redis' });
    expect(await other.metrics()).not.toContain('pool_name="a"');
    expect(await registry.metrics()).toContain('pool_leak_detections_total{pool_name="a"');
  });
});

describe('PoolMetrics.silent / poolMetricsFor', () => {
  it('takes every family write and records nothing on any registry', async () => {
    const registry = new Registry();
    const shared = new PoolMetrics(registry);
    expect(poolMetricsFor(shared, true)).toBe(shared);
    const silent = poolMetricsFor(shared, false);
    expect(silent).not.toBe(shared);
    const db = { db_client_connection_pool_name: 'p', db_system_name: 'redis' };
    silent.connectionCount.set({ ...db, db_client_connection_state: 'idle' }, 3);
    silent.waitTime.observe(db, 0.1);
    silent.timeouts.inc(db);
    silent.initPoolCounters('p', 'redis', { connectionPool: true, clearable: true });
    silent.forgetPool('p');
    const written = (await registry.getMetricsAsJSON()).flatMap((m) => m.values);
    expect(written).toEqual([]);
    expect(await silent.registry.getMetricsAsJSON()).toEqual([]);
  });
});

describe('PoolMetrics.silent under the hot-path writers', () => {
  it('lets OperationDurations observe without recording', async () => {
    const { OperationDurations } = await import('./operation-durations.js');
    const silent = PoolMetrics.silent();
    const ops = new OperationDurations(silent, 'p', 'redis');
    ops.series('get').observe(0.001);
    ops.series('get').observe(0.002);
    expect(await silent.registry.getMetricsAsJSON()).toEqual([]);
  });
});
