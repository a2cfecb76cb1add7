import type { RawAppIssue } from '../config/app-config.js';

/** The OTLP encodings CodeBot exports spans with (OTLP over HTTP). */
export const OTLP_HTTP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;

/** One of {@link OTLP_HTTP_PROTOCOLS}. */
export type OtlpHttpProtocol = (typeof OTLP_HTTP_PROTOCOLS)[number];

/** Tracing as the standard `OTEL_*` variables ask for it; `undefined` means tracing is off. */
export interface TracingSettings {
  /**
   * Where spans are posted: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`.
   */
  tracesUrl: string;
  /**
   * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`.
   * @default 'http/protobuf'
   */
  protocol: OtlpHttpProtocol;
  /**
   * `service.name` of every span (`OTEL_SERVICE_NAME`).
   * @default 'codebot'
   */
  serviceName: string;
}

/** `service.name` when `OTEL_SERVICE_NAME` is unset. */
export const DEFAULT_SERVICE_NAME = 'codebot';

const URL_ALLOWED =
  'an http:// or https:// URL of an OTLP/HTTP receiver, e.g. http://collector:4318';
const PROTOCOL_ALLOWED = `${OTLP_HTTP_PROTOCOLS.join(' or ')} (OTLP over HTTP)`;

/** The `OTEL_*` variables CodeBot checks, with what the startup error says is allowed. */
export const TRACING_ENV_VARIABLES = {
  OTEL_SDK_DISABLED: 'true or false',
  OTEL_EXPORTER_OTLP_ENDPOINT: `${URL_ALLOWED} (spans go to <url>/v1/traces)`,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${URL_ALLOWED}, the full traces URL (…/v1/traces)`,
  OTEL_EXPORTER_OTLP_PROTOCOL: PROTOCOL_ALLOWED,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: PROTOCOL_ALLOWED,
  OTEL_SERVICE_NAME: 'a non-empty service name',
} as const;

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function isProtocol(value: string): value is OtlpHttpProtocol {
  return (OTLP_HTTP_PROTOCOLS as readonly string[]).includes(value);
}

/**
 * Reads the standard OpenTelemetry variables: tracing is on when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and `OTEL_SDK_DISABLED` is not `true`.
 * Reads nothing but `env` and loads nothing, so the entry point can call it before any module of
 * the application is loaded. Returns every problem at once, values unmasked (the caller masks).
 */
export function parseTracingConfig(env: Readonly<Record<string, string | undefined>>): {
  settings?: TracingSettings;
  issues: RawAppIssue[];
} {
  const issues: RawAppIssue[] = [];
  const value = (name: keyof typeof TRACING_ENV_VARIABLES): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };
  const bad = (name: keyof typeof TRACING_ENV_VARIABLES) =>
    issues.push({ variable: name, given: env[name], allowed: TRACING_ENV_VARIABLES[name] });

  const disabled = value('OTEL_SDK_DISABLED')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false')
    bad('OTEL_SDK_DISABLED');

  const base = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  const baseUrl = base === undefined ? undefined : httpUrl(base);
  if (base !== undefined && !baseUrl) bad('OTEL_EXPORTER_OTLP_ENDPOINT');
  const traces = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const tracesUrl = traces === undefined ? undefined : httpUrl(traces);
  if (traces !== undefined && !tracesUrl) bad('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');

  let protocol: OtlpHttpProtocol = 'http/protobuf';
  for (const name of [
    'OTEL_EXPORTER_OTLP_PROTOCOL',
    'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  ] as const) {
    const given = value(name);
    if (given === undefined) continue;
    if (isProtocol(given)) protocol = given;
    else bad(name);
  }
  if (env.OTEL_SERVICE_NAME !== undefined && value('OTEL_SERVICE_NAME') === undefined) {
    bad('OTEL_SERVICE_NAME');
  }

  if (issues.length > 0 || disabled === 'true') return { issues };
  let url: string | undefined = tracesUrl ? traces : undefined;
  // The signal path is appended to the base endpoint, as the OTLP exporter specification says.
  if (url === undefined && base !== undefined) url = `${base.replace(/\/+$/, '')}/v1/traces`;
  if (url === undefined) return { issues };
  return {
    issues,
    settings: {
      tracesUrl: url,
      protocol,
      serviceName: value('OTEL_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME,
    },
  };
}
