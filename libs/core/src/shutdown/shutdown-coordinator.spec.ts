import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';

import type {
  ShutdownDeadlineReport,
  ShutdownModuleOptions,
} from './interfaces/shutdown-module-options.interface.js';
import { ReadinessState } from './readiness-state.js';
import { ShutdownModule } from './shutdown.module.js';
import { SHUTDOWN_MODULE_OPTIONS } from './shutdown.module-definition.js';
import { ShutdownCoordinator } from './shutdown-coordinator.js';

/** The orders the three nest-pools libraries register with (each lib owns its constant). */
const ORDER: Record<string, number> = { http: 100, redis: 200, mongo: 300 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function setup(options: ShutdownModuleOptions = {}) {
  const readiness = new ReadinessState();
  const coordinator = new ShutdownCoordinator(options, readiness);
  const events: string[] = [];
  /** A closer doing real async work (a timer), recording when it starts and ends. */
  const add = (name: string, phase: string, ms = 5, extra: { timeoutMs?: number } = {}) =>
    coordinator.register({
      name,
      phase,
      order: ORDER[phase] ?? 150,
      ...extra,
      close: async () => {
        events.push(`start ${name}`);
        await sleep(ms);
        events.push(`end ${name}`);
      },
    });
  return { readiness, coordinator, events, add };
}

describe('ShutdownCoordinator', () => {
  let errors: string[];
  beforeEach(() => {
    errors = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('closes http → redis → mongo whatever the registration order, one group at a time', async () => {
    const { coordinator, events, add, readiness } = setup();
    add('mongo "default"', 'mongo', 5);
    add('redis "cache"', 'redis', 20);
    add('http "github"', 'http', 10);
    add('redis "queue"', 'redis', 5);
    add('http "telegram"', 'http', 5);
    readiness.markReady();

    await coordinator.closeAll();

    const ends = (prefix: string) =>
      events.filter((e) => e.startsWith(`end ${prefix}`)).map((e) => events.indexOf(e));
    const starts = (prefix: string) =>
      events.filter((e) => e.startsWith(`start ${prefix}`)).map((e) => events.indexOf(e));
    expect(Math.max(...ends('http'))).toBeLessThan(Math.min(...starts('redis')));
    expect(Math.max(...ends('redis'))).toBeLessThan(Math.min(...starts('mongo')));
    // Closers of one group run concurrently.
    expect(events.slice(0, 2).sort()).toEqual(['start http "github"', 'start http "telegram"']);
    expect(events).toHaveLength(10);
    expect(readiness.phase).toBe('stopped');
    expect(errors).toEqual([]);
  });

  it('is idempotent: every caller awaits the same run, each closer runs once', async () => {
    const { coordinator, events, add } = setup();
    add('redis', 'redis');
    const first = coordinator.closeAll();
    const second = coordinator.closeAll();
    expect(second).toBe(first);
    await Promise.all([first, second, coordinator.closeAll()]);
    expect(events).toEqual(['start redis', 'end redis']);
  });

  it('a failing closer is logged redacted and does not stop the others', async () => {
    const { coordinator, events, add } = setup();
    coordinator.register({
      name: 'redis "cache"',
      phase: 'redis',
      order: ORDER.redis ?? 0,
      close: () => Promise.reject(new Error('QUIT failed on redis://:hunter2@cache:6379')),
    });
    add('mongo', 'mongo');
    add('http', 'http');
    await expect(coordinator.closeAll()).resolves.toBeUndefined();
    expect(events).toEqual(['start http', 'end http', 'start mongo', 'end mongo']);
    expect(errors.join('\n')).toContain('Closing redis "cache" failed: Error: QUIT failed');
    expect(errors.join('\n')).not.toContain('hunter2');
    expect(coordinator.describeOpen()).toEqual(['redis "cache"']);
  });

  it('bounds each closer by its own timeout and moves on', async () => {
    const { coordinator, events, add } = setup({ timeoutMs: 10_000 });
    let release!: () => void;
    coordinator.register({
      name: 'redis "stuck"',
      phase: 'redis',
      order: ORDER.redis ?? 0,
      timeoutMs: 30,
      close: () => new Promise<void>((resolve) => (release = resolve)),
      describeOpen: () => ['1 dedicated connection in use'],
    });
    add('mongo', 'mongo');
    await coordinator.closeAll();
    expect(events).toEqual(['start mongo', 'end mongo']);
    expect(errors.join('\n')).toMatch(
      /Closing redis "stuck" failed: PoolTimeoutError: .*timed out after 30 ms/,
    );
    expect(errors.join('\n')).toContain('still open: redis "stuck": 1 dedicated connection in use');

    // Finishing late still counts as closed.
    release();
    await sleep(0);
    expect(coordinator.describeOpen()).toEqual([]);
  });

  it('deadline: reports what is still open and calls onDeadline, with an unref’d timer', async () => {
    let resolveReport!: (r: unknown) => void;
    const reported = new Promise((resolve) => (resolveReport = resolve));
    const { coordinator, add } = setup({ timeoutMs: 40, onDeadline: (r) => resolveReport(r) });
    add('http "github"', 'http', 1);
    coordinator.register({
      name: 'redis "cache"',
      phase: 'redis',
      order: ORDER.redis ?? 0,
      timeoutMs: 2000,
      close: () => sleep(150),
      describeOpen: () => ['2 commands in flight', 'subscriber on redis://u:pw123@h:6379'],
    });
    add('mongo "default"', 'mongo', 1);

    const timerSpy = jest.spyOn(globalThis, 'setTimeout');
    const closing = coordinator.closeAll();
    const deadlineTimer = timerSpy.mock.results[0]?.value as NodeJS.Timeout;
    timerSpy.mockRestore();
    expect(deadlineTimer.hasRef()).toBe(false);

    const report = (await reported) as { open: string[]; timeoutMs: number; elapsedMs: number };
    expect(report.timeoutMs).toBe(40);
    expect(report.elapsedMs).toBeGreaterThanOrEqual(35);
    expect(report.open).toEqual([
      'redis "cache": 2 commands in flight',
      'redis "cache": subscriber on redis://u:***@h:6379',
      'mongo "default"',
    ]);
    expect(errors.join('\n')).toContain('Shutdown deadline of 40 ms passed; still open:');
    await closing;
  });

  it('orders are open: a pool kind core has never heard of closes at its own order', async () => {
    const { coordinator, events, add } = setup();
    add('mongo', 'mongo', 1);
    add('toy queue', 'toy-queue', 1); // order 150: after HTTP, before Redis
    add('redis', 'redis', 1);
    add('http', 'http', 1);
    await coordinator.closeAll();
    expect(events.filter((e) => e.startsWith('end'))).toEqual([
      'end http',
      'end toy queue',
      'end redis',
      'end mongo',
    ]);
  });

  it('a closer registered while an earlier group closes still closes in its turn', async () => {
    const { coordinator, events, add } = setup();
    coordinator.register({
      name: 'http',
      phase: 'http',
      order: 100,
      close: async () => {
        events.push('start http');
        add('late mongo', 'mongo', 1);
        await sleep(1);
        events.push('end http');
      },
    });
    await coordinator.closeAll();
    expect(events).toEqual(['start http', 'end http', 'start late mongo', 'end late mongo']);
  });

  it('clears the deadline when everything closed in time', async () => {
    const onDeadline = jest.fn<(report: ShutdownDeadlineReport) => void>();
    const { coordinator, add } = setup({ timeoutMs: 40, onDeadline });
    add('http', 'http', 1);
    await coordinator.closeAll();
    await sleep(60);
    expect(onDeadline).not.toHaveBeenCalled();
  });

  it('a closer registered after its phase ran is closed at once', async () => {
    const { coordinator, events, add } = setup();
    add('mongo', 'mongo', 1);
    await coordinator.closeAll();
    add('late http', 'http', 1);
    await sleep(20);
    expect(events).toContain('end late http');
  });

  it('unregister removes a closer', async () => {
    const { coordinator, events, add } = setup();
    const unregister = add('redis', 'redis');
    unregister();
    await coordinator.closeAll();
    expect(events).toEqual([]);
  });

  it('beforeApplicationShutdown flips readiness at once, then waits the drain delay', async () => {
    const { coordinator, readiness, add, events } = setup({ drainDelayMs: 50 });
    add('redis', 'redis', 1);
    readiness.markReady();
    const phases: string[] = [];
    readiness.onChange((p) => phases.push(p));

    let drained = false;
    const before = coordinator.beforeApplicationShutdown('SIGTERM').then(() => (drained = true));
    expect(readiness.phase).toBe('draining');
    expect(readiness.isShuttingDown()).toBe(true);
    await sleep(10);
    expect(drained).toBe(false);
    await before;
    expect(events).toEqual([]);

    await coordinator.onApplicationShutdown();
    expect(events).toEqual(['start redis', 'end redis']);
    expect(phases).toEqual(['draining', 'stopped']);
  });

  it('reports HTTP requests still in flight when the deadline passes', async () => {
    let finish!: () => void;
    const server = http.createServer((_req, res) => {
      finish = () => res.end('done');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const adapterHost = { httpAdapter: { getHttpServer: () => server } } as HttpAdapterHost;
    const reports: ShutdownDeadlineReport[] = [];
    const coordinator = new ShutdownCoordinator(
      { timeoutMs: 30, onDeadline: (r) => void reports.push(r) },
      new ReadinessState(),
      adapterHost,
    );
    coordinator.onApplicationBootstrap();
    coordinator.register({
      name: 'mongo "default"',
      phase: 'mongo',
      order: ORDER.mongo ?? 0,
      close: () => sleep(1),
    });

    const { port } = server.address() as AddressInfo;
    const response = new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, agent: false }, (res) => {
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    while (coordinator.describeOpen().length < 2) await sleep(5);

    await coordinator.beforeApplicationShutdown();
    while (reports.length === 0) await sleep(5);
    expect(reports[0]?.open).toEqual(['HTTP server: 1 request still in flight', 'mongo "default"']);

    finish();
    expect(await response).toBe('done');
    await new Promise((resolve) => server.close(resolve));
    await coordinator.onApplicationShutdown();
    expect(coordinator.describeOpen()).toEqual([]);
  });

  it('validates its options', () => {
    expect(() => setup({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => setup({ drainDelayMs: -1 })).toThrow(/drainDelayMs/);
  });
});

describe('ReadinessState', () => {
  it('only moves forward', () => {
    const readiness = new ReadinessState();
    expect(readiness.phase).toBe('starting');
    expect(readiness.isReady()).toBe(false);
    readiness.markReady();
    expect(readiness.isReady()).toBe(true);
    readiness.markDraining();
    readiness.markReady();
    expect(readiness.phase).toBe('draining');
    expect(readiness.isReady()).toBe(false);
    readiness.markStopped();
    readiness.markDraining();
    expect(readiness.phase).toBe('stopped');
  });
});

describe('ShutdownModule', () => {
  it('is global by default, forRoot() needs no options and isGlobal: false is honoured', () => {
    expect(ShutdownModule.forRoot().global).toBe(true);
    expect(ShutdownModule.forRoot({ drainDelayMs: 1 }).global).toBe(true);
    expect(ShutdownModule.forRoot({ isGlobal: false }).global).toBe(false);
  });

  it('forRootAsync takes options from a factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ShutdownModule.forRootAsync({ useFactory: () => ({ drainDelayMs: 7 }) })],
    }).compile();
    expect(moduleRef.get(SHUTDOWN_MODULE_OPTIONS)).toEqual({ drainDelayMs: 7 });
    expect(moduleRef.get(ShutdownCoordinator)).toBeInstanceOf(ShutdownCoordinator);
    expect(moduleRef.get(ReadinessState).phase).toBe('starting');
    await moduleRef.close();
  });
});
