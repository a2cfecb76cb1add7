import { Histogram, Registry } from 'prom-client';

import { HistogramSeries } from './histogram-series.js';

function pair() {
  const registry = new Registry();
  const make = (name: string) =>
    new Histogram({
      name,
      help: 'h',
      labelNames: ['op', 'kind'],
      buckets: [0.001, 0.01, 0.1, 1],
      registers: [registry],
    });
  return { registry, fast: make('fast_seconds'), stock: make('stock_seconds') };
}

/** The exposition of `name` with the metric name taken out, to compare two families. */
async function body(registry: Registry, name: string): Promise<string> {
  const text = await registry.getSingleMetricAsString(name);
  return text.replaceAll(name, 'x');
}

const VALUES = [0.0004, 0.001, 0.005, 0.05, 0.5, 3, 0.0099];

describe('HistogramSeries', () => {
  it('exports exactly what prom-client’s own observe() does', async () => {
    const { registry, fast, stock } = pair();
    const series = new HistogramSeries(fast, { op: 'GET', kind: '' });
    const child = stock.labels({ op: 'GET', kind: '' });
    for (const v of VALUES) {
      series.observe(v);
      child.observe(v);
    }
    expect(await body(registry, 'fast_seconds')).toBe(await body(registry, 'stock_seconds'));
    expect(await body(registry, 'fast_seconds')).toContain('x_count{op="GET",kind=""} 7');
  });

  it('starts again from zero after a reset or a removal, as the family does', async () => {
    const { registry, fast, stock } = pair();
    const series = new HistogramSeries(fast, { op: 'GET', kind: 'a' });
    const child = stock.labels({ op: 'GET', kind: 'a' });
    for (const v of VALUES) series.observe(v);
    registry.resetMetrics();
    series.observe(0.02);
    child.observe(0.02);
    expect(await body(registry, 'fast_seconds')).toBe(await body(registry, 'stock_seconds'));
    fast.remove({ op: 'GET', kind: 'a' });
    stock.remove({ op: 'GET', kind: 'a' });
    series.observe(0.2);
    child.observe(0.2);
    expect(await body(registry, 'fast_seconds')).toBe(await body(registry, 'stock_seconds'));
    expect(await body(registry, 'fast_seconds')).toContain('x_count{op="GET",kind="a"} 1');
  });
});
