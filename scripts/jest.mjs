#!/usr/bin/env node
// Runs Jest in native ESM mode and ends with one summary line taken from the real run:
// `tests: N passed, N failed, N skipped`. Extra arguments are passed to Jest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const jestBin = require.resolve('jest/bin/jest');
// A private results file per run, so concurrent runs never read each other's numbers.
const outDir = mkdtempSync(join(tmpdir(), 'nest-pools-jest-'));
const out = join(outDir, 'results.json');

const nodeOptions = [
  process.env.NODE_OPTIONS ?? '',
  '--experimental-vm-modules',
  '--no-warnings=ExperimentalWarning',
]
  .join(' ')
  .trim();
const args = [jestBin, '--json', `--outputFile=${out}`, ...process.argv.slice(2)];
const run = spawnSync(process.execPath, args, {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions },
});

let summary = 'tests: 0 passed, 1 failed';
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  // A suite that fails to load counts as one failed test, so a broken file never reads as green.
  const brokenSuites = r.numRuntimeErrorTestSuites ?? 0;
  const skipped = r.numPendingTests + r.numTodoTests;
  summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed, ${skipped} skipped`;
} catch {
  // Jest died before writing results: the default summary above reports the failure.
}
rmSync(outDir, { recursive: true, force: true });
console.log(summary);
process.exit(run.status ?? 1);
