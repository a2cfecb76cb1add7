// What every application benchmark shares around its measurements: a deadline for the whole run,
// cleanup of everything it started (also on Ctrl-C, SIGTERM, an error or the deadline), the
// machine's figures, and where results go (docs/benchmarks/<name>.json and .svg).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../../docs/benchmarks/', import.meta.url));

/** An env knob: a positive number, or `fallback` when unset. */
export function knob(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name}=${JSON.stringify(raw)}: expected a positive number`);
  }
  return value;
}

/** CPU count, model and the 1/5/15-minute load averages, read now. */
export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/**
 * Starts a benchmark session named `name` that may run `maxMinutes`. `session.track(stop)`
 * registers something to stop; `session.close()` stops everything in reverse order. Ctrl-C,
 * SIGTERM and the deadline stop everything too and end the process (exit 130 / 124).
 */
export function startSession(name, { maxMinutes }) {
  const stops = [];
  const started = Date.now();
  let closing;
  const close = () => {
    closing ??= (async () => {
      clearTimeout(deadline);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      for (const stop of stops.reverse()) {
        await Promise.resolve()
          .then(stop)
          .catch((error) => console.error(`  cleanup: ${error?.message ?? error}`));
      }
    })();
    return closing;
  };
  const abort = (reason, code) => {
    console.error(`\n${name}: ${reason}; stopping everything it started`);
    void close().then(() => process.exit(code));
  };
  const onSignal = (signal) => abort(`got ${signal}`, 130);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deadline = setTimeout(
    () => abort(`passed its ${maxMinutes}-minute limit`, 124),
    maxMinutes * 60_000,
  );
  deadline.unref();
  const loadAtStart = machine();
  return {
    name,
    /** Registers `stop` (sync or async) to run at {@link close}. */
    track(stop) {
      stops.push(stop);
    },
    close,
    /** Seconds since the session started. */
    elapsedS: () => Math.round((Date.now() - started) / 100) / 10,
    /** Writes `docs/benchmarks/<name>.json` with the machine figures at start and at end. */
    writeJson(results) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const path = `${RESULTS_DIR}${name}.json`;
      const record = {
        bench: name,
        recordedAt: new Date().toISOString(),
        durationS: Math.round((Date.now() - started) / 1000),
        machine: { ...loadAtStart, loadAverageAtEnd: machine().loadAverage },
        ...results,
      };
      writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
      return path;
    },
    /** The path of `docs/benchmarks/<file>`. */
    file: (file) => `${RESULTS_DIR}${file}`,
  };
}

/** Markdown table from a header row and rows of cells. */
export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Prints a bench's goals (`{ goal, value, met }`) as a Markdown table under `title`. */
export function printGoals(goals, title = 'Goals') {
  console.log(`\n### ${title}\n`);
  console.log(
    markdownTable(
      ['goal', 'measured', 'met'],
      goals.map((g) => [g.goal, g.value, g.met ? 'yes' : 'no']),
    ),
  );
}
