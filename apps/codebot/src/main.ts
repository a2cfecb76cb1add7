// CodeBot's entry point. Tracing has to hook module loading before the application's modules
// load, and ES modules link their whole static import graph before any of it runs: so this file
// imports nothing of the application statically, starts tracing when the environment asks for
// it, and only then loads the application.
import { existsSync } from 'node:fs';

import { parseTracingConfig } from './tracing/tracing-config.js';

// A .env in the working directory fills what the real environment leaves unset; it is read here,
// once, so tracing, validation and the pool modules see the same values.
if (existsSync('.env')) process.loadEnvFile('.env');

// Invalid OTEL_* values start nothing here: the application's validation reports them with
// every other bad variable.
const { settings } = parseTracingConfig(process.env);
const tracing = settings
  ? await (await import('./tracing/tracing.js')).startTracing(settings)
  : undefined;
const { run } = await import('./bootstrap.js');
run(tracing);
