import type { Registry } from 'prom-client';

/** The median of `values` (the upper one of an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** One series of `db_client_operation_duration_seconds`: its labels, count and sum. */
export interface OperationSeries {
  labels: Record<string, string>;
  count: number;
  sum: number;
}

/**
 * The `db_client_operation_duration_seconds` series of pool `pool` on `registry`, keyed by
 * `key(labels)` (for example `GET ok` or `find items ok`).
 */
export async function operationSeries(
  registry: Registry,
  pool: string,
  key: (labels: Record<string, string>) => string,
): Promise<Map<string, OperationSeries>> {
  const metric = await registry.getSingleMetric('db_client_operation_duration_seconds')?.get();
  const out = new Map<string, OperationSeries>();
  for (const v of metric?.values ?? []) {
    const { le: _le, ...labels } = v.labels as Record<string, string>;
    if (labels['pool_name'] !== pool) continue;
    const name = (v as { metricName?: string }).metricName ?? '';
    if (!name.endsWith('_count') && !name.endsWith('_sum')) continue;
    const k = key(labels);
    const series = out.get(k) ?? { labels, count: 0, sum: 0 };
    if (name.endsWith('_count')) series.count = v.value;
    else series.sum = v.value;
    out.set(k, series);
  }
  return out;
}
