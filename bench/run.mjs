#!/usr/bin/env node
// `npm run bench -- <name…>` runs bench/<name>.bench.mjs against the built libs (npm run build
// runs first). Without a name it runs every benchmark. Each benchmark prints its own table of
// side-by-side numbers measured in the same run.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .map((f) => f.replace(/\.bench\.mjs$/, ''))
  .sort();
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length > 0) {
  console.error(
    `Unknown benchmark(s): ${unknown.join(', ')}. Available: ${available.join(', ') || '(none)'}.`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : available) {
  console.log(`\n=== bench: ${name} ===`);
  const mod = await import(pathToFileURL(`${dir}${name}.bench.mjs`).href);
  await mod.default();
}
