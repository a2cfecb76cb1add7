import 'reflect-metadata';

import { ConfigValidationError, ReadinessState, redact } from '@nest-pools/core';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule } from './app.module.js';
import { validateEnvironment } from './config/validate-environment.js';
import type { EmbeddedService } from './dev/embedded-services.js';
import { TraceContextLogger } from './tracing/trace-context-logger.js';
import type { Tracing } from './tracing/tracing.js';

async function stopAll(services: EmbeddedService[]): Promise<void> {
  for (const service of [...services].reverse()) await service.stop().catch(() => undefined);
}

/**
 * Validates the environment, starts development servers if needed, then serves. `main.ts` loaded
 * `.env` and started `tracing` (when configured) before this module was loaded.
 */
async function bootstrap(tracing: Tracing | undefined): Promise<void> {
  // With tracing on, lines written inside a request carry its trace and span ids.
  const traceLogger = tracing ? new TraceContextLogger() : undefined;
  if (traceLogger) Logger.overrideLogger(traceLogger);
  const logger = new Logger('CodeBot');
  let config;
  try {
    config = validateEnvironment(process.env).config;
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  let embedded: EmbeddedService[] = [];
  if (config.appEnv === 'development') {
    // Loaded only in development: production images never touch the test kit.
    const { startEmbeddedServices } = await import('./dev/start-embedded.js');
    const started = await startEmbeddedServices(process.env, config);
    embedded = started.services;
    config = started.config;
  }

  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.register({
        config,
        embedded,
        tracing,
        // The library reports; the application decides to exit 1.
        onShutdownDeadline: (report) => {
          logger.error(
            `Shutdown deadline of ${report.timeoutMs} ms passed after ${Math.round(report.elapsedMs)} ms; still open: ${
              report.open.length > 0 ? report.open.join(', ') : 'nothing reported'
            }. Exiting with code 1.`,
          );
          process.exit(1);
        },
      }),
      { bufferLogs: false, ...(traceLogger ? { logger: traceLogger } : {}) },
    );
  } catch (error) {
    await stopAll(embedded);
    await tracing?.shutdown();
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // SIGTERM/SIGINT run Nest's shutdown (readiness 503, drain, server close, pools), then exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const server = await app.listen(config.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  app.get(ReadinessState).markReady();

  logger.log(`CodeBot (${config.appEnv}) listening on http://127.0.0.1:${port}`);
  logger.log(`  webhook  POST http://127.0.0.1:${port}/telegram/webhook`);
  logger.log(`  API      http://127.0.0.1:${port}/api/snippets`);
  if (config.apiTokenSecret !== undefined) {
    logger.log(
      `  API keys required for writes (API_TOKEN_SECRET${config.apiTokenPreviousSecret !== undefined ? ', and API_TOKEN_PREVIOUS_SECRET during the rotation' : ''}); reads are public`,
    );
  } else {
    // Only reachable in development: validation requires the secret in staging and production.
    logger.warn(
      '  API keys OFF: anyone can write or delete any snippet. Set API_TOKEN_SECRET to require them.',
    );
  }
  logger.log(`  health   http://127.0.0.1:${port}/health (live, ready, startup)`);
  if (config.metricsPort === undefined) logger.log(`  metrics  http://127.0.0.1:${port}/metrics`);
  if (tracing) {
    logger.log(
      `  tracing  ${tracing.settings.protocol} to ${redact(tracing.settings.tracesUrl)} as service "${tracing.settings.serviceName}"`,
    );
  }
  for (const service of embedded) {
    logger.log(
      `  dev      ${service.name} at ${redact(service.url)}${service.note ? ` — ${service.note}` : ''}`,
    );
  }
  // A line tests and scripts can wait for.
  process.stdout.write(`CODEBOT_READY port=${port}\n`);
}

/** Runs {@link bootstrap}; a failure is printed (redacted) and ends the process with exit 1. */
export function run(tracing: Tracing | undefined): void {
  bootstrap(tracing).catch((error: unknown) => {
    process.stderr.write(
      `CodeBot failed to start: ${redact(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
    );
    process.exit(1);
  });
}
