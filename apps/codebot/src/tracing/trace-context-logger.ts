import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { trace } from '@opentelemetry/api';

/**
 * Nest's console logger, plus the ids of the active span on every line written while one is
 * active (inside a traced request): `… trace_id=<32 hex> span_id=<16 hex>` in text, `trace_id`
 * and `span_id` fields in JSON mode. Lines outside any span are unchanged.
 */
export class TraceContextLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    const span = trace.getActiveSpan()?.spanContext();
    if (span === undefined || !trace.isSpanContextValid(span)) {
      super.printMessages(messages, context, logLevel, writeStreamType, errorStack, params);
      return;
    }
    const ids = { trace_id: span.traceId, span_id: span.spanId };
    if (this.options.json) {
      super.printMessages(messages, context, logLevel, writeStreamType, errorStack, {
        ...params,
        ...ids,
      });
      return;
    }
    const suffix = ` trace_id=${ids.trace_id} span_id=${ids.span_id}`;
    super.printMessages(
      messages.map((message) => (typeof message === 'string' ? `${message}${suffix}` : message)),
      context,
      logLevel,
      writeStreamType,
      errorStack,
      params,
    );
  }
}
