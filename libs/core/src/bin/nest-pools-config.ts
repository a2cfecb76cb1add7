#!/usr/bin/env node
// `nest-pools-config explain`: the effective configuration of every installed pool kind. The
// logic lives in config-explain-cli.ts (tested in-process); this file only binds it to the process.
import { runConfigExplain } from './config-explain-cli.js';

const result = await runConfigExplain({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env: process.env,
  load: (specifier) => import(specifier) as Promise<Record<string, unknown>>,
});
process.stdout.write(result.stdout);
process.stderr.write(result.stderr);
process.exitCode = result.code;
