import { Registry } from 'prom-client';

import {
  BoundedLabelValues,
  OperationDurations,
  OTHER_LABEL_VALUE,
} from './operation-durations.js';
import { PoolMetrics } from './pool-metrics.js';

async function series(registry: Registry): Promise<Array<Record<string, unknown>>> {
  const metric = await registry.getSingleMetric('db_client_operation_duration_seconds')?.get();
  return (metric?.values ?? [])
    .filter(
      (v) =>
        (v as { metricName?: string }).metricName === 'db_client_operation_duration_seconds_count',
    )
    .map((v) => ({ ...v.labels, count: v.value }));
}

describe('BoundedLabelValues', () => {
  it('passes the first max distinct values and turns later ones into other', () => {
    const bounded = new BoundedLabelValues(2);
    expect([bounded.of('a'), bounded.of('b'), bounded.of('c'), bounded.of('a')]).toEqual([
      'a',
      'b',
      OTHER_LABEL_VALUE,
      'a',
    ]);
  });

  it('refuses a bound below 1, naming it', () => {
    expect(() => new BoundedLabelValues(0)).toThrow(/max must be an integer >= 1, got 0/);
  });
});

describe('OperationDurations', () => {
  it('writes one series per operation, collection, namespace and error type', async () => {
    const registry = new Registry();
    const ops = new OperationDurations(new PoolMetrics(registry), 'main', 'mongodb');
    ops.observe('find', 0.002, { collection: 'snippets', namespace: 'app' });
    ops.observe('find', 0.004, { collection: 'snippets', namespace: 'app' });
    ops.observe('insert', 0.003, { collection: 'snippets', namespace: 'app' }, '11000');
    ops.observe('ping', 0.001);
    expect(await series(registry)).toEqual(
      expect.arrayContaining([
        {
          pool_name: 'main',
          db_system_name: 'mongodb',
          db_operation_name: 'find',
          db_collection_name: 'snippets',
          db_namespace: 'app',
          error_type: '',
          count: 2,
        },
        expect.objectContaining({ db_operation_name: 'insert', error_type: '11000', count: 1 }),
        expect.objectContaining({ db_operation_name: 'ping', db_collection_name: '', count: 1 }),
      ]),
    );
    expect(await series(registry)).toHaveLength(3);
  });

  it('bounds collection names: past the limit they share the other series', async () => {
    const registry = new Registry();
    const ops = new OperationDurations(new PoolMetrics(registry), 'main', 'mongodb', {
      maxCollections: 2,
    });
    for (let i = 0; i < 50; i++)
      ops.observe('find', 0.001, { collection: `c${i}`, namespace: 'd' });
    const names = (await series(registry)).map((s) => s['db_collection_name']).sort();
    expect(names).toEqual(['c0', 'c1', OTHER_LABEL_VALUE]);
  });
});
