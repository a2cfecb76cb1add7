import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { ReadinessState, ShutdownCoordinator, ShutdownModule } from '@nest-pools/core';
import {
  Controller,
  Get,
  type INestApplication,
  Injectable,
  type OnModuleInit,
  Res,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';

const SLOW_MS = 400;
const DRAIN_MS = 150;

/** Everything that happens, in order. */
@Injectable()
class EventLog {
  readonly events: string[] = [];
  push(event: string): void {
    this.events.push(event);
  }
  indexOf(event: string): number {
    const i = this.events.indexOf(event);
    if (i < 0) throw new Error(`event "${event}" never happened; got ${this.events.join(', ')}`);
    return i;
  }
}

@Controller()
class ProbeController {
  constructor(
    private readonly readiness: ReadinessState,
    private readonly log: EventLog,
  ) {}

  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    this.log.push('slow:start');
    await sleep(SLOW_MS);
    this.log.push('slow:end');
    return { ok: true };
  }

  /** Headers go out at once (promising keep-alive), the body ends later. */
  @Get('stream')
  async stream(
    @Res()
    res: {
      writeHead(status: number, headers: Record<string, string>): unknown;
      write(chunk: string): boolean;
      end(chunk: string): unknown;
    },
  ): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first;');
    this.log.push('stream:start');
    await sleep(SLOW_MS);
    res.end('last');
    this.log.push('stream:end');
  }

  @Get('ready')
  ready(@Res({ passthrough: true }) res: { status(code: number): unknown }): { phase: string } {
    if (!this.readiness.isReady()) res.status(503);
    return { phase: this.readiness.phase };
  }
}

/** Three stand-ins for pool modules, registered out of order, closing with real async work. */
@Injectable()
class FakePools implements OnModuleInit {
  constructor(
    private readonly coordinator: ShutdownCoordinator,
    private readonly log: EventLog,
  ) {}

  onModuleInit(): void {
    const orders = { http: 100, redis: 200, mongo: 300 } as const;
    for (const phase of ['mongo', 'http', 'redis'] as const) {
      this.coordinator.register({
        name: `${phase} "default"`,
        phase,
        order: orders[phase],
        close: async () => {
          this.log.push(`close:${phase}:start`);
          await sleep(20);
          this.log.push(`close:${phase}:end`);
        },
      });
    }
  }
}

interface Reply {
  status: number;
  body: string;
  connection: string | undefined;
}

function get(port: number, path: string, agent: http.Agent | false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }),
      );
    });
    req.on('error', reject);
  });
}

describe('graceful shutdown of a Nest app (ShutdownModule)', () => {
  let app: INestApplication;
  let log: EventLog;
  let port: number;
  const agent = new http.Agent({ keepAlive: true });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ShutdownModule.forRoot({ drainDelayMs: DRAIN_MS, timeoutMs: 10_000 })],
      controllers: [ProbeController],
      providers: [EventLog, FakePools],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as http.Server;
    // Long enough that waiting for an idle keep-alive socket to time out would show.
    server.keepAliveTimeout = 20_000;
    port = (server.address() as AddressInfo).port;
    log = app.get(EventLog);
    server.on('close', () => log.push('server:closed'));
    const readiness = app.get(ReadinessState);
    readiness.onChange((phase) => log.push(`readiness:${phase}`));
    readiness.markReady();
  });

  afterAll(async () => {
    agent.destroy();
    await app.close();
  });

  it('flips readiness before the server closes, drains in-flight work, then closes pools in order', async () => {
    // Before shutdown, keep-alive is honoured.
    expect(await get(port, '/ready', agent)).toMatchObject({
      status: 200,
      connection: 'keep-alive',
    });

    // Requests in flight on keep-alive connections when shutdown begins: one whose response has
    // not started, one whose headers already went out promising keep-alive.
    const inFlight = get(port, '/slow', agent);
    const streaming = get(port, '/stream', agent);
    while (!log.events.includes('slow:start') || !log.events.includes('stream:start')) {
      await sleep(5);
    }

    const started = performance.now();
    const closing = app.close();

    // During the drain delay the server still accepts (here on the idle keep-alive socket from
    // before), readiness already says 503 and the connection is released with the response.
    const ready = await get(port, '/ready', agent);
    log.push('ready:answered');
    expect(ready.status).toBe(503);
    expect(ready.connection).toBe('close');
    expect(JSON.parse(ready.body)).toEqual({ phase: 'draining' });

    const slow = await inFlight;
    expect(slow.status).toBe(200);
    expect(JSON.parse(slow.body)).toEqual({ ok: true });
    // The keep-alive connection is released with the response instead of idling until timeout.
    expect(slow.connection).toBe('close');

    const stream = await streaming;
    expect(stream).toMatchObject({ status: 200, body: 'first;last', connection: 'keep-alive' });

    await closing;
    // Far below server.keepAliveTimeout (20 s): no keep-alive socket held the close up, not even
    // the one whose response had promised keep-alive before shutdown began.
    expect(performance.now() - started).toBeLessThan(10_000);

    const at = (e: string) => log.indexOf(e);
    expect(at('readiness:draining')).toBeLessThan(at('ready:answered'));
    expect(at('ready:answered')).toBeLessThan(at('server:closed'));
    expect(at('slow:start')).toBeLessThan(at('readiness:draining'));
    expect(at('slow:end')).toBeLessThan(at('server:closed'));
    expect(at('stream:end')).toBeLessThan(at('server:closed'));
    expect(log.events.slice(at('server:closed'))).toEqual([
      'server:closed',
      'close:http:start',
      'close:http:end',
      'close:redis:start',
      'close:redis:end',
      'close:mongo:start',
      'close:mongo:end',
      'readiness:stopped',
    ]);

    // Nothing listens any more.
    await expect(get(port, '/ready', false)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
