import { register } from 'node:module';

import { outboundUrlAttributes, redactSpanPath, redactSpanUrl } from './span-attributes.js';
import type { TracingSettings } from './tracing-config.js';

/** The running OpenTelemetry SDK, as the rest of CodeBot sees it. */
export interface Tracing {
  /** What tracing was started with. */
  readonly settings: TracingSettings;
  /** Exports the spans still buffered and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
}

/** Incoming requests never traced: probes and scrapes would drown the traces that matter. */
const UNTRACED_PATHS = /^\/(health(\/(live|ready|startup))?|metrics)\/?(\?|$)/;

/**
 * Starts the OpenTelemetry Node SDK with the instrumentations of CodeBot's stack (`http` for the
 * server, `express` for route names, `mongodb`, `ioredis`, `undici` for the HTTP pools) and the
 * OTLP/HTTP exporter the standard `OTEL_*` variables configure.
 *
 * Must run before any module it instruments is loaded: the drivers are CommonJS, but the
 * application imports them from ES modules, which only the ESM loader hook of
 * import-in-the-middle can intercept. The hook is registered here for exactly the modules the
 * instrumentations ask for (the message channel tells the loader which ones), then the SDK starts.
 * Nothing of this is loaded when tracing is off.
 */
export async function startTracing(settings: TracingSettings): Promise<Tracing> {
  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const [
    { NodeSDK },
    { HttpInstrumentation },
    { ExpressInstrumentation, ExpressLayerType },
    { MongoDBInstrumentation },
    { IORedisInstrumentation },
    { UndiciInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-express'),
    import('@opentelemetry/instrumentation-mongodb'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-undici'),
  ]);

  const sdk = new NodeSDK({
    // OTEL_SERVICE_NAME, when set, is what `settings` carries as well.
    serviceName: settings.serviceName,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        startIncomingSpanHook: (request) => ({
          'url.path': redactSpanPath((request.url ?? '/').split('?')[0] ?? '/'),
        }),
        startOutgoingSpanHook: (request) => {
          const protocol = request.protocol ?? 'http:';
          const host = request.hostname ?? request.host ?? 'localhost';
          const port = request.port ? `:${String(request.port)}` : '';
          return {
            'url.full': redactSpanUrl(`${protocol}//${host}${port}${request.path ?? '/'}`),
          };
        },
      }),
      // Route names (`GET /api/snippets/:owner/:name`) for the server span; one span for the
      // route's handler, none for each middleware.
      new ExpressInstrumentation({
        ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
      }),
      new MongoDBInstrumentation(),
      new IORedisInstrumentation(),
      new UndiciInstrumentation({
        startSpanHook: (request) => outboundUrlAttributes(`${request.origin}${request.path}`),
      }),
    ],
    // Traces only: metrics stay on /metrics (Prometheus), logs on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();

  let stopped: Promise<void> | undefined;
  return {
    settings,
    shutdown: () => (stopped ??= sdk.shutdown()),
  };
}
