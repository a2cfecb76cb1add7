import { jest } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

import { TraceContextLogger } from './trace-context-logger.js';

const TRACE_ID = '5b8aa5a2d2c872e8321cf37308d69df2';
const SPAN_ID = '051581bf3cb55c13';

describe('TraceContextLogger', () => {
  let written: string[];
  let restore: () => void;

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => context.disable());

  beforeEach(() => {
    written = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    restore = () => write.mockRestore();
  });
  afterEach(() => restore());

  const inSpan = (fn: () => void) =>
    context.with(
      trace.setSpan(
        context.active(),
        trace.wrapSpanContext({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }),
      ),
      fn,
    );

  it('appends the active span’s ids to text lines, and leaves other lines alone', () => {
    const logger = new TraceContextLogger({ colors: false });
    inSpan(() => logger.log('inside', 'Test'));
    logger.log('outside', 'Test');
    expect(written).toHaveLength(2);
    expect(written[0]).toContain(`[Test] inside trace_id=${TRACE_ID} span_id=${SPAN_ID}`);
    expect(written[1]).toContain('[Test] outside');
    expect(written[1]).not.toContain('trace_id');
  });

  it('adds trace_id and span_id fields in JSON mode', () => {
    const logger = new TraceContextLogger({ json: true, colors: false });
    inSpan(() => logger.warn('inside', 'Test'));
    logger.warn('outside', 'Test');
    const [inside, outside] = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ message: 'inside', context: 'Test' });
    expect(JSON.stringify(inside)).toContain(`"trace_id":"${TRACE_ID}"`);
    expect(JSON.stringify(inside)).toContain(`"span_id":"${SPAN_ID}"`);
    expect(JSON.stringify(outside)).not.toContain('trace_id');
  });
});
