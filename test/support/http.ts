import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { getHttpPoolToken, HttpPoolModule } from '@nest-pools/http';
import {
  type HttpTestUpstream,
  type HttpUpstreamOptions,
  startHttpUpstream,
} from '@nest-pools/testing';
import type { HttpService } from '@nestjs/axios';
import type { Provider } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Registry } from 'prom-client';

/** Options of one `HttpPoolModule.forRoot()` call. */
export type HttpPoolOptions = Parameters<typeof HttpPoolModule.forRoot>[0];

/** What {@link startHttpHarness} builds. */
export interface HttpHarnessOptions {
  /** Options of the local upstream (routes, keep-alive, handler). */
  upstream?: HttpUpstreamOptions;
  /** The pooled clients to register, given the running upstream (`upstream.url`). */
  pools: (upstream: HttpTestUpstream) => HttpPoolOptions[];
  /** More providers of the testing module. */
  providers?: Provider[];
}

/** A local HTTP upstream and an initialised testing module with `HttpPoolModule` on it. */
export interface HttpHarness {
  readonly upstream: HttpTestUpstream;
  readonly moduleRef: TestingModule;
  /** The module's own metrics registry (fresh per testing module). */
  readonly registry: Registry;
  /** The `HttpService` of the pooled client `name` (default: the default client). */
  http(name?: string): HttpService;
  /** Sum of `http_client_retries_total` for `reason`, over every client and origin. */
  retries(reason: string): Promise<number>;
  /** Closes the module, then the upstream. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts the test kit's HTTP upstream and an initialised testing module with one
 * `HttpPoolModule.forRoot()` per entry of `pools`. Call `close()` in `afterAll`.
 */
export async function startHttpHarness(options: HttpHarnessOptions): Promise<HttpHarness> {
  const upstream = await startHttpUpstream(options.upstream);
  let moduleRef: TestingModule;
  try {
    moduleRef = await Test.createTestingModule({
      imports: options.pools(upstream).map((pool) => HttpPoolModule.forRoot(pool)),
      providers: options.providers ?? [],
    }).compile();
    await moduleRef.init();
  } catch (err) {
    await upstream.close();
    throw err;
  }
  const registry = moduleRef.get<Registry>(POOL_METRICS_REGISTRY);
  let closing: Promise<void> | undefined;
  return {
    upstream,
    moduleRef,
    registry,
    http: (name) => moduleRef.get<HttpService>(getHttpPoolToken(name)),
    retries: async (reason) => {
      const text = await registry.metrics();
      const pattern = /^http_client_retries_total\{([^}]*)\} (\d+)$/gm;
      let sum = 0;
      for (const [, labels, value] of text.matchAll(pattern)) {
        if (labels?.includes(`reason="${reason}"`)) sum += Number(value);
      }
      return sum;
    },
    close: () =>
      (closing ??= (async () => {
        try {
          await moduleRef.close();
        } finally {
          await upstream.close();
        }
      })()),
  };
}

/**
 * An initialised testing module with one `HttpPoolModule.forRoot()` per entry of `clients`, whose
 * env variables come from `env` through `ConfigService` (the process env is not read for them).
 */
export async function startHttpPoolsWithEnv(
  env: Record<string, string>,
  ...clients: HttpPoolOptions[]
): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => env] }),
      ...clients.map((options) => HttpPoolModule.forRoot(options)),
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}
