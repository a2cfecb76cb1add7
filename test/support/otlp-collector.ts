import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { closeHttpServer } from '../../apps/codebot/src/shutdown/close-http-server.js';

/** An attribute value as OTLP/JSON encodes it. */
type OtlpAnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpAnyValue[] };
};

interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

interface OtlpJsonTraces {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{
      scope?: { name?: string };
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: OtlpKeyValue[];
        status?: { code?: number };
      }>;
    }>;
  }>;
}

/** A plain attribute value (arrays joined with commas). */
export type AttributeValue = string | number | boolean;

/** One exported span, flattened. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** `SERVER`, `CLIENT`, `INTERNAL`, … */
  kind: string;
  /** Instrumentation scope, e.g. `@opentelemetry/instrumentation-ioredis`. */
  scope: string;
  attributes: Record<string, AttributeValue>;
  resource: Record<string, AttributeValue>;
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

function plain(value: OtlpAnyValue): AttributeValue {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return (value.arrayValue?.values ?? []).map(plain).join(',');
}

function attributesOf(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]));
}

/**
 * A fake OpenTelemetry collector: an OTLP/HTTP receiver on 127.0.0.1 that accepts
 * `POST /v1/traces` (or `tracesPath`) and keeps every span sent in the JSON encoding
 * (`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json`); protobuf exports are accepted and counted,
 * not decoded. Every request it receives is recorded, so a test can also see export attempts of
 * other signals, or any at all.
 */
export class OtlpCollector {
  /** Every span received, in arrival order. */
  readonly spans: CollectedSpan[] = [];
  /** Requests received, `METHOD path content-type body|empty` each. */
  readonly requests: string[] = [];
  private server?: Server;
  private baseUrl?: string;

  /** @param tracesPath Where spans are accepted. */
  constructor(private readonly tracesPath = '/v1/traces') {}

  /** Starts listening on a free port; returns the base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const type = req.headers['content-type'] ?? '';
        const body = Buffer.concat(chunks);
        this.requests.push(
          `${req.method} ${req.url} ${type} ${body.length > 0 ? 'body' : 'empty'}`,
        );
        if (req.method !== 'POST' || req.url !== this.tracesPath) {
          res.writeHead(404).end();
          return;
        }
        if (type === 'application/json') {
          try {
            this.receive(JSON.parse(body.toString('utf8')) as OtlpJsonTraces);
          } catch {
            res.writeHead(400).end();
            return;
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  /** Base URL; throws before {@link start}. */
  get url(): string {
    if (!this.baseUrl) throw new Error('Collector not started; call start() first');
    return this.baseUrl;
  }

  /** Every span of one trace. */
  trace(traceId: string): CollectedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  /** Stops listening and closes every socket. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeHttpServer(server);
  }

  private receive(body: OtlpJsonTraces): void {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const resource = attributesOf(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          this.spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: KINDS[span.kind] ?? String(span.kind),
            scope: scopeSpans.scope?.name ?? '',
            attributes: attributesOf(span.attributes),
            resource,
          });
        }
      }
    }
  }
}
