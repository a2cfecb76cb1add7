import type { Histogram } from 'prom-client';

/** What prom-client 15 keeps per label set of a histogram. */
interface HistogramEntry {
  labels: Record<string, string | number>;
  sum: number;
  count: number;
  bucketValues: Record<string, number>;
}

/** The parts of prom-client's `Histogram` a {@link HistogramSeries} writes to directly. */
interface HistogramInternals {
  hashMap?: Record<string, HistogramEntry | undefined>;
  upperBounds?: number[];
}

/**
 * One label set of a prom-client histogram, for observations on a hot path (one per database
 * command). prom-client's own `labels(...).observe()` validates and hashes the whole label set on
 * every call, which costs more than the command's own client work; this writes the series' sum,
 * count and bucket directly once the series exists — the same fields prom-client's `observe`
 * updates, so scrapes, `reset()` and `remove()` see exactly what they would have. If the series
 * is gone (a reset, a removed pool) or the library's layout is not the expected one, it falls
 * back to the public `observe()`, which re-creates it.
 */
export class HistogramSeries {
  private readonly child: { observe(value: number): void };
  private readonly bounds: readonly number[];
  /** The bounds as the property names prom-client's bucket object uses (no number → string per call). */
  private readonly boundKeys: readonly string[];
  private entry: HistogramEntry | undefined;
  private direct = true;
  private key = '';

  /**
   * @param family The histogram.
   * @param labels Every label of the series, with its value.
   */
  constructor(
    private readonly family: Histogram<string>,
    private readonly labels: Readonly<Record<string, string>>,
  ) {
    this.child = family.labels(labels);
    this.bounds = (family as unknown as HistogramInternals).upperBounds ?? [];
    this.boundKeys = this.bounds.map(String);
  }

  /** Observes `value` (seconds) in this series. */
  observe(value: number): void {
    const entry = this.entry;
    if (
      entry !== undefined &&
      (this.family as unknown as HistogramInternals).hashMap?.[this.key] === entry
    ) {
      entry.count += 1;
      entry.sum += value;
      const bounds = this.bounds;
      for (let i = 0; i < bounds.length; i++) {
        if (value <= bounds[i]!) {
          const key = this.boundKeys[i]!;
          entry.bucketValues[key] = (entry.bucketValues[key] ?? 0) + 1;
          break;
        }
      }
      return;
    }
    this.child.observe(value);
    if (this.direct) this.locate();
  }

  /** Finds the entry prom-client keeps for this label set (once, after it created it). */
  private locate(): void {
    this.entry = undefined;
    const map = (this.family as unknown as HistogramInternals).hashMap;
    // Not the layout this class knows: stay on the public observe() for good, without a scan
    // per observation.
    if (map === undefined || this.bounds.length === 0) {
      this.direct = false;
      return;
    }
    const names = Object.keys(this.labels);
    for (const [key, entry] of Object.entries(map)) {
      if (entry === undefined || typeof entry.count !== 'number') continue;
      const labels = entry.labels;
      if (
        Object.keys(labels).length === names.length &&
        names.every((n) => String(labels[n]) === this.labels[n])
      ) {
        this.entry = entry;
        this.key = key;
        return;
      }
    }
  }
}
