// SVG charts of the benchmarks' JSON results: a vega-lite spec per chart, compiled to vega and
// rendered headless (`renderer: 'none'`, no browser, no canvas). Each builder takes the plain
// result rows a bench writes to docs/benchmarks/<name>.json and returns the SVG text, so the
// charts can always be rebuilt from the recorded JSON.
import { writeFile } from 'node:fs/promises';

import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

const FONT = 'Helvetica, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
};

/** Renders a vega-lite spec to SVG text. */
export async function renderSvg(spec) {
  const compiled = vegaLite.compile({ config: CONFIG, ...spec }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes `svg` to `path`. */
export async function writeSvg(path, svg) {
  await writeFile(path, svg.endsWith('\n') ? svg : `${svg}\n`);
}

/** A log-scaled concurrency axis (16, 64, 256 sit evenly). */
const concurrencyAxis = (values) => ({
  field: 'concurrency',
  type: 'quantitative',
  title: 'concurrent callers',
  scale: { type: 'log', base: 2, domain: [Math.min(...values), Math.max(...values)] },
  axis: { values },
});

/** The y encoding of a throughput (`rps`, from zero) or a p99 chart (log scale). */
const metricAxis = (metric, unit) => ({
  field: metric === 'p99' ? 'p99Ms' : 'reqPerSec',
  type: 'quantitative',
  title: metric === 'p99' ? 'p99 latency (ms)' : `throughput (${unit}/s)`,
  scale: metric === 'p99' ? { type: 'log' } : { zero: true },
});

/** Facets by `column` and by the added latency (`+N ms`) in rows. */
const latencyFacet = (column) => ({
  column: { field: column, type: 'nominal', title: null },
  row: { field: 'added', type: 'ordinal', title: 'added latency per direction' },
});

/**
 * `load`: req/s and p99 against concurrency, one line per app, one column per endpoint, one row
 * per added latency. `rows`: `{ app, endpoint, latencyMs, concurrency, reqPerSec, p99Ms }`.
 */
export function loadChart(rows, { metric }) {
  const concurrencies = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  return renderSvg({
    title: `${metric === 'p99' ? 'p99 latency' : 'Throughput'} by concurrency, per app`,
    data: { values: rows.map((r) => ({ ...r, added: `+${r.latencyMs} ms` })) },
    facet: latencyFacet('endpoint'),
    spec: {
      width: 150,
      height: 120,
      mark: { type: 'line', point: true },
      encoding: {
        x: concurrencyAxis(concurrencies),
        y: metricAxis(metric, 'req'),
        color: { field: 'app', type: 'nominal', title: 'app' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/**
 * `sweep`: throughput and p99 against pool size, one line per concurrency, one column per pool,
 * one row per added latency, the knee of each curve marked with a rule and a label.
 * `rows`: `{ pool, poolSize, concurrency, latencyMs, reqPerSec, p99Ms }`;
 * `knees`: `{ pool, concurrency, latencyMs, poolSize }`.
 */
export function sweepChart(rows, knees, { metric }) {
  const sizes = [...new Set(rows.map((r) => r.poolSize))].sort((a, b) => a - b);
  const callers = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const label = (r) => ({ ...r, added: `+${r.latencyMs} ms`, callers: `${r.concurrency} callers` });
  return renderSvg({
    title: `Pool-size sweep: ${metric === 'p99' ? 'p99 latency' : 'throughput'} (knee marked)`,
    // Knees ride on their curve's own row, so each facet marks only its own.
    data: {
      values: rows.map((r) => ({
        ...label(r),
        labelRow: callers.indexOf(r.concurrency),
        isKnee: knees.some(
          (k) =>
            k.pool === r.pool &&
            k.latencyMs === r.latencyMs &&
            k.concurrency === r.concurrency &&
            k.poolSize === r.poolSize,
        ),
      })),
    },
    facet: latencyFacet('pool'),
    spec: {
      width: 220,
      height: 130,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'poolSize',
              type: 'quantitative',
              title: 'pool size',
              scale: { type: 'log', domain: [sizes[0], sizes.at(-1)], nice: false },
              axis: { values: sizes },
            },
            y: metricAxis(metric, 'ops'),
            color: { field: 'callers', type: 'nominal', title: 'concurrency' },
          },
        },
        {
          transform: [{ filter: 'datum.isKnee' }],
          mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
          encoding: {
            x: { field: 'poolSize', type: 'quantitative' },
            color: { field: 'callers', type: 'nominal' },
          },
        },
        {
          transform: [
            { filter: 'datum.isKnee' },
            { calculate: "'knee ' + datum.poolSize", as: 'kneeLabel' },
            // One label row per concurrency, so two knees at nearby sizes do not overprint.
            { calculate: '2 + 12 * datum.labelRow', as: 'labelY' },
          ],
          mark: { type: 'text', align: 'left', dx: 3, dy: -4, fontSize: 10, baseline: 'top' },
          encoding: {
            x: { field: 'poolSize', type: 'quantitative' },
            y: { field: 'labelY', type: 'quantitative', scale: null },
            text: { field: 'kneeLabel', type: 'nominal' },
            color: { field: 'callers', type: 'nominal' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  });
}

/**
 * `soak`: RSS, heap used and open sockets per pool over time, with the restarts marked.
 * `samples`: `{ t, rssMb, heapUsedMb, heapTotalMb?, sockets: { mongo, redis, github } }`; `events`: `{ t, label }`;
 * `fullGcs` (optional): `{ t, liveMb }`, the live heap after each full collection.
 */
export function soakChart(samples, events, fullGcs = []) {
  const memory = [
    ...samples.flatMap((s) => [
      { t: s.t, series: 'RSS', value: s.rssMb, panel: 'memory (MB)' },
      ...(s.heapTotalMb === undefined
        ? []
        : [{ t: s.t, series: 'heap reserved', value: s.heapTotalMb, panel: 'memory (MB)' }]),
      { t: s.t, series: 'heap used', value: s.heapUsedMb, panel: 'memory (MB)' },
    ]),
    ...fullGcs.map((g) => ({
      t: g.t,
      series: 'live heap (full GC)',
      value: g.liveMb,
      panel: 'memory (MB)',
    })),
  ];
  const sockets = samples.flatMap((s) =>
    Object.entries(s.sockets).map(([pool, value]) => ({
      t: s.t,
      series: `${pool} sockets`,
      value,
      panel: 'open sockets per pool',
    })),
  );
  const panel = (name, values) => ({
    width: 560,
    height: 150,
    title: name,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'seconds since start' },
          y: { field: 'value', type: 'quantitative', title: name },
          color: { field: 'series', type: 'nominal', title: null, legend: { labelLimit: 240 } },
        },
      },
      {
        data: { values: events },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#888' },
        encoding: { x: { field: 't', type: 'quantitative' } },
      },
      {
        data: { values: events },
        mark: { type: 'text', align: 'left', dx: 3, baseline: 'top', fontSize: 10, color: '#555' },
        encoding: {
          x: { field: 't', type: 'quantitative' },
          y: { value: 2 },
          text: { field: 'label', type: 'nominal' },
        },
      },
    ],
  });
  return renderSvg({
    title: 'Soak: memory and sockets over time (restarts marked)',
    vconcat: [panel('memory (MB)', memory), panel('open sockets per pool', sockets)],
    resolve: { scale: { color: 'independent' } },
  });
}

/**
 * A grouped bar chart of one value per group and series (health-storm, metrics-cost).
 * `rows`: `{ group, series, value }`.
 */
export function barChart(rows, { title, yTitle, groupTitle = null }) {
  return renderSvg({
    title,
    data: { values: rows },
    width: { step: 28 },
    height: 180,
    mark: 'bar',
    encoding: {
      x: { field: 'series', type: 'nominal', title: null, axis: { labels: false, ticks: false } },
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: null },
      column: { field: 'group', type: 'nominal', title: groupTitle },
    },
  });
}
