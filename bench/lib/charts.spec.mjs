// The chart builder on fixed results: the SVG carries the titles, one line per series and facet,
// and exactly the knees it was given.
import { describe, expect, it } from '@jest/globals';

import { barChart, loadChart, soakChart, sweepChart } from './charts.mjs';

const count = (svg, pattern) => (svg.match(pattern) ?? []).length;
const texts = (svg) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

const APPS = ['nest-pools', 'anchors', 'pooling defeated'];
const ENDPOINTS = ['cache hit', 'upstream'];
const LOAD_ROWS = APPS.flatMap((app, a) =>
  ENDPOINTS.flatMap((endpoint) =>
    [0, 1].flatMap((latencyMs) =>
      [16, 64, 256].map((concurrency) => ({
        app,
        endpoint,
        latencyMs,
        concurrency,
        reqPerSec: 3000 - 800 * a + concurrency,
        p99Ms: 2 + a + concurrency / 16,
      })),
    ),
  ),
);

describe('bench charts', () => {
  it('draws load throughput: a line per app in every endpoint × latency panel, titled axes', async () => {
    const svg = await loadChart(LOAD_ROWS, { metric: 'rps' });
    expect(svg.startsWith('<svg')).toBe(true);
    // 2 endpoints × 2 latencies = 4 panels, 3 apps each.
    expect(count(svg, /class="mark-line role-mark/g)).toBe(4 * 3);
    const labels = texts(svg);
    expect(labels).toEqual(expect.arrayContaining(['throughput (req/s)', 'concurrent callers']));
    expect(labels).toEqual(expect.arrayContaining([...APPS, ...ENDPOINTS, '+0 ms', '+1 ms']));
  });

  it('draws load p99 on its own axis title', async () => {
    const svg = await loadChart(LOAD_ROWS, { metric: 'p99' });
    expect(texts(svg)).toContain('p99 latency (ms)');
    expect(texts(svg)).not.toContain('throughput (req/s)');
  });

  it('marks each knee of the sweep once, in its own panel', async () => {
    const rows = ['mongo', 'http'].flatMap((pool) =>
      [64, 256].flatMap((concurrency) =>
        [1, 5, 10, 20, 50, 100, 200].map((poolSize) => ({
          pool,
          latencyMs: 1,
          concurrency,
          poolSize,
          reqPerSec: Math.min(poolSize, concurrency) * 100,
          p99Ms: 1000 / poolSize,
        })),
      ),
    );
    const knees = [
      { pool: 'mongo', latencyMs: 1, concurrency: 64, poolSize: 50 },
      { pool: 'http', latencyMs: 1, concurrency: 256, poolSize: 200 },
    ];
    const svg = await sweepChart(rows, knees, { metric: 'rps' });
    const labels = texts(svg);
    expect(labels.filter((t) => t.startsWith('knee ')).sort()).toEqual(['knee 200', 'knee 50']);
    // Two pools × one latency = 2 panels, two concurrencies each.
    expect(count(svg, /class="mark-line role-mark/g)).toBe(2 * 2);
    expect(labels).toEqual(expect.arrayContaining(['pool size', '64 callers', '256 callers']));
  });

  it('draws the soak series and a marker per restart', async () => {
    const samples = [0, 5, 10, 15].map((t) => ({
      t,
      rssMb: 120 + t,
      heapUsedMb: 60,
      sockets: { mongo: 10, redis: 1, github: 4 },
    }));
    const events = [
      { t: 5, label: 'Redis restart' },
      { t: 10, label: 'MongoDB restart' },
    ];
    const svg = await soakChart(samples, events);
    const labels = texts(svg);
    expect(labels).toEqual(
      expect.arrayContaining([
        'RSS',
        'heap used',
        'mongo sockets',
        'redis sockets',
        'github sockets',
      ]),
    );
    // Each restart is labelled in both panels.
    expect(labels.filter((t) => t === 'Redis restart')).toHaveLength(2);
    expect(labels.filter((t) => t === 'MongoDB restart')).toHaveLength(2);
  });

  it('adds the reserved heap and the live heap after each full collection when given', async () => {
    const samples = [0, 5].map((t) => ({
      t,
      rssMb: 200,
      heapUsedMb: 90,
      heapTotalMb: 150,
      sockets: { mongo: 10, redis: 1, github: 4 },
    }));
    const svg = await soakChart(samples, [], [{ t: 3, liveMb: 48.5 }]);
    const labels = texts(svg);
    expect(labels).toEqual(expect.arrayContaining(['heap reserved', 'live heap (full GC)']));
    expect(svg).toContain('memory (MB): 48.5; series: live heap (full GC)');
  });

  it('draws one bar per group and series', async () => {
    const rows = ['16', '64'].flatMap((group) =>
      ['metrics on', 'metrics off'].map((series, i) => ({ group, series, value: 100 - i })),
    );
    const svg = await barChart(rows, { title: 'Metrics cost', yTitle: 'req/s' });
    expect(count(svg, /<path[^>]*aria-roledescription="bar"/g)).toBe(4);
    expect(texts(svg)).toEqual(expect.arrayContaining(['Metrics cost', 'req/s']));
  });
});
