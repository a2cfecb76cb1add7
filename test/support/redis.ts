import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { POOL_METRICS_REGISTRY } from '@nest-pools/core';
import { RedisPoolModule, RedisPoolService } from '@nest-pools/redis';
import {
  type RedisProcess,
  type RedisTestServer,
  spawnRedisProcess,
  startRedis,
  waitFor,
} from '@nest-pools/testing';
import type { DynamicModule, Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

/** Options of one `RedisPoolModule.forRoot()` call. */
export type RedisPoolOptions = Parameters<typeof RedisPoolModule.forRoot>[0];

/** What {@link startRedisHarness} builds. */
export interface RedisHarnessOptions {
  /** Extra `redis-server` arguments (see `startRedis`). */
  serverArgs?: string[];
  /** The pools to register, given the running server (`server.url` for the address). */
  pools: (server: RedisTestServer) => RedisPoolOptions[];
  /** More imports of the testing module. */
  imports?: DynamicModule[];
  /** More providers of the testing module. */
  providers?: Provider[];
}

/** A real redis-server and an initialised testing module with `RedisPoolModule` on it. */
export interface RedisHarness {
  readonly server: RedisTestServer;
  readonly moduleRef: TestingModule;
  readonly pools: RedisPoolService;
  /** The module's own metrics registry (fresh per testing module). */
  readonly registry: Registry;
  /** Server-side client names starting with `prefix` (see {@link poolConnections}). */
  connections(prefix?: string): Promise<string[]>;
  /** Closes the module, then stops the server. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Connections open on `server` whose CLIENT SETNAME starts with `prefix`, as the server lists
 * them (`CLIENT LIST`): a count that does not depend on timing.
 */
export async function poolConnections(
  server: RedisTestServer,
  prefix = 'nest-pools:',
): Promise<string[]> {
  const admin = new Redis(server.url);
  try {
    const list = await admin.client('LIST');
    return String(list)
      .split('\n')
      .map((line) => /name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((name) => name.startsWith(prefix));
  } finally {
    admin.disconnect();
  }
}

/**
 * Starts a redis-server through the test kit and an initialised testing module with one
 * `RedisPoolModule.forRoot()` per entry of `pools`. Call `close()` in `afterAll`.
 */
export async function startRedisHarness(options: RedisHarnessOptions): Promise<RedisHarness> {
  const server = await startRedis(options.serverArgs ? { args: options.serverArgs } : undefined);
  let moduleRef: TestingModule;
  try {
    moduleRef = await Test.createTestingModule({
      imports: [
        ...options.pools(server).map((pool) => RedisPoolModule.forRoot(pool)),
        ...(options.imports ?? []),
      ],
      providers: options.providers ?? [],
    }).compile();
    await moduleRef.init();
  } catch (err) {
    await server.stop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    server,
    moduleRef,
    pools: moduleRef.get(RedisPoolService),
    registry: moduleRef.get<Registry>(POOL_METRICS_REGISTRY),
    connections: (prefix) => poolConnections(server, prefix),
    close: () =>
      (closing ??= (async () => {
        try {
          await moduleRef.close();
        } finally {
          await server.stop();
        }
      })()),
  };
}

async function clusterState(node: RedisProcess): Promise<string | undefined> {
  const client = new Redis({ host: node.host, port: node.port, lazyConnect: true });
  try {
    await client.connect();
    const info = await client.cluster('INFO');
    return /cluster_state:(\w+)/.exec(String(info))?.[1];
  } finally {
    client.disconnect();
  }
}

/**
 * Starts `masters` redis-server processes in cluster mode on loopback, joins them into one
 * cluster without replicas (`redis-cli --cluster create`) and waits until every node reports
 * `cluster_state:ok`. Stop each node in `afterAll`.
 */
export async function startRedisCluster(masters = 3): Promise<RedisProcess[]> {
  const nodes: RedisProcess[] = [];
  for (let i = 0; i < masters; i++) {
    nodes.push(
      await spawnRedisProcess({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
      }),
    );
  }
  await promisify(execFile)('redis-cli', [
    '--cluster',
    'create',
    ...nodes.map((n) => `${n.host}:${n.port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const node of nodes) {
    await waitFor(async () => (await clusterState(node)) === 'ok', {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: `cluster_state:ok on ${node.port}`,
    });
  }
  return nodes;
}

/** A Redis Cluster and an initialised testing module with one `RedisPoolModule` on it. */
export interface RedisClusterHarness {
  readonly nodes: RedisProcess[];
  readonly moduleRef: TestingModule;
  /** Closes the module, then stops every node. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * {@link startRedisCluster}, then a testing module with `RedisPoolModule.forRoot()` of `pool`
 * pointed at every node. Call `close()` in `afterAll`.
 */
export async function startRedisClusterHarness(
  pool: Omit<RedisPoolOptions, 'clusterNodes'>,
  masters = 3,
): Promise<RedisClusterHarness> {
  const nodes = await startRedisCluster(masters);
  const stopNodes = () => Promise.all(nodes.map((n) => n.stop())).then(() => undefined);
  let moduleRef: TestingModule;
  try {
    moduleRef = await Test.createTestingModule({
      imports: [
        RedisPoolModule.forRoot({
          ...pool,
          clusterNodes: nodes.map((n) => ({ host: n.host, port: n.port })),
        }),
      ],
    }).compile();
    await moduleRef.init();
  } catch (err) {
    await stopNodes();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    nodes,
    moduleRef,
    close: () =>
      (closing ??= (async () => {
        try {
          await moduleRef.close();
        } finally {
          await stopNodes();
        }
      })()),
  };
}
